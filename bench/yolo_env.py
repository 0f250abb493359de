"""Offline Ultralytics in a throwaway settings folder, for every script and test of this project.

Ultralytics reads ``YOLO_CONFIG_DIR`` once, at import, and writes its settings file there on first use; without it,
it would write (and later complain about) the user's own ``~/.config/Ultralytics``. Call ``isolate()`` before
anything imports Ultralytics.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = Path(os.environ.get("ULTRALYTICS_SHUFFLENET_DATASETS", ROOT.parent / "shared" / "datasets"))


# Set by isolate() for the processes it starts, so that they share their parent's private folder. A YOLO_CONFIG_DIR
# the user exported is never used: it may hold their own settings.
INHERITED = "ULTRALYTICS_SHUFFLENET_CONFIG_DIR"


def isolate(config_dir: str | os.PathLike | None = None) -> Path:
    """Point Ultralytics at a private settings folder, offline, with a font so it never tries to download one.

    The folder is the parent process's (when it called isolate() too), else ``config_dir``, else a fresh temporary one.
    """
    if "ultralytics" in sys.modules:
        raise RuntimeError("isolate() must run before Ultralytics is imported: it reads its settings folder once")
    folder = Path(os.environ.get(INHERITED) or config_dir or tempfile.mkdtemp(prefix="yolo-config-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {INHERITED: str(folder), "YOLO_CONFIG_DIR": str(folder), "YOLO_OFFLINE": "True", "YOLO_AUTOINSTALL": "False"}
    )
    # MNN's converter runs 'pip install' of a logging SDK when it is missing, whatever Ultralytics says; refused,
    # it carries on without it and the environment stays as it was.
    os.environ["PIP_NO_INDEX"] = "1"
    font = folder / "Ultralytics" / "Arial.ttf"
    if not font.is_file():
        import matplotlib  # ships DejaVuSans; any TTF under Ultralytics' font name stops the download attempt

        font.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf", font)
    return folder


def writable_datasets(names: list[str], target: Path, source: Path = SHARED_DATASETS) -> Path:
    """Copy datasets from the read-only shared folder into ``target`` and make it Ultralytics' ``datasets_dir``.

    A copy, because Ultralytics writes label caches next to the labels. Folders already in ``target`` are reused.
    The setting reaches processes started afterwards: Ultralytics reads ``datasets_dir`` once, at import, so this
    process passes data YAMLs by path instead (each folder's own YAML resolves relative to itself).
    """
    for name in names:
        if not (target / name).is_dir():
            if not (source / name).is_dir():
                raise FileNotFoundError(f"{source / name} not found; set ULTRALYTICS_SHUFFLENET_DATASETS")
            shutil.copytree(source / name, target / name)
            for path in (target / name).rglob("*"):
                path.chmod(path.stat().st_mode | 0o200)
    from ultralytics import settings

    settings.update(datasets_dir=str(target))
    return target
