"""The one place that knows every model the measurement scripts compare: stock references and shipped configs.

Names only (no Ultralytics import), so any script can read the lists before it sets up Ultralytics.
"""

from __future__ import annotations

import re
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parents[1] / "ultralytics_shufflenet" / "cfg" / "models"

# Ultralytics' task -> the infix its YAML names carry ("" for detection)
TASK_INFIX = {"detect": "", "segment": "-seg", "pose": "-pose", "obb": "-obb", "classify": "-cls"}
STOCK_FAMILIES = ("yolov8", "yolo11")
# Real Ultralytics sample data per task (in ../shared/datasets), and the stock data name that resolves to each.
TASK_DATA = {
    "detect": ("coco8", "coco8.yaml"),
    "segment": ("coco8-seg", "coco8-seg.yaml"),
    "pose": ("coco8-pose", "coco8-pose.yaml"),
    "obb": ("dota8", "dota8.yaml"),
    "classify": ("imagenet10", None),  # image folders, passed by path
}


def stock(scale: str = "n", task: str = "detect") -> list[str]:
    """Stock YOLOv8 and YOLO11 at one scale, e.g. ``['yolov8n.yaml', 'yolo11n.yaml']``."""
    return [f"{family}{scale}{TASK_INFIX[task]}.yaml" for family in STOCK_FAMILIES]


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
