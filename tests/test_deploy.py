"""Edge formats through the stock exporter, loaded back through Ultralytics' own loader, on real images.

CI checks one model of every task in every FP32 edge format against PyTorch, and one detector
(``yolo11n-shufflenetv2-wide``) in every format (INT8 included) through ``yolo predict`` and ``yolo val`` as well
(TFLite's detection export: only there); a trained one keeps its accuracy in INT8. ``python -m bench deploy`` runs
the same check for every shipped config (its last run is in the README).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench import deploy as deploy_check
from bench import int8 as int8_accuracy
from bench import yolo_env
from conftest import (
    IMAGENET_FILE,
    assert_same_detections,
    captured_log,
    needs_imagenet_file,
    one_to_one_checkpoint,
    run,
    yolo,
)

pytestmark = pytest.mark.slow

# One model per task; among them every backbone and neck pattern (V2*, C2f, C3k2, C2PSA, depthwise PAN), and the
# 1.0x backbone, whose exports are traced with padded branch widths (ultralytics_shufflenet/export.py).
TASK_MODELS = [
    "yolo11n-shufflenetv2-fast.yaml",
    "yolo26n-shufflenetv2-fast.yaml",  # the YOLO26 head's one-to-many branch (nms=None, the default)
    "yolov8n-shufflenetv2-star.yaml",
    "yolo11n-seg-shufflenetv2.yaml",
    "yolov8n-pose-shufflenetv2-lite.yaml",
    "yolo11n-obb-shufflenetv2-lite.yaml",
    "yolov8n-cls-shufflenetv2.yaml",
    "yolo26n-sem-shufflenetv2-fast.yaml",  # its head returns class ids to some formats, logits to others
    "yolo26n-seg-shufflenetv2-slim.yaml",  # Segment26, Pose26, OBB26, Depth: every YOLO26 task in every edge format
    "yolo26n-pose-shufflenetv2-slim.yaml",
    "yolo26n-obb-shufflenetv2-slim.yaml",
    "yolo26n-depth-shufflenetv2-slim.yaml",
]
FP32 = ["ncnn", "mnn", "openvino", "tflite"]
# TFLite is the slowest conversion (30-45 s): YOLO11 detection's is checked by the stock-CLI test below
FP32_CASES = [
    (config, fmt)
    for config in TASK_MODELS
    for fmt in FP32
    if not (fmt == "tflite" and config.startswith("yolo11") and deploy_check.models.task_of(config) == "detect")
]


@pytest.mark.parametrize(("config", "fmt"), FP32_CASES)
def test_fp32_export_matches_pytorch_through_ultralytics_loader(
    config: str, fmt: str, datasets_dir: Path, tmp_path: Path
) -> None:
    x = deploy_check.load_images(deploy_check.task_images(deploy_check.models.task_of(config), datasets_dir)[:1], 320)
    checkpoint = tmp_path / "model.pt"
    exported = deploy_check.export(config, fmt, checkpoint, datasets_dir)
    reference = deploy_check.pytorch_outputs(checkpoint, x, fmt=fmt)
    outputs = (deploy_check.openvino_f32_outputs if fmt == "openvino" else deploy_check.backend_outputs)(exported, x)
    worst, ok = deploy_check.compare(outputs, reference)
    assert ok, f"{config} as {fmt}: max |difference| {worst}"


# Ultralytics exports YOLO26's one-to-one head where the runtime has TopK, else the one-to-many head with a warning.
NMS_FREE = {"openvino": True, "mnn": True, "tflite": True, "ncnn": False}


@pytest.mark.parametrize("fmt", list(NMS_FREE))
def test_nms_free_edge_export_keeps_the_one_to_one_head_where_stock_does(
    fmt: str, datasets_dir: Path, tmp_path: Path
) -> None:
    from ultralytics import YOLO

    config = "yolo26n-shufflenetv2-fast.yaml"
    checkpoint = one_to_one_checkpoint(config, tmp_path / "model.pt")
    x = deploy_check.load_images(deploy_check.task_images("detect", datasets_dir)[:1], 320)
    with captured_log() as log:
        exported = YOLO(checkpoint).export(format=fmt, imgsz=320, nms=False)
    outputs = (deploy_check.openvino_f32_outputs if fmt == "openvino" else deploy_check.backend_outputs)(exported, x)
    if NMS_FREE[fmt]:
        assert_same_detections(outputs[0], deploy_check.pytorch_outputs(checkpoint, x, end2end=True)[0])
    else:
        assert any("does not support end2end models" in line for line in log), log
        worst, ok = deploy_check.compare(outputs, deploy_check.pytorch_outputs(checkpoint, x))
        assert ok, f"{config} as {fmt}: max |difference| {worst}"


@pytest.mark.parametrize("fmt", list(deploy_check.FORMATS))
def test_every_format_predicts_and_validates_with_the_stock_cli(fmt: str, datasets_dir: Path, tmp_path: Path) -> None:
    result = deploy_check.check("yolo11n-shufflenetv2-wide.yaml", fmt, datasets_dir, tmp_path)
    assert result.ok, result


# The INT8 bound: mAP50-95 points a trained detector may lose in each runtime's stock INT8 export. The goal is 1.0
# (stock YOLO11n loses 0.9 in OpenVINO and 2.6-3.3 in TFLite on african-wildlife, README "INT8 accuracy"). This
# test's model is validated on 64 photos, so its accuracy and drop move with the machine's float sums: trained with
# mosaic, 0.245 / 0.231 / 0.164 on three runs and drops up to 2.4 (OpenVINO) and 2.5 (TFLite), which failed CI's
# first bound of 2.0. Without mosaic and with a 1-epoch warm-up it learns the photos better: 0.281 on one thread
# (drops -0.8 and 1.0) and 0.294 on two (1.1 and 0.8). The bound leaves room for that noise and still fails on the
# 6-45 point losses of the unfixed export. The model has no dead channels (test_export_form.py covers their
# folding): it guards the INT8 path end to end.
INT8_BOUND = {"openvino": 3.5, "tflite": 3.5}
INT8_IMAGES = 64  # african-wildlife training photos the test's model learns, calibrates on and is validated on


@needs_imagenet_file
def test_int8_export_of_a_trained_detector_keeps_its_accuracy(
    datasets_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A detector, trained from ImageNet until it detects (here: on a few photos, learnt by heart, as
    CI cannot afford a real training), keeps its accuracy on them through ``export(int8=True)`` in OpenVINO and
    TFLite, calibrated on the same photos, with the plugin's INT8 rules in effect."""
    folder = yolo_env.writable_datasets(["african-wildlife"], datasets_dir) / "african-wildlife"
    photos = sorted((folder / "images" / "train").iterdir())[:INT8_IMAGES]
    (tmp_path / "photos.txt").write_text("".join(f"{p}\n" for p in photos))
    names = "".join(f"  {i}: {n}\n" for i, n in enumerate(["buffalo", "elephant", "rhino", "zebra"]))
    data = tmp_path / "photos.yaml"  # one list of photos as both splits
    data.write_text(f"path: {tmp_path}\ntrain: photos.txt\nval: photos.txt\nnames:\n{names}")
    model, start, imgsz = "yolo11n-shufflenetv2-wide.yaml", tmp_path / "imagenet.pt", 160
    run(sys.executable, "-m", "ultralytics_shufflenet.convert", "--model", model, "--out", str(start),
        str(IMAGENET_FILE), cwd=tmp_path)  # fmt: skip
    run(
        yolo(), "train", f"model={model}", f"pretrained={start}", f"data={data}", "epochs=30", f"imgsz={imgsz}",
        "batch=8", "mosaic=0", "warmup_epochs=1", "workers=0", "val=False", "plots=False", "device=cpu", "seed=0",
        f"project={tmp_path}", "name=train", cwd=tmp_path,
    )  # fmt: skip
    weights = str(tmp_path / "train" / "weights" / "last.pt")
    fp32 = int8_accuracy.validate(weights, str(data), imgsz)
    assert fp32 > 0.15, f"the trained model is too weak ({fp32:.3f}) to show what INT8 does to it"
    ranges = record_nncf_ranges(monkeypatch)
    drops = {}
    for fmt in INT8_BOUND:
        exported = int8_accuracy.export(weights, int8_accuracy.RUNTIMES[fmt][1], str(data), imgsz, 1.0, tmp_path)
        drops[fmt] = 100 * (fp32 - int8_accuracy.validate(exported, str(data), imgsz))
        if fmt == "tflite":
            assert_detect_outputs_in_float(exported)
    print(f"mAP50-95 {fp32:.3f} in PyTorch; INT8 drop in points: {drops}")
    assert ranges == ["HISTOGRAM"], ranges  # the plugin's OpenVINO rule reached the stock exporter's NNCF call
    assert all(drops[fmt] <= bound for fmt, bound in INT8_BOUND.items()), (fp32, drops)


def assert_detect_outputs_in_float(tflite_file: str) -> None:
    """The plugin's TFLite INT8 rule (ultralytics_shufflenet/export.py) reached the file: the Detect head's output
    convs are float, the backbone is INT8."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    tensors = [(t["name"], np.dtype(t["dtype"]).name) for t in Interpreter(tflite_file).get_tensor_details()]
    outputs = {dtype for name, dtype in tensors if ".Detect_" in name and ".Conv2d_2;" in name}
    backbone = {dtype for name, dtype in tensors if ".ShuffleNetV2" in name}
    assert outputs == {"float32"} and "int8" in backbone, (outputs, backbone)


def record_nncf_ranges(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The activation range estimator of every ``nncf.quantize`` call from now on, by its name in NNCF's presets."""
    import nncf
    from nncf.quantization.range_estimator import RangeEstimatorParametersSet

    presets = [(k, v) for k, v in vars(RangeEstimatorParametersSet).items() if k.isupper()]
    stock, seen = nncf.quantize, []

    def quantize(*args, advanced_parameters=None, **kwargs):
        estimator = getattr(advanced_parameters, "activations_range_estimator_params", None)
        seen.append(next((name for name, preset in presets if preset == estimator), "NNCF's default"))
        return stock(*args, advanced_parameters=advanced_parameters, **kwargs)

    monkeypatch.setattr(nncf, "quantize", quantize)
    return seen
