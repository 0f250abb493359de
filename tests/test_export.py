"""Stock ``model.export`` formats of every task's n model give PyTorch's outputs on real images of that task.

Tolerance: |exported - PyTorch| <= 1e-3 + 1e-4 * |PyTorch| elementwise, on every raw output of the export (boxes in
pixels, scores in 0..1, mask coefficients and prototypes, keypoints, angles, class probabilities). Exports fold
BatchNorm and reorder float sums, so bit equality is not expected.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from deploy_check import TOLERANCE, flat, load_images, pytorch_outputs, task_images
from models import task_of
from ultralytics import YOLO

pytestmark = pytest.mark.slow

# One n-scale model per task, both head families among them.
TASK_MODELS = [
    "yolov8n-shufflenetv2.yaml",
    "yolo11n-shufflenetv2-wide.yaml",  # 1.0x: exported with padded branch widths
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
    return load_images(task_images(task_of(checkpoint.name), datasets_dir)[:batch], size)


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
    # Boxes are decoded by reductions (export.BinExpectation), not by the stock DFL's softmax
    decoding = {node.op_type for node in onnx.load(path).graph.node if "/dfl/" in node.name}
    assert "Softmax" not in decoding and bool(decoding) is (task_of(checkpoint.name) != "classify"), decoding


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
