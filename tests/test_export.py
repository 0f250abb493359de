"""Stock ``model.export`` formats of every task's n model give PyTorch's outputs on real images of that task.

Tolerance: |exported - PyTorch| <= 1e-3 + 1e-4 * |PyTorch| elementwise, on every raw output of the export (boxes in
pixels, scores in 0..1, mask coefficients and prototypes, keypoints, angles, class probabilities). Exports fold
BatchNorm and reorder float sums, so bit equality is not expected.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from models import task_of
from ultralytics import YOLO

from conftest import TASK_DATA

pytestmark = pytest.mark.slow

TOLERANCE = {"atol": 1e-3, "rtol": 1e-4}
# One n-scale model per task, both head families among them.
TASK_MODELS = [
    "yolov8n-shufflenetv2.yaml",
    "yolo11n-shufflenetv2-pan.yaml",
    "yolo11n-seg-shufflenetv2.yaml",
    "yolov8n-pose-shufflenetv2.yaml",
    "yolo11n-obb-shufflenetv2.yaml",
    "yolov8n-cls-shufflenetv2.yaml",
]


@pytest.fixture(scope="module", params=TASK_MODELS)
def checkpoint(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("export") / Path(request.param).with_suffix(".pt").name
    YOLO(request.param).save(path)
    return path


def real_images(checkpoint: Path, datasets_dir: Path, size: int, batch: int) -> np.ndarray:
    """``batch`` val images of the checkpoint's task, resized, RGB, NCHW float32 in 0..1."""
    folder = datasets_dir / TASK_DATA[task_of(checkpoint.name)][0]
    val = folder / "val" if (folder / "val").is_dir() else folder / "images" / "val"
    files = sorted(p for p in val.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:batch]
    images = [cv2.cvtColor(cv2.resize(cv2.imread(str(f)), (size, size)), cv2.COLOR_BGR2RGB) for f in files]
    return np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2), dtype=np.float32) / 255


def flat(output: object) -> list[torch.Tensor]:
    if isinstance(output, torch.Tensor):
        return [output]
    return [t for item in output for t in flat(item)] if isinstance(output, (list, tuple)) else []


def pytorch_outputs(checkpoint: Path, x: np.ndarray) -> list[np.ndarray]:
    """What the export computes, run in PyTorch: the head in export mode, as the exporter sets it."""
    model = YOLO(checkpoint).model.float().eval()
    head = model.model[-1]
    head.export, head.format = True, "onnx"
    with torch.no_grad():
        return [t.numpy() for t in flat(model(torch.from_numpy(x)))]


def assert_matches(exported: list[np.ndarray], reference: list[np.ndarray]) -> None:
    assert [e.shape for e in exported] == [r.shape for r in reference]
    for e, r in zip(exported, reference):
        np.testing.assert_allclose(e, r, **TOLERANCE)


def onnx_run(path: str, x: np.ndarray) -> list[np.ndarray]:
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})


def test_static_onnx(checkpoint: Path, datasets_dir: Path) -> None:
    path = YOLO(checkpoint).export(format="onnx", imgsz=320)
    x = real_images(checkpoint, datasets_dir, 320, 1)
    assert_matches(onnx_run(path, x), pytorch_outputs(checkpoint, x))


def test_dynamic_onnx_batch_and_image_size(checkpoint: Path, datasets_dir: Path) -> None:
    # The channel shuffle must not bake batch or image size into the graph.
    path = YOLO(checkpoint).export(format="onnx", imgsz=320, dynamic=True)
    for size, batch in ((256, 2), (320, 2), (416, 1)):
        x = real_images(checkpoint, datasets_dir, size, batch)
        assert_matches(onnx_run(path, x), pytorch_outputs(checkpoint, x))


def test_torchscript(checkpoint: Path, datasets_dir: Path) -> None:
    path = YOLO(checkpoint).export(format="torchscript", imgsz=320)
    x = real_images(checkpoint, datasets_dir, 320, 1)
    with torch.no_grad():
        exported = [t.numpy() for t in flat(torch.jit.load(path)(torch.from_numpy(x)))]
    assert_matches(exported, pytorch_outputs(checkpoint, x))
