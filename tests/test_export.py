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
from ultralytics import YOLO

from bench.deploy import TOLERANCE, flat, load_images, pytorch_outputs, task_images
from bench.models import task_of
from conftest import assert_same_detections, one_to_one_checkpoint

pytestmark = pytest.mark.slow

# One n-scale model per task and head family (YOLO26: every task of Ultralytics 8.4, from its one-to-many branch,
# which nms=None exports; the one-to-one branch below).
TASK_MODELS = [
    "yolov8n-shufflenetv2.yaml",
    "yolo11n-shufflenetv2-wide.yaml",  # 1.0x: exported with padded branch widths
    "yolo11n-seg-shufflenetv2.yaml",
    "yolov8n-pose-shufflenetv2.yaml",
    "yolo11n-obb-shufflenetv2.yaml",
    "yolov8n-cls-shufflenetv2.yaml",
    "yolo26n-shufflenetv2.yaml",
    "yolo26n-seg-shufflenetv2-fast.yaml",
    "yolo26n-pose-shufflenetv2-wide.yaml",
    "yolo26n-obb-shufflenetv2-fast.yaml",
    "yolo26n-sem-shufflenetv2.yaml",
    "yolo26n-depth-shufflenetv2-fast.yaml",
]
END_TO_END = ["yolo26n-shufflenetv2-fast.yaml", "yolo26n-seg-shufflenetv2.yaml", "yolo26n-pose-shufflenetv2-fast.yaml"]
END_TO_END += ["yolo26n-obb-shufflenetv2-wide.yaml"]


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
    # Boxes are decoded by reductions (export.BinExpectation), not by the stock DFL's softmax; YOLO26 has no DFL
    decoding = {node.op_type for node in onnx.load(path).graph.node if "/dfl/" in node.name}
    has_dfl = getattr(YOLO(checkpoint).model.model[-1], "reg_max", 1) > 1
    assert "Softmax" not in decoding and bool(decoding) is has_dfl, decoding


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
    assert_matches(exported, pytorch_outputs(checkpoint, x, fmt="torchscript"))


def onnx_output_shapes(model: str | Path, **export_args: object) -> list[tuple[int, ...]]:
    import onnxruntime

    path = YOLO(model).export(format="onnx", imgsz=320, **export_args)
    return [tuple(o.shape) for o in onnxruntime.InferenceSession(path).get_outputs()]


@pytest.mark.parametrize("config", END_TO_END)
def test_nms_free_export_is_the_one_to_one_branch_as_for_stock_yolo26(
    config: str, datasets_dir: Path, tmp_path: Path
) -> None:
    """``nms=False`` exports the one-to-one branch ((1, 300, 6) for detection), ``nms=None`` the one-to-many one for
    external NMS, ``nms=True`` NMS inside (detection), each of the same shape as stock YOLO26n's of the task; the
    one-to-one output is PyTorch's on a real photo."""
    task = task_of(config)
    stock = config.split("-shufflenetv2")[0] + ".yaml"
    choices = (False, None, True) if task == "detect" else (False, None)
    for nms in choices:
        assert onnx_output_shapes(config, nms=nms) == onnx_output_shapes(stock, nms=nms), nms
    checkpoint = one_to_one_checkpoint(config, tmp_path / "model.pt")
    x = load_images(task_images(task, datasets_dir)[:1], 320)
    exported = onnx_run(YOLO(checkpoint).export(format="onnx", imgsz=320, nms=False), x)
    reference = pytorch_outputs(checkpoint, x, end2end=True)
    assert exported[0].shape[1:2] == (300,)
    assert_same_detections(exported[0], reference[0])
    assert_matches(exported[1:], reference[1:])  # mask prototypes (segment)


@pytest.mark.parametrize("config", ["yolo26n-shufflenetv2-slim-nms.yaml", "yolo26n-seg-shufflenetv2-wide-nms.yaml"])
def test_a_head_without_the_one_to_one_branch_exports_for_nms_as_yolo11(config: str) -> None:
    """The -nms configs have no NMS-free form: every ``nms=`` gives YOLO11n's outputs of the task, the one-to-many
    boxes for external NMS, or (detection, ``nms=True``) NMS inside the graph."""
    stock = config.split("-shufflenetv2")[0].replace("yolo26", "yolo11") + ".yaml"
    choices = (False, None, True) if task_of(config) == "detect" else (False, None)
    for nms in choices:
        assert onnx_output_shapes(config, nms=nms) == onnx_output_shapes(stock, nms=nms), nms
