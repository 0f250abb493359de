"""Edge formats through the stock exporter, loaded back through Ultralytics' own loader, on real images.

CI checks one model of every task in every FP32 edge format against PyTorch, and the recommended detector in every
format (INT8 included) through ``yolo predict`` and ``yolo val`` as well. ``python scripts/deploy_check.py`` runs the
same check for every shipped config (its last run is in the README).
"""

from __future__ import annotations

from pathlib import Path

import deploy_check
import pytest

pytestmark = pytest.mark.slow

# One model per task; among them every backbone and neck pattern (V2*, C2f, C3k2, C2PSA, depthwise PAN), and the
# 1.0x backbone, whose exports are traced with padded branch widths (ultralytics_shufflenet/export.py).
TASK_MODELS = [
    "yolo11n-shufflenetv2-fast.yaml",
    "yolov8n-shufflenetv2-star.yaml",
    "yolo11n-seg-shufflenetv2.yaml",
    "yolov8n-pose-shufflenetv2-lite.yaml",
    "yolo11n-obb-shufflenetv2-lite.yaml",
    "yolov8n-cls-shufflenetv2.yaml",
]
FP32 = ["ncnn", "mnn", "openvino", "tflite"]


@pytest.mark.parametrize("fmt", FP32)
@pytest.mark.parametrize("config", TASK_MODELS)
def test_fp32_export_matches_pytorch_through_ultralytics_loader(
    config: str, fmt: str, datasets_dir: Path, tmp_path: Path
) -> None:
    x = deploy_check.load_images(deploy_check.task_images(deploy_check.models.task_of(config), datasets_dir)[:1], 320)
    checkpoint = tmp_path / "model.pt"
    exported = deploy_check.export(config, fmt, checkpoint, datasets_dir)
    reference = deploy_check.pytorch_outputs(checkpoint, x)
    outputs = (deploy_check.openvino_f32_outputs if fmt == "openvino" else deploy_check.backend_outputs)(exported, x)
    worst, ok = deploy_check.compare(outputs, reference)
    assert ok, f"{config} as {fmt}: max |difference| {worst}"


@pytest.mark.parametrize("fmt", list(deploy_check.FORMATS))
def test_every_format_predicts_and_validates_with_the_stock_cli(fmt: str, datasets_dir: Path, tmp_path: Path) -> None:
    result = deploy_check.check("yolo11n-shufflenetv2-wide.yaml", fmt, datasets_dir, tmp_path)
    assert result.ok, result
