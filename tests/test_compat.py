"""The installed Ultralytics is one the plugin works with, and a release that changed an internal fails loudly."""

from __future__ import annotations

import tomllib

import pytest
import ultralytics
from packaging.requirements import Requirement
from packaging.version import Version
from ultralytics.nn import tasks
from ultralytics.nn.modules import HGStem

import ultralytics_shufflenet
from conftest import ROOT
from ultralytics_shufflenet import compat, register, unregister


def ultralytics_requirement() -> Requirement:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return next(Requirement(d) for d in dependencies if d.startswith("ultralytics"))


def test_version_policy_allows_the_tested_range_and_newer_releases_of_the_major() -> None:
    requirement = ultralytics_requirement()
    low, high = compat.TESTED_RANGE
    assert requirement.specifier.contains(ultralytics.__version__), (ultralytics.__version__, str(requirement))
    assert str(min(Version(s.version) for s in requirement.specifier if s.operator == ">=")) == low
    assert requirement.specifier.contains(high) and requirement.specifier.contains("8.99.0")  # no cap before 9
    assert not requirement.specifier.contains("9.0.0")


def test_the_probe_passes_on_the_installed_release() -> None:
    compat.probe()
    assert ultralytics_shufflenet.is_registered()


class WidthChangingHGStem(HGStem):
    """An HGStem as a future release might write it: it no longer outputs the width it is given."""

    def __init__(self, c1: int, cm: int, c2: int):
        super().__init__(c1, cm, c2 + 8)


def test_a_changed_internal_stops_registration_with_a_message_that_names_release_and_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unregister()
    monkeypatch.setattr(tasks, "HGStem", WidthChangingHGStem)  # parse_model resolves layer names in tasks' globals
    monkeypatch.setattr(ultralytics, "__version__", "8.9.9")
    try:
        with pytest.raises(compat.UnsupportedUltralyticsError) as e:
            register()
        message = str(e.value)
        assert "tested with Ultralytics 8.3.100 to 8.4.190; the installed Ultralytics 8.9.9" in message
        assert "the exact-width stand-in (HGStem) keeps the width as written" in message
        assert "pip install 'ultralytics>=8.3.100,<=8.4.190'" in message
        assert not ultralytics_shufflenet.is_registered() and tasks.parse_model is compat.STOCK_PARSE_MODEL
    finally:
        monkeypatch.undo()
        register()
    assert ultralytics_shufflenet.is_registered()


def test_a_builder_that_raises_is_reported_too(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("C2f")

    unregister()
    monkeypatch.setattr(compat, "STOCK_PARSE_MODEL", broken)
    try:
        with pytest.raises(compat.UnsupportedUltralyticsError, match=r"building a plugin model raised KeyError: 'C2f'"):
            register()
    finally:
        monkeypatch.undo()
        register()
