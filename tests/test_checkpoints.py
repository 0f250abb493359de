"""Checkpoints: old ones still load, safe loading works, and broken files or a missing plugin say what is wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from ultralytics import YOLO
from ultralytics.nn import tasks

from conftest import fresh_venv, run

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name", ["yolov8n-tiny-shufflenetv2-0.1.0", "yolov8n-cls-tiny-shufflenetv2-0.1.0"])
def test_checkpoints_written_by_release_0_1_0_still_load_and_compute_the_same(name: str) -> None:
    # Written by ultralytics-shufflenet 0.1.0 (Ultralytics 8.4.190) with every plugin class in them; the classes are
    # pickled by import path, so a rename or a move would break them.
    model = YOLO(DATA / f"{name}.pt").model.float().eval()
    io = torch.load(DATA / f"{name}-io.pt", weights_only=True)
    with torch.no_grad():
        out = model(io["input"])
    out = out[0] if isinstance(out, (list, tuple)) else out
    torch.testing.assert_close(out, io["output"], rtol=1e-3, atol=1e-3)  # saved in half precision


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "yolov8n-shufflenetv2.pt"
    YOLO("yolov8n-shufflenetv2.yaml").save(path)
    return path


def test_truncated_checkpoint_gives_a_clear_error(checkpoint: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.pt"
    data = checkpoint.read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    with pytest.raises(Exception, match=r"corrupted") as e:
        YOLO(truncated)
    assert isinstance(e.value, (TypeError, RuntimeError))


@pytest.mark.slow
@pytest.mark.core
def test_checkpoint_loads_under_ultralytics_safe_load(checkpoint: Path, tmp_path: Path) -> None:
    code = (
        "import numpy as np\nfrom ultralytics import YOLO\n"
        f"m = YOLO({str(checkpoint)!r})\n"
        "m.predict(np.zeros((64, 64, 3), np.uint8), imgsz=64, verbose=False)\n"
        "print('loaded', type(m.model.model[1]).__name__)"
    )
    out = run(sys.executable, "-c", code, cwd=tmp_path, env={"ULTRALYTICS_SAFE_LOAD": "1"})
    assert out.strip().splitlines()[-1] == "loaded ShuffleNetV2Stage"
    if hasattr(tasks, "_SafeLoad"):  # releases with restricted loading refuse classes nobody allow-listed
        proc = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**os.environ, "ULTRALYTICS_SAFE_LOAD": "1", "ULTRALYTICS_SHUFFLENET_AUTOLOAD": "0"},
        )
        assert proc.returncode != 0 and "outside the supported Ultralytics checkpoint format" in proc.stderr


@pytest.mark.slow
def test_checkpoint_without_the_plugin_installed_names_the_package(checkpoint: Path, tmp_path: Path) -> None:
    # An environment with torch and Ultralytics (borrowed as a plain path) but without this plugin.
    python, _ = fresh_venv(tmp_path / "env")
    code = f"from ultralytics import YOLO\nYOLO({str(checkpoint)!r})"
    proc = subprocess.run(
        [python, "-c", code], cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""}
    )
    output = proc.stdout + proc.stderr
    # The import name is the distribution name, so what Ultralytics reports is what to pip install.
    assert proc.returncode != 0 and "No module named 'ultralytics_shufflenet'" in output
    assert "appears to require 'ultralytics_shufflenet'" in output
