#!/usr/bin/env bash
# Set up a virtual environment for this project on a fresh machine: torch, this package (editable), its test,
# export and edge-runtime tools. Safe to run again: an existing environment is reused and pip skips what is already installed.
#   VENV=.venv (default)         where to put it
#   ULTRALYTICS=<pip spec>       pin Ultralytics inside the supported range, e.g. ULTRALYTICS=ultralytics==8.3.100
#                                (default: the newest release pyproject.toml admits)
#   TORCH_PACKAGES=<pip specs>   default "torch==2.14.1 torchvision==0.29.1", the pair served offline here
#   EXTRAS=<extras>              default "test,export,edge"; the edge runtimes are tested with Ultralytics 8.4 only
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-$(command -v python3.11 || command -v python3)}
venv=${VENV:-.venv}
torch_packages=${TORCH_PACKAGES:-"torch==2.14.1 torchvision==0.29.1"}
extras=${EXTRAS:-test,export,edge}
pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"${pip[@]}" --upgrade pip
# shellcheck disable=SC2086  # the package lists are meant to split into words
"${pip[@]}" $torch_packages
# shellcheck disable=SC2086
"${pip[@]}" -e ".[$extras]" ${ULTRALYTICS:-}
if [ -z "${ULTRALYTICS:-}" ]; then
  # The newest release the version policy admits, so CI tests what a new install gets on the day it runs.
  policy=$("$venv/bin/python" -c "import tomllib
print(next(d for d in tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'] if d.startswith('ultralytics')))")
  "${pip[@]}" --upgrade --upgrade-strategy only-if-needed "$policy"
fi
# A throwaway settings folder: importing Ultralytics would otherwise write the user's ~/.config/Ultralytics.
YOLO_CONFIG_DIR=$(mktemp -d) "$venv/bin/python" -c \
  "import ultralytics, torch; print(f'$venv: ultralytics {ultralytics.__version__}, torch {torch.__version__}')"
