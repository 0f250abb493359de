"""Stock ``model.export`` formats of a ShuffleNet model give PyTorch's outputs on real images.

Tolerance: max |exported - PyTorch| <= 1e-3 + 1e-4 * |PyTorch| elementwise, on the raw head output (box coordinates in
pixels, class scores in 0..1). Exports fold BatchNorm and reorder float sums, so bit equality is not expected.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from ultralytics import YOLO

TOLERANCE = {"atol": 1e-3, "rtol": 1e-4}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("export") / "yolov8n-shufflenetv2.pt"
    YOLO("yolov8n-shufflenetv2.yaml").save(path)
    return path


def coco8_batch(datasets_dir: Path, size: int, batch: int) -> np.ndarray:
    files = sorted((datasets_dir / "coco8" / "images" / "val").glob("*.jpg"))[:batch]
    images = [cv2.cvtColor(cv2.resize(cv2.imread(str(f)), (size, size)), cv2.COLOR_BGR2RGB) for f in files]
    return np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2), dtype=np.float32) / 255


def pytorch_output(checkpoint: Path, x: np.ndarray) -> np.ndarray:
    model = YOLO(checkpoint).model.float().eval()
    with torch.no_grad():
        return model(torch.from_numpy(x))[0].numpy()


def assert_matches(exported: np.ndarray, reference: np.ndarray) -> None:
    assert exported.shape == reference.shape
    np.testing.assert_allclose(exported, reference, **TOLERANCE)


def onnx_run(path: str, x: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def test_static_onnx(checkpoint: Path, datasets_dir: Path) -> None:
    path = YOLO(checkpoint).export(format="onnx", imgsz=640)
    x = coco8_batch(datasets_dir, 640, 1)
    assert_matches(onnx_run(path, x), pytorch_output(checkpoint, x))


def test_dynamic_onnx_batch_and_image_size(checkpoint: Path, datasets_dir: Path) -> None:
    # The channel shuffle must not bake batch or image size into the graph.
    path = YOLO(checkpoint).export(format="onnx", imgsz=640, dynamic=True)
    for size, batch in ((320, 2), (480, 2), (640, 2), (480, 1)):
        x = coco8_batch(datasets_dir, size, batch)
        assert_matches(onnx_run(path, x), pytorch_output(checkpoint, x))


def test_torchscript(checkpoint: Path, datasets_dir: Path) -> None:
    path = YOLO(checkpoint).export(format="torchscript", imgsz=640)
    x = coco8_batch(datasets_dir, 640, 1)
    with torch.no_grad():
        exported = torch.jit.load(path)(torch.from_numpy(x))
    assert_matches(
        (exported[0] if isinstance(exported, (list, tuple)) else exported).numpy(), pytorch_output(checkpoint, x)
    )


def test_openvino(checkpoint: Path, datasets_dir: Path) -> None:
    import openvino

    folder = Path(YOLO(checkpoint).export(format="openvino", imgsz=640))
    compiled = openvino.Core().compile_model(
        str(next(folder.glob("*.xml"))), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )
    x = coco8_batch(datasets_dir, 640, 1)
    assert_matches(compiled(x)[compiled.output(0)], pytorch_output(checkpoint, x))
