"""Every task and every config variant through the stock CLI on real sample data: train, then predict and val.

Each run starts from a directory that knows nothing of this project; predict and val load best.pt in fresh
processes. The final training losses of every run are listed at the end of the pytest report. The configs run are a
covering set: every task with both head families, and every backbone/neck variant of each family, at least once
(one run per config would take most of CI's time; every config is built at every scale in test_configs.py).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.models import data_path, task_of, with_scale
from conftest import SMOKE_LOSSES, TASK_DATA, builds_here, run, yolo
from ultralytics_shufflenet.configs import config_names

pytestmark = pytest.mark.slow


def covering_set(names: list[str]) -> list[str]:
    """Fewest configs, picked greedily, that cover every (task, family) and every (family, variant) pair."""

    def keys(name: str) -> set[tuple[str, str, str]]:
        family, variant = name.split("-")[0], name.removesuffix(".yaml").split("shufflenetv2")[-1]
        return {("task", task_of(name), family), ("variant", family, variant)}

    chosen: list[str] = []
    missing = set().union(*(keys(n) for n in names))
    while missing:
        best = max(sorted(names), key=lambda n: len(keys(n) & missing))
        chosen.append(best)
        missing -= keys(best)
    return chosen


# yolov8-shufflenetv2.yaml itself goes through every CLI mode in test_cli.py
CONFIGS = covering_set([name for name in config_names() if name != "yolov8-shufflenetv2.yaml" and builds_here(name)])


# What the stock validator prints for the whole set: a row 'all <images> <instances> ...' but for these tasks
VALIDATION_ROW = {"classify": r"top1_acc|top1", "depth": r"\s+depth_val\s+\d+\s+\d"}


def data_arg(task: str, datasets_dir: Path) -> str:
    return f"data={TASK_DATA[task][1] or data_path(task, datasets_dir)}"  # stock names where they exist


def final_losses(run_dir: Path) -> str:
    """The last epoch's training losses from the run's results.csv, e.g. 'box 3.1 seg 5.2 cls 4.9 dfl 4.1'."""
    with open(run_dir / "results.csv") as f:
        last = {k.strip(): v.strip() for k, v in list(csv.DictReader(f))[-1].items()}
    return " ".join(f"{k[6:].removesuffix('_loss')} {float(v):.3f}" for k, v in last.items() if k.startswith("train/"))


@pytest.mark.parametrize("config", CONFIGS)
def test_stock_cli_trains_then_predicts_and_validates_in_fresh_processes(
    config: str, datasets_dir: Path, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    task = task_of(config)
    model = with_scale(config, "n")
    data = data_arg(task, datasets_dir)
    common = ("imgsz=64", "device=cpu")
    log = run(
        yolo(), task, "train", f"model={model}", data, "epochs=1", "batch=4", "workers=0", "plots=False", *common,
        f"project={tmp_path}", "name=train", cwd=tmp_path,
    )  # fmt: skip
    assert "ultralytics_shufflenet.modules.ShuffleNetV2Stage" in log and "1 epochs completed" in log
    record_property(SMOKE_LOSSES, f"{model}: {final_losses(tmp_path / 'train')}")  # conftest reports it
    best = tmp_path / "train" / "weights" / "best.pt"
    folder = datasets_dir / TASK_DATA[task][0]
    image = (
        next((folder / "val").rglob("*.JPEG")) if task == "classify" else next((folder / "images" / "val").iterdir())
    )
    out = run(yolo(), task, "predict", f"model={best}", f"source={image}", *common, "save=False", cwd=tmp_path)
    assert "1/1" in out and ("Speed:" in out)
    out = run(yolo(), task, "val", f"model={best}", data, "batch=4", *common, "plots=False", cwd=tmp_path)
    assert re.search(VALIDATION_ROW.get(task, r"\s+all\s+\d+\s+\d+\s"), out), out[-2000:]
