"""Where the plugin's model YAMLs live, so that bare names like ``yolov8n-shufflenetv2.yaml`` resolve anywhere."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

CONFIG_DIR: Path = Path(__file__).resolve().parent / "cfg" / "models"
# Top-level YAML key naming the oldest Ultralytics release a config builds with (the YOLO26 family's, for example):
# the plugin's builder stops an older release with an error naming it, instead of building another model or failing
# deep inside the stock builder.
RELEASE_KEY = "min_ultralytics"


def config_names() -> list[str]:
    """File names of every model YAML this package ships."""
    return sorted(p.name for p in CONFIG_DIR.glob("*.yaml"))


def find_config(file: str | os.PathLike) -> Path | None:
    """Return the shipped YAML for a bare file name that does not exist as given, else None.

    A file the user has on disk under the same name wins, as it does for stock Ultralytics YAMLs.
    """
    name = str(file)
    if os.path.exists(name) or os.path.basename(name) != name:
        return None
    path = CONFIG_DIR / name
    return path if path.is_file() else None


def required_release(name: str) -> str | None:
    """The ``min_ultralytics`` of a shipped config, e.g. '8.4.0' for the YOLO26 family; None where any supported
    release builds it."""
    release = yaml.safe_load((CONFIG_DIR / name).read_text()).get(RELEASE_KEY)
    return None if release is None else str(release)
