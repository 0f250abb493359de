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


def required_release(file: str | os.PathLike) -> str | None:
    """The ``min_ultralytics`` of a model YAML (a shipped config by bare name, or a path), e.g. '8.4.0' for the
    YOLO26 family; None where the file names none."""
    path = find_config(file) or Path(file)
    d = yaml.safe_load(path.read_text())
    release = d.get(RELEASE_KEY) if isinstance(d, dict) else None
    return None if release is None else str(release)
