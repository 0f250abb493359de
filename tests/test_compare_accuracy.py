"""bench/accuracy.py helpers that need no training: model specs, where a run is kept, how it is labelled, and the
tables of a protocol carried from docs/ to a machine without its run folders."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bench import accuracy
from bench.accuracy import CHECKPOINT, IMAGENET, SCRATCH, Run, parse_model
from bench.render import write_csv


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


def result(model: str, seed: int, score: float) -> dict:
    """A run's result as the worker writes it, with made-up figures."""
    return {
        "model": model,
        "config": model.split("@")[0],
        "start": SCRATCH,
        "imgsz": 64,
        "seed": seed,
        "mAP50-95": score,
        "mAP50": score,
        "params": 1000,
        "gflops": 0.1,
        "train_minutes": 1.0,
    }


def test_runs_carried_in_runs_csv_without_their_folders_stay_in_the_tables(tmp_path: Path) -> None:
    # docs/'s runs.csv copied into a fresh --out: seed 0 of both models was trained on another machine
    recipe = accuracy.Recipe("coco8.yaml", 1, 64, 4, "auto", 0.01, 0, "disk")
    earlier = [result("a.yaml@64", 0, 0.1), result("b.yaml@64", 0, 0.2), result("b.yaml@64", 1, 0.9)]
    write_csv(tmp_path / "runs.csv", [*earlier, result("a.yaml@64", 1, 0.5)], list(accuracy.RUN_FIELDS))
    # b's seed 1 was trained again here: its folder's result wins over the carried row
    (folder := accuracy.run_folder(tmp_path, "b.yaml@64", 1)).mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps(result("b.yaml@64", 1, 0.3)))
    # a's seed 1 stopped here before its result was written: resumed as any run here, not carried
    accuracy.run_folder(tmp_path, "a.yaml@64", 1).mkdir(parents=True)
    assert [(r["model"], r["seed"]) for r in accuracy.carried_rows(tmp_path)] == [("a.yaml@64", 0), ("b.yaml@64", 0)]
    accuracy.write_tables(tmp_path, recipe, ["a.yaml@64", "b.yaml@64"])
    with open(tmp_path / "runs.csv", newline="") as f:
        rows = [(r["model"], r["seed"], r["mAP50-95"]) for r in csv.DictReader(f)]
    assert rows == [("a.yaml@64", "0", "0.1"), ("b.yaml@64", "0", "0.2"), ("b.yaml@64", "1", "0.3")]
    assert "| b.yaml@64 | scratch | 2 | 0.250 [0.200-0.300] |" in (tmp_path / "accuracy.md").read_text()


def test_tables_are_replaced_whole_so_a_second_lane_never_reads_half_a_file(tmp_path: Path) -> None:
    # two training lanes share one --out: one rewrites runs.csv while the other starts and reads it
    recipe = accuracy.Recipe("coco8.yaml", 1, 64, 4, "auto", 0.01, 0, "disk")
    write_csv(tmp_path / "runs.csv", [result("a.yaml@64", 0, 0.1)], list(accuracy.RUN_FIELDS))
    before = (tmp_path / "runs.csv").read_bytes()
    with open(tmp_path / "runs.csv", "rb") as reader:  # opened before the rewrite, read after it
        (folder := accuracy.run_folder(tmp_path, "b.yaml@64", 0)).mkdir(parents=True)
        (folder / "result.json").write_text(json.dumps(result("b.yaml@64", 0, 0.2)))
        accuracy.write_tables(tmp_path, recipe, ["a.yaml@64", "b.yaml@64"])
        assert reader.read() == before
    assert before.endswith(b"\r\n")  # the csv module's line ends, as every CSV under docs/ has them
    assert b"b.yaml@64" in (tmp_path / "runs.csv").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accuracy.csv", "accuracy.md", "runs", "runs.csv"]
