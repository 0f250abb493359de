"""The shipped model YAMLs: written by bench/make_configs.py, found by bare name, paper widths, stock heads."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import torch
import ultralytics
from packaging.version import Version
from torch import nn
from ultralytics import YOLO
from ultralytics.nn.modules import Concat, Conv
from ultralytics.nn.tasks import DetectionModel
from ultralytics.utils.torch_utils import get_flops

from bench import make_configs
from bench.models import with_scale
from conftest import builds_here
from ultralytics_shufflenet import Conv_maxpool, ShuffleNetV2Stage
from ultralytics_shufflenet.configs import CONFIG_DIR, config_names, find_config

# What the installed Ultralytics builds (the YOLO26 family needs 8.4; test_errors.py covers older releases)
BUILDABLE = [name for name in config_names() if builds_here(name)]
DETECTORS = [name for name in BUILDABLE if "-cls-" not in name]


def stock_of(name: str) -> str:
    """The stock YAML of the same head family and task: yolo11-seg-shufflenetv2-lite.yaml -> yolo11-seg.yaml."""
    return name.split("-shufflenetv2")[0] + ".yaml"


def test_shipped_files_are_exactly_what_make_configs_writes() -> None:
    expected = make_configs.configs()
    assert set(config_names()) == set(expected)
    for name, render in expected.items():
        text = (CONFIG_DIR / name).read_text()
        assert render(make_configs.written_summaries(text)) == text, f"{name}: run python -m bench configs"


def test_every_task_and_head_family_is_shipped() -> None:
    variants = {
        "yolov8": ("", "-star", "-lite"),
        "yolo11": ("", "-lite", "-pan", "-wide", "-fast"),
        "yolo26": ("", "-wide", "-fast"),
    }
    for family, suffixes in variants.items():
        infixes = ("", "-seg", "-pose", "-obb") + (("-sem", "-depth") if family == "yolo26" else ())
        for infix in infixes:
            for suffix in suffixes:
                assert f"{family}{infix}-shufflenetv2{suffix}.yaml" in config_names()
    for infix in ("", "-seg", "-pose", "-obb"):  # the tasks whose YOLO26 head has a one-to-one branch to take away
        for suffix in ("-slim-nms", "-wide-nms"):
            assert f"yolo26{infix}-shufflenetv2{suffix}.yaml" in config_names()
    assert not any(name.endswith("-nms.yaml") for name in config_names() if "-sem-" in name or "-depth-" in name)
    assert {"yolov8-cls-shufflenetv2.yaml", "yolo26-cls-shufflenetv2.yaml"} <= set(config_names())


def test_yolo26_configs_carry_the_stock_yolo26_top_level_keys() -> None:
    import yaml

    for name in BUILDABLE:
        if name.startswith("yolo26"):
            ours, stock = (yaml.safe_load(p.read_text()) for p in (CONFIG_DIR / name, stock_yaml(name)))
            expected = {k: stock.get(k) for k in ("end2end", "reg_max")}
            head = make_configs.variant_of(name).head
            if head != make_configs.Head():  # a measured change of the head: its keys say so, the rest is stock
                expected = {"end2end": head.end2end, "reg_max": head.reg_max}
            assert {k: ours.get(k) for k in ("end2end", "reg_max")} == expected, name
            assert ours["min_ultralytics"] in ("8.4.0", "8.4.52", "8.4.104"), name


def stock_yaml(name: str) -> Path:
    family = name.split("-")[0]
    folder = {"yolov8": "v8", "yolo11": "11", "yolo26": "26"}[family]
    return Path(ultralytics.__file__).parent / "cfg" / "models" / folder / stock_of(name)


def test_bare_name_resolves_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = CONFIG_DIR / "yolov8-shufflenetv2.yaml"
    assert find_config("yolov8-shufflenetv2.yaml") == cfg
    assert find_config("yolov8n.yaml") is None
    local = tmp_path / "yolov8-shufflenetv2.yaml"  # the user's own file of the same name wins
    local.write_text(cfg.read_text().replace("nc: 80", "nc: 3"))
    assert find_config("yolov8-shufflenetv2.yaml") is None
    assert YOLO("yolov8n-shufflenetv2.yaml").model.model[-1].nc == 3


@functools.cache
def stock_model(name: str) -> torch.nn.Module:
    """A stock model, built once per name: every shipped config of a family and task compares with the same one."""
    return YOLO(name).model


@pytest.mark.parametrize("scale", "ns")
@pytest.mark.parametrize("name", DETECTORS)
def test_each_config_has_the_paper_backbone_and_its_tasks_stock_head(name: str, scale: str) -> None:
    model = YOLO(with_scale(name, scale)).model
    stock = stock_model(with_scale(stock_of(name), scale))
    layers = model.model
    assert isinstance(layers[0], Conv_maxpool) and layers[0].conv.conv.out_channels == 24
    stages = (1, 2, 3) if make_configs.variant_of(name).stage4 else (1, 2)
    assert all(isinstance(layers[i], ShuffleNetV2Stage) for i in stages)
    widths = tuple(layers[i][-1].branch2[-1].conv.out_channels * 2 for i in stages)
    assert widths == make_configs.backbone_widths(name)[scale].stages[: len(stages)]
    assert [len(layers[i]) for i in stages] == [4, 8, 4][: len(stages)]
    assert model.stride.tolist() == stock.stride.tolist() and model.task == stock.task
    assert type(layers[-1]) is type(stock.model[-1])
    assert getattr(layers[-1], "nc", None) == getattr(stock.model[-1], "nc", None)  # Depth has none
    for attribute in ("end2end", "reg_max"):  # YOLO26: the one-to-one branch, no DFL
        assert getattr(layers[-1], attribute, None) == getattr(stock.model[-1], attribute, None), attribute
    assert getattr(layers[-1], "legacy", None) == getattr(stock.model[-1], "legacy", None)
    if "-shufflenetv2.yaml" in name or "-star.yaml" in name:  # the stock neck: same layers, same output widths
        first = len(stock.model) - len(layers) + 4  # ours has 4 backbone layers before SPPF
        assert [m.type for m in layers[4:]] == [m.type for m in stock.model[first:]]
        assert neck_widths(model, 4) == neck_widths(stock, first)


def neck_widths(model: nn.Module, first: int) -> list[int]:
    """Output channels of every layer from ``first`` on but concats (they add the backbone's) and the head."""
    widths: dict[int, int] = {}
    hooks = [
        m.register_forward_hook(lambda m, args, out, i=i: widths.update({i: out.shape[1]}))
        for i, m in enumerate(model.model[first:-1])
        if not isinstance(m, Concat)
    ]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, 64, 64))
    for hook in hooks:
        hook.remove()
    return [widths[i] for i in sorted(widths)]


def test_fast_is_wide_with_a_stride_2_conv_in_place_of_stage_4() -> None:
    fast = DetectionModel("yolo11n-shufflenetv2-fast.yaml", verbose=False).model
    wide = DetectionModel("yolo11n-shufflenetv2-wide.yaml", verbose=False).model
    for i in range(3):
        assert [p.shape for p in fast[i].parameters()] == [p.shape for p in wide[i].parameters()]
    assert isinstance(fast[3], Conv) and fast[3].conv.stride == (2, 2) and fast[3].conv.in_channels == 232
    assert fast[3].conv.out_channels == wide[4].conv.out_channels == 64  # the PAN width
    assert [m.type for m in fast[4:]] == [m.type for m in wide[4:]]


@pytest.mark.parametrize("family", ["yolov8", "yolo11"])
def test_lite_keeps_the_backbone_and_halves_the_neck(family: str) -> None:
    lite = DetectionModel(f"{family}s-shufflenetv2-lite.yaml", verbose=False).model
    faithful = DetectionModel(f"{family}s-shufflenetv2.yaml", verbose=False).model
    for i in range(4):
        assert [p.shape for p in lite[i].parameters()] == [p.shape for p in faithful[i].parameters()]
    assert [m.type for m in lite] == [m.type for m in faithful]
    for a, b in zip(lite[4:-1], faithful[4:-1]):
        if hasattr(b, "cv2"):
            assert a.cv2.conv.out_channels * 2 == b.cv2.conv.out_channels


@pytest.mark.slow
@pytest.mark.parametrize("scale", "ns")  # the scales the README's table shows; a change to a layer shows in both
@pytest.mark.parametrize("name", BUILDABLE)
def test_yaml_comment_states_the_true_parameters_and_gflops(name: str, scale: str) -> None:
    line = next(x for x in (CONFIG_DIR / name).read_text().splitlines() if x.strip().startswith(f"{scale}: ["))
    params, gflops = re.search(r"([\d,]+) parameters, [\d,]+ gradients, ([\d.]+) GFLOPs", line).groups()
    model = YOLO(with_scale(name, scale)).model
    assert int(params.replace(",", "")) == sum(p.numel() for p in model.parameters())
    if "-cls-" not in name or Version(ultralytics.__version__) >= Version("8.4"):  # 8.3 counts classifiers otherwise
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


def test_the_torchvision_comparison_config_is_the_wide_n_model_from_stock_layers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bench/configs/yolo11-torchvision-shufflenetv2-wide.yaml: what a user gets without the plugin (README)
    assert make_configs.TORCHVISION_CONFIG.read_text() == make_configs.render_torchvision()
    import torchvision

    from ultralytics_shufflenet.widths import WIDE_SCALES

    width = WIDE_SCALES["n"]
    cache = tmp_path / "hub" / "checkpoints" / width.weights_file
    cache.parent.mkdir(parents=True)
    torch.manual_seed(0)
    imagenet = torchvision.models.shufflenet_v2_x1_0(weights=None).state_dict()  # stands in for the ImageNet file
    torch.save(imagenet, cache)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # the TorchVision layer loads weights=DEFAULT from here
    stock = YOLO(str(make_configs.TORCHVISION_CONFIG.with_name("yolo11n-torchvision-shufflenetv2-wide.yaml"))).model
    ours = YOLO("yolo11n-shufflenetv2-wide.yaml").model
    assert not any(type(m).__module__.startswith("ultralytics_shufflenet") for m in stock.modules())
    assert torch.equal(stock.model[0].m[0].weight, imagenet["conv1.0.weight"])
    assert sum(p.numel() for p in stock.parameters()) == sum(p.numel() for p in ours.parameters())
    assert [m.type for m in stock.model[4:]] == [m.type for m in ours.model[4:]]
    assert {m.eps for m in stock.model[0].modules() if isinstance(m, nn.BatchNorm2d)} == {1e-3}  # stock reset
    x = torch.rand(1, 3, 64, 64)
    assert stock.eval()(x)[0].shape == ours.eval()(x)[0].shape == (1, 84, 84)


def assert_only_the_head_differs(config: str, base: str, head: make_configs.Head, box_width: int) -> None:
    """``config`` builds ``base``'s network layer for layer, and a head with ``head``'s DFL, one-to-one branch and a
    box branch ``box_width`` wide."""
    model, shipped = YOLO(config).model, YOLO(base).model
    built = model.model[-1]
    one_to_one = getattr(built, "one2one_cv2", None)
    assert built.reg_max == head.reg_max and (one_to_one is not None) == head.end2end
    assert {branch[1].conv.out_channels for branch in (*built.cv2, *(one_to_one or []))} == {box_width}
    assert type(built) is type(shipped.model[-1])
    assert [type(m) for m in model.model[:-1]] == [type(m) for m in shipped.model[:-1]]
    a, b = model.model[:-1].state_dict(), shipped.model[:-1].state_dict()
    assert {k: v.shape for k, v in a.items()} == {k: v.shape for k, v in b.items()}


@pytest.mark.skipif(not builds_here("yolo26-shufflenetv2.yaml"), reason="the YOLO26 head came with Ultralytics 8.4.0")
@pytest.mark.parametrize("study", make_configs.HEAD_STUDIES, ids=lambda study: study.path.stem)
def test_head_study_configs_change_only_the_head_they_name(study: make_configs.HeadStudy) -> None:
    text = study.path.read_text()
    assert text == make_configs.render_study(study), "run python -m bench configs"
    assert {int(width) for width in re.findall(r"the box branch (\d+) wide at n", text)} <= {study.box_width}
    base = f"yolo26n-shufflenetv2{study.variant}.yaml"
    assert_only_the_head_differs(str(study.path), base, study.head, study.box_width)


@pytest.mark.skipif(not builds_here("yolo26-shufflenetv2.yaml"), reason="the YOLO26 head came with Ultralytics 8.4.0")
def test_stock_studies_are_the_stock_network_with_the_head_they_name(tmp_path: Path) -> None:
    written = make_configs.write_stock_studies(tmp_path)
    assert [p.name for p in written] == list(make_configs.STOCK_STUDIES)
    for path in written:
        stock, changes = make_configs.STOCK_STUDIES[path.name]
        head = make_configs.Head(end2end=changes.get("end2end", True))
        assert_only_the_head_differs(str(path), stock, head, box_width=16)  # stock n: max(16, 64 // 4, 4)
        assert YOLO(str(path)).model.yaml["scale"] == "n"


@pytest.mark.parametrize("suffix", make_configs.HEAD_VARIANTS)
def test_shipped_head_changes_are_the_networks_the_head_study_measured(suffix: str) -> None:
    import yaml

    shipped = yaml.safe_load((CONFIG_DIR / f"yolo26-shufflenetv2{suffix}.yaml").read_text())
    study = make_configs.STUDY_DIR / make_configs.measured_as()[f"yolo26n-shufflenetv2{suffix}.yaml"]
    assert study.is_file() and yaml.safe_load(study.read_text()) == shipped  # the docs show the study's scores


HEAD_CHANGED = [name for name in DETECTORS if make_configs.variant_of(name).head != make_configs.Head()]


@pytest.mark.parametrize("name", HEAD_CHANGED)
def test_shipped_head_changes_keep_their_base_configs_network(name: str) -> None:
    variant = make_configs.variant_of(name)
    base, head = make_configs.HEAD_VARIANTS[variant.suffix]
    config = with_scale(name, "n")
    width = make_configs.HeadStudy(base, head).box_width  # the n models' box width, on every task's head
    assert_only_the_head_differs(config, config.replace(variant.suffix, base), head, width)
