"""The measuring tools (python path/to/bench <command>) run from any directory, leave the user's settings alone,
and write what they promise.

Their numbers are read by people, not asserted: these machines are shared and noisy.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision

from conftest import ROOT, run

pytestmark = pytest.mark.slow

BENCH = ROOT / "bench"  # run as python path/to/bench, which works from any directory


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """A fresh HOME without YOLO_CONFIG_DIR: anything a script wrote to the user's settings would land here."""
    env = {k: v for k, v in os.environ.items() if k not in ("YOLO_CONFIG_DIR", "ULTRALYTICS_SHUFFLENET_CONFIG_DIR")}
    return {**env, "HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config")}


def run_bench(command: str, *args: str, cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, str(BENCH), command, *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not (Path(env["HOME"]) / ".config" / "Ultralytics").exists(), "the command wrote the user's settings"
    return proc.stdout + proc.stderr


def test_startup_cost_reports_the_hook_and_no_heavy_imports(tmp_path: Path) -> None:
    out = run(sys.executable, str(BENCH), "startup", "--runs", "3", cwd=tmp_path)
    assert "| hook import, -X importtime (ms) |" in out
    assert "Heavy modules imported by start-up: []" in out


def int8_rows(table: Path) -> dict[str, str]:
    """int8.md's accuracy rows by their first cell (the latency table below them, if any, left out)."""
    accuracy = table.read_text().split("Latency of the same exports")[0]
    return {line.split(" | ")[0]: line for line in accuracy.splitlines()}


def test_compare_accuracy_goes_on_from_a_runs_csv_without_training_its_runs_again(
    tmp_path: Path, home: dict[str, str], datasets_dir: Path
) -> None:
    """The protocol's CSV kept under docs/, copied with its recipe into a fresh --out: its runs are not trained."""
    from dataclasses import asdict

    from bench import accuracy
    from bench.render import write_csv

    out = tmp_path / "acc"
    out.mkdir()
    recipe = accuracy.Recipe("coco8.yaml", 1, 64, 4, "SGD", 0.01, 0, "disk")
    (out / "recipe.json").write_text(json.dumps(asdict(recipe)))
    earlier = {"model": "yolo11n.yaml@64", "config": "yolo11n.yaml", "start": "scratch", "imgsz": 64, "mAP50-95": 0.5}
    earlier |= {"mAP50": 0.6, "params": 1000, "gflops": 0.1, "train_minutes": 1.0}
    write_csv(out / "runs.csv", [{**earlier, "seed": 0}, {**earlier, "seed": 1}], list(accuracy.RUN_FIELDS))
    args = ["--data", "coco8.yaml", "--epochs", "1", "--imgsz", "64", "--batch", "4", "--workers", "0"]
    args += ["--datasets", str(datasets_dir), "--out", str(out), "--models", "yolo11n.yaml", "--seeds", "0", "1"]
    printed = run_bench("accuracy", *args, cwd=tmp_path, env=home)
    assert "kept as they are, not trained again" in printed and not (out / "runs").exists()
    assert "| yolo11n.yaml@64 | scratch | 2 | 0.500 [0.500-0.500] |" in (out / "accuracy.md").read_text()


def test_compare_accuracy_trains_each_model_per_seed_and_resumes(
    tmp_path: Path, home: dict[str, str], datasets_dir: Path
) -> None:
    recipe = ["--data", "coco8.yaml", "--epochs", "1", "--imgsz", "64", "--batch", "4", "--workers", "0"]
    args = [*recipe, "--datasets", str(datasets_dir), "--out", str(tmp_path / "acc")]
    args += ["--models", "yolo11n.yaml", "yolo11n-shufflenetv2-pan.yaml@96", "--seeds"]
    run_bench("accuracy", *args, "0", cwd=tmp_path, env=home)
    run_bench("accuracy", *args, "1", cwd=tmp_path, env=home)  # a protocol run in pieces reads as one
    args += ["0", "1"]
    table = (tmp_path / "acc" / "accuracy.md").read_text()
    assert (
        "| yolo11n.yaml@64 | scratch | 2 |" in table and "| yolo11n-shufflenetv2-pan.yaml@96 | scratch | 2 |" in table
    )
    with open(tmp_path / "acc" / "runs.csv") as f:
        runs = list(csv.DictReader(f))
    assert [(r["model"], r["seed"]) for r in runs] == [
        ("yolo11n.yaml@64", "0"),
        ("yolo11n-shufflenetv2-pan.yaml@96", "0"),
        ("yolo11n.yaml@64", "1"),
        ("yolo11n-shufflenetv2-pan.yaml@96", "1"),
    ]
    assert all(Path(r["weights"]).is_file() for r in runs)
    logs = {p: p.stat().st_mtime_ns for p in (tmp_path / "acc" / "runs").rglob("train.log")}
    # a run stopped while validating (weights and every epoch written, no result) is validated, not trained again
    stopped = Path(runs[3]["weights"]).parents[1]
    (stopped / "result.json").unlink()
    trained = {p: p.stat().st_mtime_ns for p in [*stopped.rglob("*.pt"), stopped / "results.csv"]}
    run_bench("accuracy", *args, cwd=tmp_path, env=home)  # finished runs are kept, not redone
    assert len(logs) == 4 and all(p.stat().st_mtime_ns == t for p, t in logs.items() if stopped not in p.parents)
    assert (stopped / "result.json").is_file() and all(p.stat().st_mtime_ns == t for p, t in trained.items())
    other = [*args[: args.index("--epochs") + 1], "2", *args[args.index("--epochs") + 2 :]]
    script = [sys.executable, str(BENCH), "accuracy", *other]
    proc = subprocess.run(script, cwd=tmp_path, env=home, capture_output=True, text=True)
    assert proc.returncode and "holds runs of another recipe" in proc.stderr  # never mixed into one table

    # An ImageNet start, through the converter and the trainer's pretrained= (a stand-in 1.0x file: random weights)
    imagenet = tmp_path / "shufflenetv2_x1-5666bf0f80.pth"
    torch.save(torchvision.models.shufflenet_v2_x1_0(weights=None).state_dict(), imagenet)
    wide = [*args[: args.index("--models")], "--models", "yolo11n-shufflenetv2-wide.yaml+imagenet", "--seeds", "0"]
    run_bench("accuracy", *wide, "--imagenet-weights", str(imagenet), cwd=tmp_path, env=home)
    table = (tmp_path / "acc" / "accuracy.md").read_text()
    assert "| yolo11n-shufflenetv2-wide.yaml+imagenet@64 | imagenet | 1 |" in table
    with open(tmp_path / "acc" / "runs.csv") as f:
        started = next(r for r in csv.DictReader(f) if r["start"] == "imagenet")
    assert started["imagenet_tensors"] == "330" and started["source"] == str(imagenet)
    transferred, total = map(int, started["transferred"].split("/"))
    assert transferred == total > 330  # coco8 has the YAML's 80 classes, so the head transfers too

    # The trade-off picture from those runs: latency of the trained weights, relative to YOLO11n at the recipe's size
    args_t = [str(tmp_path / "acc"), "--rounds", "1", "--iters", "1", "--runtimes", "onnxruntime", "--threads", "1"]
    run_bench("tradeoff", *args_t, cwd=tmp_path, env=home)
    table = (tmp_path / "acc" / "tradeoff.md").read_text()
    assert "| yolo11n.yaml@64 | scratch | 2 |" in table and "(1.00x)" in table
    assert "| yolo11n-shufflenetv2-pan.yaml@96 | scratch |" in table
    assert "| yolo11n-shufflenetv2-wide.yaml+imagenet@64 | imagenet | 1 |" in table
    assert (tmp_path / "acc" / "tradeoff.png").stat().st_size > 0

    # INT8 against FP32 per runtime, from the same trained weights
    args = [str(tmp_path / "acc"), "--models", "yolo11n.yaml@64", "--runtimes", "openvino", "mnn", "--fraction", "1"]
    run_bench("int8", *args, "--rounds", "1", "--iters", "1", "--threads", "1", cwd=tmp_path, env=home)
    table = (tmp_path / "acc" / "int8.md").read_text()
    assert "| yolo11n.yaml@64 |" in table and "failed" not in table
    timed = re.search(
        r"^\| yolo11n.yaml@64 \| 0 \| ([\d.]+) / ([\d.]+) \(1 thr\) \| ([\d.]+) / ([\d.]+) \(1 thr\) \|$", table, re.M
    )
    assert timed and all(float(ms) > 0 for ms in timed.groups()), table  # OpenVINO and MNN, FP32 and INT8
    # a later call adds its models to the table and keeps the earlier ones
    args = [str(tmp_path / "acc"), "--models", "yolo11n-shufflenetv2-pan.yaml@96", "--runtimes", "mnn"]
    run_bench("int8", *args, cwd=tmp_path, env=home)
    rows = int8_rows(tmp_path / "acc" / "int8.md")
    assert "failed" not in rows["| yolo11n.yaml@64"] and "not run" not in rows["| yolo11n.yaml@64"]
    assert rows["| yolo11n-shufflenetv2-pan.yaml@96"].count("not run") == 1  # OpenVINO was not asked for
    assert (
        "| yolo11n-shufflenetv2-pan.yaml@96 | 0 | not timed | not timed |" in (tmp_path / "acc" / "int8.md").read_text()
    )
    # YOLO11n measured again in OpenVINO only keeps its MNN cells from the first call; pan's row is read back from
    # int8.csv and rewritten, its unmeasured OpenVINO cells still "not run", not "failed"
    args = [str(tmp_path / "acc"), "--models", "yolo11n.yaml@64", "--runtimes", "openvino", "--fraction", "1"]
    run_bench("int8", *args, cwd=tmp_path, env=home)
    rows = int8_rows(tmp_path / "acc" / "int8.md")
    assert "not run" not in rows["| yolo11n.yaml@64"] and "failed" not in rows["| yolo11n.yaml@64"]
    assert rows["| yolo11n-shufflenetv2-pan.yaml@96"].count("not run") == 1
    assert "failed" not in rows["| yolo11n-shufflenetv2-pan.yaml@96"]
    timed = re.search(
        r"^\| yolo11n.yaml@64 \| 0 \| not timed \| [\d.]+ / [\d.]+ \(1 thr\) \|$",
        (tmp_path / "acc" / "int8.md").read_text(),
        re.M,
    )
    assert timed  # its new OpenVINO exports were not timed, so the old exports' timing is gone; MNN's stays
    # another seed's trained weights get rows of their own beside seed 0's
    args = [str(tmp_path / "acc"), "--models", "yolo11n.yaml@64", "--runtimes", "mnn", "--seeds", "1"]
    run_bench("int8", *args, cwd=tmp_path, env=home)
    table = (tmp_path / "acc" / "int8.md").read_text().split("Latency of the same exports")[0]
    assert re.search(r"^\| yolo11n.yaml@64 \| 0 \| ", table, re.M) and re.search(
        r"^\| yolo11n.yaml@64 \| 1 \| ", table, re.M
    )


def test_benchmark_writes_raw_samples_and_render_rebuilds_the_report(tmp_path: Path, home: dict[str, str]) -> None:
    out = tmp_path / "bench"
    args = ["--quick", "--models", "yolo11n.yaml", "yolo11n-shufflenetv2-pan.yaml", "--out", str(out)]
    printed = run_bench("latency", *args, cwd=tmp_path, env=home)
    report = (out / "benchmark.md").read_text()
    assert "## Latency: onnxruntime, batch 1" in report and "## Training" in report and report in printed
    assert (out / "benchmark.png").stat().st_size > 0 and json.loads((out / "machine.json").read_text())["command"]
    with open(out / "benchmark.csv") as f:
        latency = [r for r in csv.DictReader(f) if r["metric"] == "latency" and not r["error"]]
    assert {r["runtime"] for r in latency} == {"pytorch", "onnxruntime"} and len(latency) == 4
    (out / "benchmark.md").unlink()
    run_bench("render", str(out), cwd=tmp_path, env=home)
    assert (out / "benchmark.md").read_text() == report


def test_unit_experiment_checks_the_variants_compute_the_same(tmp_path: Path, home: dict[str, str]) -> None:
    args = ["--imgsz", "128", "--rounds", "1", "--iters", "1", "--out", str(tmp_path)]
    out = run_bench("unit", *args, cwd=tmp_path, env=home)
    assert "{'shipped': True, 'stock max-pool stem': True, 'concat+shuffle unit': True}" in out
    assert "head (Detect)" in out and (tmp_path / "unit_experiment.md").is_file()
    with open(tmp_path / "unit_experiment.csv") as f:
        rows = list(csv.DictReader(f))
    latency = {(r["variant"], r["runtime"]) for r in rows if r["metric"] == "latency" and json.loads(r["samples"])}
    assert ("concat+shuffle unit", "ONNX Runtime") in latency and ("shipped", "PyTorch") in latency
    layers = [r["metric"] for r in rows if r["model"] == "yolo26n.yaml" and r["metric"].startswith("layer ")]
    assert layers[0] == "layer 0 Conv" and layers[-1] == "layer 23 Detect"


def test_make_configs_check_passes_on_the_shipped_files(tmp_path: Path, home: dict[str, str]) -> None:
    run_bench("configs", "--check", cwd=tmp_path, env=home)


def test_profile_parts_times_every_part_and_the_whole_model(tmp_path: Path, home: dict[str, str]) -> None:
    out = tmp_path / "parts"
    args = ["--models", "yolo11n-shufflenetv2-wide.yaml", "--runtimes", "onnxruntime", "--threads", "1"]
    args += ["--imgsz", "96", "--rounds", "1", "--iters", "1", "--out", str(out)]
    printed = run_bench("parts", *args, cwd=tmp_path, env=home)
    report = (out / "parts.md").read_text()
    assert report in printed and "## onnxruntime, 1 thread(s)" in report and "## Failures" not in report
    for part in ("0 Conv_maxpool", "1 ShuffleNetV2Stage", "3 ShuffleNetV2Stage", "neck", "head (Detect)"):
        assert f"| {part} |" in report
    assert "| **sum of parts** |" in report and "| whole model (its model.export()) |" in report
    assert "yolo11n-shufflenetv2-wide (paper)" in report and "yolo11n-shufflenetv2-wide (export)" in report
    assert (out / "parts.png").stat().st_size > 0


def random_checkpoint(config: str, folder: Path) -> Path:
    """A checkpoint of ``config`` with seeded random weights, for commands that take trained weights."""
    from ultralytics import YOLO

    torch.manual_seed(0)
    weights = folder / f"{Path(config).stem}.pt"
    YOLO(config).save(weights)
    return weights


def test_int8_sensitivity_keeps_the_named_part_in_float(
    tmp_path: Path, home: dict[str, str], datasets_dir: Path
) -> None:
    weights = random_checkpoint("yolo11n-shufflenetv2-wide.yaml", tmp_path)
    out = tmp_path / "sens"
    args = [str(weights), "--data", "coco8.yaml", "--datasets", str(datasets_dir), "--imgsz", "64"]
    args += ["--runtimes", "openvino", "--fraction", "1", "--parts", "head (Detect)", "--out", str(out)]
    run_bench("int8-sensitivity", *args, cwd=tmp_path, env=home)
    report = (out / "sensitivity.md").read_text()
    assert "| nothing (the stock call) |" in report and "| head (Detect) |" in report and "failed" not in report
    quantized = {
        scope: sum(xml.read_text().count('type="FakeQuantize"') for xml in (out / "openvino" / scope).rglob("*.xml"))
        for scope in ("nothing-the-stock-call", "head-Detect")
    }
    assert 0 < quantized["head-Detect"] < quantized["nothing-the-stock-call"]  # the head's convs stayed float


def test_int8_options_measure_each_variant_with_the_plugin_rules_off(
    tmp_path: Path, home: dict[str, str], datasets_dir: Path
) -> None:
    from bench import measure

    weights = random_checkpoint("yolo11n-shufflenetv2-fast.yaml", tmp_path)
    out = tmp_path / "options"
    args = [str(weights), "--data", "coco8.yaml", "--datasets", str(datasets_dir), "--imgsz", "64", "--fraction", "1"]
    args += ["--runtime", "openvino", "--variants", "stock", "MINMAX", "MINMAX+outputs", "--out", str(out)]
    run_bench("int8-options", *args, cwd=tmp_path, env=home)
    report = (out / "options.md").read_text()
    assert "| stock |" in report and "| MINMAX |" in report and "| MINMAX+outputs |" in report
    # the variants reached NNCF: other ranges, other FakeQuantize limits in the IR (the rules off: stock is NNCF's own)
    ir = {v: b"".join(f.read_bytes() for f in sorted((out / v).rglob("*.bin"))) for v in ("stock", "MINMAX")}
    assert ir["stock"] and ir["stock"] != ir["MINMAX"]
    quantized = {
        v: sum(xml.read_text().count('type="FakeQuantize"') for xml in (out / measure.slug(v)).rglob("*.xml"))
        for v in ("MINMAX", "MINMAX+outputs")
    }
    assert 0 < quantized["MINMAX+outputs"] < quantized["MINMAX"]  # both options applied: the outputs stayed float
