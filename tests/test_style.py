"""The code base stays ruff clean (lint and format), checked where CI checks everything else."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import ROOT, run


def test_ruff_lint_and_format() -> None:
    ruff = str(Path(sys.executable).with_name("ruff"))
    run(ruff, "check", ".", cwd=ROOT)
    run(ruff, "format", "--check", ".", cwd=ROOT)
