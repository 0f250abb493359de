#!/usr/bin/env bash
# Set up .venv for this project on a fresh machine: torch, this package (editable) and its test tools.
# Safe to run again: an existing .venv is reused and pip skips what is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-$(command -v python3.11 || command -v python3)}
# torchvision is needed by Ultralytics; this pair is the one served offline on the project's machines.
torch_packages=${TORCH_PACKAGES:-"torch==2.14.1 torchvision==0.29.1"}

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
# shellcheck disable=SC2086  # the package list is meant to split into words
.venv/bin/python -m pip install -q --disable-pip-version-check $torch_packages
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
.venv/bin/python -c "import ultralytics, torch; print(f'ultralytics {ultralytics.__version__}, torch {torch.__version__}')"
