#!/usr/bin/env bash
# The whole test run, as CI does it: set up, test against the newest Ultralytics release the version policy admits
# (.venv), then the fast tests and the 'core' slow ones against the oldest supported release (.venv-oldest). Every
# step uses throwaway Ultralytics settings; the measurement scripts are run by tests/test_scripts.py.
# The suite runs in one worker per core (pytest-xdist; work stealing, as test times range from 0.1 s to minutes),
# each worker's torch on one thread, so that two workers do not fight over the same cores.
set -euo pipefail
cd "$(dirname "$0")/.."
parallel=(-n auto --dist worksteal)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

bash scripts/setup.sh
.venv/bin/pytest "${parallel[@]}"

oldest=$(.venv/bin/python -c "
import re, tomllib
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']
print(re.search(r'ultralytics>=([\d.]+)', ' '.join(deps)).group(1))")
VENV=.venv-oldest ULTRALYTICS="ultralytics==$oldest" bash scripts/setup.sh
.venv-oldest/bin/pytest "${parallel[@]}" -m "not slow or core"
