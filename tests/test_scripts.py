"""The measurement scripts run from a fresh clone (their numbers are read by people, not asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import ROOT, run

pytestmark = pytest.mark.slow


def test_startup_cost_reports_the_hook_and_no_heavy_imports(tmp_path: Path) -> None:
    out = run(sys.executable, str(ROOT / "scripts" / "startup_cost.py"), "--runs", "3", cwd=tmp_path)
    assert "| hook import, -X importtime (ms) |" in out
    assert "Heavy modules imported by start-up: []" in out


def test_compare_accuracy_trains_each_model_the_same_way(tmp_path: Path, datasets_dir: Path) -> None:
    out = run(
        sys.executable,
        str(ROOT / "scripts" / "compare_accuracy.py"),
        "--data",
        "coco8.yaml",
        "--epochs",
        "1",
        "--imgsz",
        "64",
        "--batch",
        "4",
        "--workers",
        "0",
        "--models",
        "yolov8n.yaml",
        "yolov8n-shufflenetv2-lite.yaml",
        "--out",
        str(tmp_path),
        cwd=tmp_path,
    )
    table = (tmp_path / "accuracy.md").read_text()
    assert "| yolov8n.yaml |" in table and "| yolov8n-shufflenetv2-lite.yaml |" in table and table in out + "\n"
    assert (
        (tmp_path / "accuracy.csv")
        .read_text()
        .startswith("model,mAP50,mAP50-95,train_losses_box_cls_dfl,params,train_minutes")
    )
