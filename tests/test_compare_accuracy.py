"""bench/accuracy.py helpers that need no training: model specs, where a run is kept, how it is labelled."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.accuracy import CHECKPOINT, IMAGENET, SCRATCH, Run, parse_model


def run_of(spec: str, seed: int = 0) -> Run:
    config, imgsz, start = parse_model(spec, 320)
    return Run(config, imgsz, seed, start)


def test_a_yaml_given_by_path_is_kept_under_out_and_labelled_by_its_name(tmp_path: Path) -> None:
    # a user's own YAML outside the project: its runs must land in --out's tables, not next to the YAML
    own = tmp_path / "mine" / "yolo11n-custom.yaml"
    run = run_of(f"{own}@256", seed=1)
    assert run.model == "yolo11n-custom.yaml@256"
    assert run.folder(tmp_path / "out") == tmp_path / "out" / "runs" / "yolo11n-custom.yaml-256" / "seed1"
    assert run_of("yolo11n.yaml").model == "yolo11n.yaml@320"


def test_the_start_is_part_of_the_spec_and_of_the_label() -> None:
    assert parse_model("yolo11n.yaml", 320) == ("yolo11n.yaml", 320, SCRATCH)
    wide = run_of("yolo11n-shufflenetv2-wide.yaml+imagenet@256")
    assert (wide.config, wide.imgsz, wide.start) == ("yolo11n-shufflenetv2-wide.yaml", 256, IMAGENET)
    assert wide.model == "yolo11n-shufflenetv2-wide.yaml+imagenet@256"
    assert wide.folder(Path("out")).parent.name == "yolo11n-shufflenetv2-wide.yaml+imagenet-256"
    with pytest.raises(SystemExit, match="the only start a model spec can name is '\\+imagenet'"):
        parse_model("yolo11n.yaml+coco", 320)


def test_a_checkpoint_spec_needs_the_file(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no such file"):
        parse_model(str(tmp_path / "yolo11n.pt"), 320)
    (tmp_path / "yolo11n.pt").write_bytes(b"")
    run = run_of(str(tmp_path / "yolo11n.pt"))
    assert run.start == CHECKPOINT and run.model == "yolo11n.pt@320"
    with pytest.raises(SystemExit, match="a checkpoint brings its own weights"):
        parse_model(f"{tmp_path / 'yolo11n.pt'}+imagenet", 320)
