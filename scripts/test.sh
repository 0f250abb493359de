#!/usr/bin/env bash
# The whole test run, as CI does it: set up, test against the newest Ultralytics release the version policy admits
# (.venv), then the fast tests and the 'core' slow ones against the oldest supported release (.venv-oldest). Every
# step uses throwaway Ultralytics settings; the measuring tools (python -m bench) are run by tests/test_scripts.py.
# The suite runs in one worker per core (pytest-xdist; work stealing, as test times range from 0.1 s to minutes),
# each worker's torch on one thread, so that two workers do not fight over the same cores.
set -euo pipefail
cd "$(dirname "$0")/.."
parallel=(-n auto --dist worksteal)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

bash scripts/setup.sh
oldest=$(.venv/bin/python -c "
import re, tomllib
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']
print(re.search(r'ultralytics>=([\d.]+)', ' '.join(deps)).group(1))")
# The oldest release's environment is mostly unpacking wheels (disk: 2 of its 5 minutes are CPU time), so it is built
# while the main suite runs, and its log is shown once both are done. It leaves out the edge runtimes (tested with
# Ultralytics 8.4 only; none of the tests it runs uses them).
oldest_log=$(mktemp)
VENV=.venv-oldest EXTRAS=test,export ULTRALYTICS="ultralytics==$oldest" bash scripts/setup.sh >"$oldest_log" 2>&1 &
oldest_setup=$!
main_status=0
.venv/bin/pytest "${parallel[@]}" || main_status=$?
oldest_status=0
wait "$oldest_setup" || oldest_status=$?
cat "$oldest_log"
[ "$main_status" -eq 0 ] || exit "$main_status"
[ "$oldest_status" -eq 0 ] || { echo "setting up .venv-oldest failed (exit $oldest_status)" >&2; exit "$oldest_status"; }
.venv-oldest/bin/pytest "${parallel[@]}" -m "not slow or core"
