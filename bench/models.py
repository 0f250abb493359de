"""The one place that knows every model the measurement scripts compare: stock references and shipped configs.

Names only (no Ultralytics import), so any script can read the lists before it sets up Ultralytics.
"""

from __future__ import annotations

import re
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parents[1] / "ultralytics_shufflenet" / "cfg" / "models"

# Ultralytics' task -> the infix its YAML names carry ("" for detection)
TASK_INFIX = {
    "detect": "",
    "segment": "-seg",
    "pose": "-pose",
    "obb": "-obb",
    "classify": "-cls",
    "semantic": "-sem",
    "depth": "-depth",
}
# Every head family the shipped configs come in, and the stock references the tools compare against, in the order
# tables list them: YOLO26n, the model Ultralytics 8.4 users start from, first.
STOCK_FAMILIES = ("yolov8", "yolo11", "yolo26")
REFERENCE_FAMILIES = ("yolo26", "yolo11")
# Tasks that only the YOLO26 family (Ultralytics 8.4.52+ and 8.4.104+) has.
YOLO26_ONLY_TASKS = ("semantic", "depth")
# Real Ultralytics sample data per task (in ../shared/datasets), and the stock data name that resolves to each.
TASK_DATA = {
    "detect": ("coco8", "coco8.yaml"),
    "segment": ("coco8-seg", "coco8-seg.yaml"),
    "pose": ("coco8-pose", "coco8-pose.yaml"),
    "obb": ("dota8", "dota8.yaml"),
    "classify": ("imagenet10", None),  # image folders, passed by path
    "semantic": ("coco8-sem", None),  # no stock name: its own YAML, passed by path
    "depth": ("depth8-png", "depth8.yaml"),
}


def data_path(task: str, datasets_dir: Path) -> str:
    """A task's sample data by path, for ``data=``: the folder's own YAML, else its image folders (classify)."""
    name, stock_name = TASK_DATA[task]
    folder = datasets_dir / name
    own_yaml = folder / (stock_name or f"{name}.yaml")
    return str(own_yaml if own_yaml.is_file() else folder)


def stock(scale: str = "n", task: str = "detect") -> list[str]:
    """The stock references at one scale, e.g. ``['yolo26n.yaml', 'yolo11n.yaml']`` (YOLO26 alone for its own
    tasks)."""
    families = ("yolo26",) if task in YOLO26_ONLY_TASKS else REFERENCE_FAMILIES
    return [f"{family}{scale}{TASK_INFIX[task]}.yaml" for family in families]


def task_of(config: str) -> str:
    """The task of a shipped config file name, read from its name as Ultralytics does for stock names."""
    stem = Path(config).stem
    return next((task for task, infix in TASK_INFIX.items() if infix and f"{infix}-" in stem), "detect")


def shipped(scale: str = "n", task: str = "detect") -> list[str]:
    """Every shipped config of a task at one scale, e.g. ``yolov8n-shufflenetv2.yaml``, YOLOv8 family first."""
    names = sorted(p.name for p in CONFIG_DIR.glob("*.yaml") if task_of(p.name) == task)
    names.sort(key=lambda name: next(i for i, f in enumerate(STOCK_FAMILIES) if name.startswith(f)))
    return [with_scale(name, scale) for name in names]


def with_scale(config: str, scale: str) -> str:
    """``yolo11-seg-shufflenetv2.yaml`` -> ``yolo11n-seg-shufflenetv2.yaml``: the scale letter after the family."""
    return re.sub(rf"^({'|'.join(STOCK_FAMILIES)})", rf"\g<1>{scale}", config)
