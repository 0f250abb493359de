"""scripts/compare_accuracy.py helpers that need no training: where a run is kept and how it is labelled."""

from __future__ import annotations

from pathlib import Path

from compare_accuracy import Run, parse_model


def test_a_yaml_given_by_path_is_kept_under_out_and_labelled_by_its_name(tmp_path: Path) -> None:
    # a user's own YAML outside the project: its runs must land in --out's tables, not next to the YAML
    own = tmp_path / "mine" / "yolo11n-custom.yaml"
    run = Run(*parse_model(f"{own}@256", 320), seed=1)
    assert run.model == "yolo11n-custom.yaml@256"
    assert run.folder(tmp_path / "out") == tmp_path / "out" / "runs" / "yolo11n-custom.yaml-256" / "seed1"
    assert Run(*parse_model("yolo11n.yaml", 320), seed=0).model == "yolo11n.yaml@320"
