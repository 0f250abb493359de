"""Where the plugin's model YAMLs live, so that bare names like ``yolov8n-shufflenetv2.yaml`` resolve anywhere."""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_DIR: Path = Path(__file__).resolve().parent / "cfg" / "models"


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
