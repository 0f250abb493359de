"""Offline Ultralytics for every test: a throwaway config dir, no downloads, datasets copied from ../shared."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = Path(os.environ.get("ULTRALYTICS_SHUFFLENET_DATASETS", ROOT.parent / "shared" / "datasets"))

# Must happen before Ultralytics is imported: it reads these once and persists settings in the config dir.
_CONFIG_DIR = Path(tempfile.mkdtemp(prefix="yolo-config-"))
os.environ.update(YOLO_CONFIG_DIR=str(_CONFIG_DIR), YOLO_OFFLINE="True", YOLO_AUTOINSTALL="False")
os.environ.pop("ULTRALYTICS_SHUFFLENET_AUTOLOAD", None)


def _install_font() -> None:
    """Any TTF under Ultralytics' font name stops its download attempt on every train/val."""
    import matplotlib

    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    (_CONFIG_DIR / "Ultralytics").mkdir(parents=True, exist_ok=True)
    shutil.copy(font, _CONFIG_DIR / "Ultralytics" / "Arial.ttf")


_install_font()


@pytest.fixture(scope="session")
def datasets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A writable copy of coco8 (Ultralytics writes label caches next to the data), set as ``datasets_dir``."""
    source = SHARED_DATASETS / "coco8"
    if not source.is_dir():
        message = f"coco8 not found at {source}; set ULTRALYTICS_SHUFFLENET_DATASETS to a folder that holds coco8/"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Named exactly 'datasets': older stock coco8.yaml files say 'path: ../datasets/coco8'.
    target = tmp_path_factory.mktemp("datasets", numbered=False)
    shutil.copytree(source, target / "coco8")
    from ultralytics import settings

    settings.update(datasets_dir=str(target))
    return target


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run a command in a fresh process; fail the test with its output when it fails."""
    proc = subprocess.run(
        args, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(args)} exited {proc.returncode}:\n{output[-6000:]}"
    return output


def yolo() -> str:
    """The stock ``yolo`` console script of this environment."""
    return str(Path(sys.executable).with_name("yolo"))
