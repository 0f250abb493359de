"""The installed Ultralytics is inside the range pyproject.toml promises (CI runs the oldest and the newest)."""

from __future__ import annotations

import tomllib

import pytest
import ultralytics
from packaging.requirements import Requirement

from conftest import ROOT

pytestmark = pytest.mark.core


def test_installed_ultralytics_is_in_the_supported_range() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    requirement = next(Requirement(d) for d in dependencies if d.startswith("ultralytics"))
    assert requirement.specifier.contains(ultralytics.__version__), (ultralytics.__version__, str(requirement))
    assert requirement.specifier.contains("8.4.190")
    assert any(requirement.specifier.contains(f"8.3.{k}") for k in range(300))  # a release of the 8.3 line
