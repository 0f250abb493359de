"""The shipped model YAMLs: found by bare name anywhere, paper widths per scale, stock head, fusable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import ultralytics
import yaml
from packaging.version import Version
from torch import nn
from ultralytics import YOLO
from ultralytics.nn.modules import C2f, Conv
from ultralytics.nn.tasks import DetectionModel
from ultralytics.utils.torch_utils import get_flops

from ultralytics_shufflenet import Conv_maxpool, ShuffleNetV2Stage
from ultralytics_shufflenet.configs import CONFIG_DIR, config_names, find_config

pytestmark = pytest.mark.core

CFG = CONFIG_DIR / "yolov8-shufflenetv2.yaml"
PAPER_WIDTHS = {"n": (48, 96, 192), "s": (116, 232, 464), "m": (176, 352, 704), "l": (244, 488, 976)}
PAPER_WIDTHS["x"] = PAPER_WIDTHS["l"]


def test_configs_ship_with_the_package() -> None:
    expected = {"yolov8-shufflenetv2.yaml", "yolov8-shufflenetv2-star.yaml", "yolov8-shufflenetv2-lite.yaml"}
    expected.add("yolov8-cls-shufflenetv2.yaml")
    assert set(config_names()) == expected
    assert CONFIG_DIR.parent.parent.name == "ultralytics_shufflenet"


def test_bare_name_resolves_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_config("yolov8-shufflenetv2.yaml") == CFG
    assert find_config("yolov8n.yaml") is None
    local = tmp_path / "yolov8-shufflenetv2.yaml"  # the user's own file of the same name wins
    local.write_text(CFG.read_text().replace("nc: 80", "nc: 3"))
    assert find_config("yolov8-shufflenetv2.yaml") is None
    assert YOLO("yolov8n-shufflenetv2.yaml").model.model[-1].nc == 3


@pytest.mark.parametrize("scale", "nsmlx")
def test_each_scale_has_the_paper_backbone_and_the_stock_head(scale: str) -> None:
    model = DetectionModel(f"yolov8{scale}-shufflenetv2.yaml", verbose=False)
    stock = DetectionModel(f"yolov8{scale}.yaml", verbose=False)
    layers = model.model
    assert isinstance(layers[0], Conv_maxpool) and layers[0].conv.conv.out_channels == 24
    widths = tuple(layers[i][-1].branch2[-1].conv.out_channels * 2 for i in (1, 2, 3))
    assert widths == PAPER_WIDTHS[scale]
    assert [len(layers[i]) for i in (1, 2, 3)] == [4, 8, 4]
    assert all(isinstance(layers[i], ShuffleNetV2Stage) for i in (1, 2, 3))
    assert model.stride.tolist() == [8, 16, 32]
    # The head: same layer types and output widths as stock YOLOv8 at this scale (stock layers 10-22 here 5-17)
    head, stock_head = layers[5:], stock.model[10:]
    assert [m.type for m in head] == [m.type for m in stock_head]
    out = [m.cv2.conv.out_channels for m in head if isinstance(m, C2f)]
    assert out == [m.cv2.conv.out_channels for m in stock_head if isinstance(m, C2f)]
    assert layers[4].cv2.conv.out_channels == stock.model[9].cv2.conv.out_channels  # SPPF


@pytest.mark.parametrize("scale", "ns")
def test_lite_keeps_the_backbone_and_halves_the_neck(scale: str) -> None:
    lite = DetectionModel(f"yolov8{scale}-shufflenetv2-lite.yaml", verbose=False).model
    faithful = DetectionModel(f"yolov8{scale}-shufflenetv2.yaml", verbose=False).model
    for i in range(4):
        assert [p.shape for p in lite[i].parameters()] == [p.shape for p in faithful[i].parameters()]
    assert [m.type for m in lite] == [m.type for m in faithful]
    for a, b in zip(lite[4:-1], faithful[4:-1]):
        if hasattr(b, "cv2"):
            assert a.cv2.conv.out_channels * 2 == b.cv2.conv.out_channels


def test_head_reads_p3_p4_p5_from_the_backbone() -> None:
    rows = yaml.safe_load(CFG.read_text())["head"]
    assert rows[1][0] == [-1, 2] and rows[4][0] == [-1, 1] and rows[-1][0] == [10, 13, 16]


@pytest.mark.parametrize("scale", "nsmlx")
@pytest.mark.parametrize("name", config_names())
def test_yaml_comment_states_the_true_parameters_and_gflops(name: str, scale: str) -> None:
    line = next(x for x in (CONFIG_DIR / name).read_text().splitlines() if x.strip().startswith(f"{scale}: ["))
    params, gflops = re.search(r"([\d,]+) parameters, [\d,]+ gradients, ([\d.]+) GFLOPs", line).groups()
    model = YOLO(name.replace("yolov8", f"yolov8{scale}", 1)).model
    assert int(params.replace(",", "")) == sum(p.numel() for p in model.parameters())
    if "-cls-" not in name or Version(ultralytics.__version__) >= Version(
        "8.4"
    ):  # 8.3 counts classifier FLOPs another way
        assert float(gflops) == pytest.approx(get_flops(model), abs=0.05)


def test_fuse_folds_every_backbone_batchnorm_and_keeps_outputs() -> None:
    torch.manual_seed(0)
    model = DetectionModel("yolov8s-shufflenetv2.yaml", verbose=False).eval()
    for m in model.modules():  # non-trivial statistics, so folding them is really tested
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
    x = torch.rand(2, 3, 160, 224)
    with torch.no_grad():
        before = model(x)[0]
        model.fuse(verbose=False)
        after = model(x)[0]
    backbone = model.model[:5]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in backbone.modules())
    assert all(not hasattr(m, "bn") for m in backbone.modules() if isinstance(m, Conv))
    assert (before - after).abs().max().item() < 1e-4
