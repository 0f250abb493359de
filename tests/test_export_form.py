"""The export form (ultralytics_shufflenet/export.py): padded branch widths compute exactly the paper's function."""

from __future__ import annotations

import copy
import re
import sys

import pytest
import torch
from torch import nn
from ultralytics import YOLO
from ultralytics.engine.exporter import Exporter
from ultralytics.nn.modules import DFL, Conv
from ultralytics.utils.torch_utils import fuse_conv_and_bn

from conftest import with_trained_statistics
from ultralytics_shufflenet import ShuffleNetV2, ShuffleNetV2Stage, compat, export, register, unregister


def inner_widths(model: nn.Module) -> list[int]:
    return [u.branch2[-3].conv.out_channels for u in model.modules() if isinstance(u, ShuffleNetV2)]


@pytest.mark.parametrize(
    "config",
    [
        "yolo11n-shufflenetv2-wide.yaml",  # 1.0x: branches of 58, 116, 232 channels
        "yolov8s-shufflenetv2-star.yaml",  # 1.0x V2*: an extra depthwise conv before each branch
        "yolo11m-shufflenetv2-wide.yaml",  # 2.0x: 122, 244, 488
    ],
)
def test_padded_stages_compute_the_same_function(config: str) -> None:
    torch.manual_seed(0)
    model = compat.fused_copy(with_trained_statistics(YOLO(config).model))
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        x = model.model[0](x)
        for stage in model.model[1:4]:
            padded = copy.deepcopy(stage)
            padded_count = export.pad_branch_widths(padded)
            assert padded_count == (len(stage) if inner_widths(stage)[0] % export.LANES else 0)
            assert all(w % export.LANES == 0 for w in inner_widths(padded))
            y = stage(x)
            torch.testing.assert_close(padded(x), y, rtol=0, atol=1e-5)
            assert export.pad_branch_widths(padded) == 0  # a multiple already: nothing left to pad
            x = y


def test_widths_already_in_blocks_are_left_alone() -> None:
    model = compat.fused_copy(YOLO("yolo11n-shufflenetv2-pan.yaml").model)  # 0.5x: branches of 24, 48, 96
    before = [p.clone() for p in model.parameters()]
    assert export.pad_branch_widths(model) == 0
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def with_a_dead_channel(unit: ShuffleNetV2, channel: int) -> ShuffleNetV2:
    """What ImageNet training leaves in ShuffleNet V2: a ReLU channel that never fires (its filter 0, its bias < 0),
    and after it a depthwise filter that never saw an input, its BatchNorm variance decayed to 0 in fine-tuning."""
    first, depthwise = unit.branch2[0], unit.branch2[1]
    with torch.no_grad():
        first.conv.weight[channel] = 0
        first.bn.bias[channel] = -1.0
        depthwise.conv.weight[channel] = 78.0  # the size of such a filter in the shared ImageNet file
        depthwise.bn.running_var[channel] = 0.0
        depthwise.bn.running_mean[channel] = 0.0
    return unit.eval()


def fused(module: nn.Module) -> nn.Module:
    """A bare layer fused as ``BaseModel.fuse`` fuses a model's: BatchNorm folded into each Ultralytics ``Conv``."""
    for conv in module.modules():
        if isinstance(conv, Conv) and hasattr(conv, "bn"):
            conv.conv = fuse_conv_and_bn(conv.conv, conv.bn)
            del conv.bn
            conv.forward = conv.forward_fuse
    return module


def test_dead_channels_fold_to_their_constant_and_stop_amplifying_rounding() -> None:
    torch.manual_seed(0)
    unit = with_a_dead_channel(with_trained_statistics(ShuffleNetV2(64, 64)), channel=5)
    folded = copy.deepcopy(unit)
    assert export.fold_dead_channels(folded) == 1
    plain, folded = fused(unit), fused(folded)
    x = torch.rand(4, 64, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), plain(x), rtol=0, atol=1e-5)  # the same on what it was trained on
        assert plain.branch2[1].conv.weight.abs().max() > 20_000 > 100 > folded.branch2[1].conv.weight.abs().max()
        # one INT8 step (1/255 of the activation range) leaking through the dead ReLU, as rounding can let it
        rest = x.chunk(2, dim=1)[1]
        leak = torch.zeros(4, 32, 16, 16)
        leak[:, 5] = 0.04
        for unit, worst in ((plain, None), (folded, 1e-5)):
            first, depthwise, last = unit.branch2
            error = (last(depthwise(first(rest) + leak)) - last(depthwise(first(rest)))).abs().max().item()
            assert error > 100 if worst is None else error < worst


def test_an_unfused_model_is_refused() -> None:
    with pytest.raises(ValueError, match=r"needs a fused model \(model.fuse\(\)\)"):
        export.pad_branch_widths(ShuffleNetV2Stage(24, 116, 2))


def test_the_export_form_of_a_wide_model_is_a_padded_fused_copy_and_the_model_is_untouched() -> None:
    # (trained statistics have no dead channel: the form computes exactly the model's function)
    model = with_trained_statistics(YOLO("yolo11n-shufflenetv2-wide.yaml").model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    form = export.export_form(model)
    assert form is not model and form.is_fused() and not model.is_fused()
    assert sorted(set(inner_widths(form))) == [64, 120, 232]  # 1.0x: 58 -> 64, 116 -> 120, 232 stays
    assert model.state_dict().keys() == state.keys()
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    x = torch.rand(1, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(form(x)[0], compat.fused_copy(model)(x)[0], rtol=0, atol=1e-4)


@pytest.mark.parametrize("config", ["yolo11n.yaml", "yolo11n-shufflenetv2-pan.yaml"])
def test_models_without_padding_to_do_export_as_they_are(config: str) -> None:
    model = YOLO(config).model  # stock, and 0.5x whose branch widths (24, 48, 96) fit the blocks already
    assert export.export_form(model) is model


def test_bin_expectation_is_stock_dfl_without_its_softmax() -> None:
    generator = torch.Generator().manual_seed(0)
    # logits far beyond exp's float32 range (88) too: the max keeps them finite, as softmax does
    x = (torch.rand(2, 4 * 16, 300, generator=generator) - 0.5) * torch.tensor([1.0, 20.0, 400.0]).repeat_interleave(
        100
    )
    expected = DFL(16)(x)
    got = export.BinExpectation(16)(x)
    assert got.shape == expected.shape == (2, 4, 300) and torch.isfinite(got).all()
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("config", ["yolo11n-shufflenetv2-fast.yaml", "yolov8n-seg-shufflenetv2-lite.yaml"])
def test_onnx_mnn_and_tflite_forms_decode_boxes_by_reductions(config: str) -> None:
    model = with_trained_statistics(YOLO(config).model)
    formats = {"onnx": True, "MNN": True, "tflite": True, "litert": True, "ncnn": False, "openvino": False}
    decoded = {fmt: isinstance(export.export_form(model, fmt).model[-1].dfl, export.BinExpectation) for fmt in formats}
    assert decoded == formats
    assert isinstance(model.model[-1].dfl, DFL)  # the model itself keeps the stock head
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        form_output, model_output = export.export_form(model, "onnx")(x)[0], compat.fused_copy(model)(x)[0]
    torch.testing.assert_close(form_output, model_output, rtol=1e-5, atol=1e-4)


def test_stock_models_keep_the_stock_box_decoding() -> None:
    model = YOLO("yolo11n.yaml").model
    assert export.export_form(model, "onnx") is model and isinstance(model.model[-1].dfl, DFL)


def test_the_exporter_is_wrapped_while_registered_and_restored_after() -> None:
    assert Exporter.__call__ is not compat.STOCK_EXPORT and Exporter.__call__.__wrapped__ is compat.STOCK_EXPORT
    unregister()
    try:
        assert Exporter.__call__ is compat.STOCK_EXPORT
    finally:
        register()
    assert Exporter.__call__.__wrapped__ is compat.STOCK_EXPORT


YOLO26 = pytest.mark.skipif(compat.older_than("8.4.0"), reason="the YOLO26 head came with Ultralytics 8.4.0")


def exporter(fmt: str, **overrides: object) -> Exporter:
    return Exporter(overrides={"format": fmt, **overrides})


@pytest.mark.parametrize(
    ("config", "fmt", "changed"),
    [
        ("yolo11n-shufflenetv2-fast.yaml", "tflite", True),
        ("yolo11n-shufflenetv2-fast.yaml", "litert", True),
        ("yolo11n-shufflenetv2-fast.yaml", "openvino", False),
        ("yolo11n.yaml", "tflite", False),  # stock models quantize as without the plugin
        ("yolo11n-seg-shufflenetv2.yaml", "tflite", False),  # measured on Detect only
    ],
)
def test_int8_rules_change_the_litert_recipe_of_plugin_detectors_only(config: str, fmt: str, changed: bool) -> None:
    quantizer = pytest.importorskip("ai_edge_quantizer.quantizer").Quantizer
    stock = quantizer.load_quantization_recipe
    with export.int8_rules(YOLO(config).model, exporter(fmt)):
        assert (quantizer.load_quantization_recipe is not stock) is changed
    assert quantizer.load_quantization_recipe is stock


@pytest.mark.parametrize(
    ("config", "overrides", "changed"),
    [
        ("yolo11n-shufflenetv2-fast.yaml", {"int8": True}, True),
        ("yolov8n-cls-shufflenetv2.yaml", {"int8": True}, True),  # activation ranges: every plugin model
        ("yolo11n-shufflenetv2-fast.yaml", {}, False),  # FP32
        ("yolo11n.yaml", {"int8": True}, False),
    ],
)
def test_int8_rules_change_nncf_ranges_of_plugin_models_only(config: str, overrides: dict, changed: bool) -> None:
    nncf = pytest.importorskip("nncf")
    stock = nncf.quantize
    with export.int8_rules(YOLO(config).model, exporter("openvino", **overrides)):
        assert (nncf.quantize is not stock) is changed
    assert nncf.quantize is stock


@pytest.mark.parametrize(
    ("config", "box_branch_in_float"),
    [
        pytest.param("yolo26n-shufflenetv2-slim-nms.yaml", True, marks=YOLO26),  # no DFL
        pytest.param("yolo26n-shufflenetv2-slim.yaml", True, marks=YOLO26),  # its one-to-one box branch too
        pytest.param("yolo26n-shufflenetv2-wide-nms.yaml", False, marks=YOLO26),  # 64 wide: float costs time
        ("yolo11n-shufflenetv2-fast.yaml", False),  # a DFL: NNCF's own choice
        ("yolo11n.yaml", False),  # stock
    ],
)
def test_openvino_int8_keeps_the_box_branch_of_detectors_without_a_dfl_in_float(
    config: str, box_branch_in_float: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    nncf = pytest.importorskip("nncf")
    calls = []
    monkeypatch.setattr(nncf, "quantize", lambda *args, **kwargs: calls.append(kwargs.get("ignored_scope")))
    model = YOLO(config).model
    with export.int8_rules(model, exporter("openvino", int8=True)):
        nncf.quantize(model=None, ignored_scope=nncf.IgnoredScope(types=["Sigmoid"]))  # as Ultralytics calls it
    patterns = calls[0].patterns
    assert calls[0].types == ["Sigmoid"] and bool(patterns) is box_branch_in_float
    head = model.model[-1]
    expected = {"cv2": box_branch_in_float, "cv3": False}  # the box branch, not the class branch
    if getattr(head, "one2one_cv2", None) is not None:
        expected |= {"one2one_cv2": box_branch_in_float, "one2one_cv3": False}
    for branch, in_float in expected.items():
        node = f"__module.model.{head.i}.{branch}.0.0.conv/aten::_convolution/Convolution"
        assert any(re.match(p, node) for p in patterns) is in_float, node


def test_int8_rules_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    nncf = pytest.importorskip("nncf")
    stock = nncf.quantize
    monkeypatch.setenv(export.INT8_RULES_ENV, "0")
    with export.int8_rules(YOLO("yolo11n-shufflenetv2-fast.yaml").model, exporter("openvino", int8=True)):
        assert nncf.quantize is stock


def test_nncf_gets_histogram_ranges_unless_the_caller_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    nncf = pytest.importorskip("nncf")
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters
    from nncf.quantization.range_estimator import RangeEstimatorParametersSet

    calls = []
    monkeypatch.setattr(nncf, "quantize", lambda *args, **kwargs: calls.append(kwargs.get("advanced_parameters")))
    own = AdvancedQuantizationParameters(disable_bias_correction=True)
    with compat.nncf_histogram_ranges():
        nncf.quantize(model=None, calibration_dataset=None)
        nncf.quantize(model=None, calibration_dataset=None, advanced_parameters=own)
    assert calls[0].activations_range_estimator_params == RangeEstimatorParametersSet.HISTOGRAM
    assert calls[1] is own


@pytest.mark.parametrize(("module", "fmt"), [("ai_edge_quantizer", "tflite"), ("nncf", "openvino")])
def test_int8_rules_are_harmless_without_the_quantizer(module: str, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # its import fails, as without the edge extras
    with export.int8_rules(YOLO("yolo11n-shufflenetv2-fast.yaml").model, exporter(fmt, int8=True)):
        pass


def test_only_static_int8_recipes_get_the_float_outputs() -> None:
    recipe = pytest.importorskip("ai_edge_quantizer.recipe")
    assert compat._int8_activations(recipe.static_wi8_ai8())
    assert not compat._int8_activations(recipe.static_wi8_ai16())
    assert not compat._int8_activations(recipe.dynamic_wi8_afp32())


# Op names as litert_torch 0.10 writes them for a converted yolo11n-shufflenetv2-wide (head row 17)
WRAPPER = "ultralytics.utils.export.engine._NormalizeCoords"
MODULES = f"{WRAPPER}/ultralytics.nn.tasks.DetectionModel_model/ultralytics.nn.modules."
HEAD, SEQ, CONV = f"{MODULES}head.Detect_17", "torch.nn.modules.container.Sequential", "torch.nn.modules.conv.Conv2d"
LITERT_NAMES = {
    f"{HEAD}/{SEQ}_0/{CONV}_2;4": True,  # a box branch's output conv
    f"{HEAD}/{SEQ}_2/{CONV}_2;7": True,  # a class branch's output conv
    f"{HEAD}/ultralytics.nn.modules.block.DFL_dfl;3": True,
    f"{HEAD}/ultralytics_shufflenet.export.BinExpectation_dfl;3": True,  # the export form's box decoding
    f"{HEAD};21": True,  # decoding, concats, sigmoid
    f"{WRAPPER};1": True,  # coordinate scaling
    f"{HEAD}/{SEQ}_0/ultralytics.nn.modules.conv.Conv_1/{CONV}_conv;2": False,  # the branches' inner convs stay INT8
    f"{HEAD}/{SEQ}_1/{SEQ}_0/ultralytics.nn.modules.conv.DWConv_0/{CONV}_conv;2": False,
    f"{MODULES}block.C3k2_16/ultralytics.nn.modules.conv.Conv_cv2/{CONV}_conv;2": False,
    f"{MODULES}conv.Concat_15;": False,
}


def test_the_float_patterns_pick_the_detect_outputs_by_their_litert_names() -> None:
    patterns = compat.litert_detect_outputs(YOLO("yolo11n-shufflenetv2-wide.yaml").model.model[-1])
    for name, in_float in LITERT_NAMES.items():
        assert any(re.search(p, name) for p in patterns) is in_float, name


# Node names as OpenVINO 2026.4 converts a yolo26n-shufflenetv2-slim(-nms) (head row 17)
OPENVINO_CLASS_CONV = "__module.model.17.cv3.0.0.0.conv/aten::_convolution/GroupConvolution"
OPENVINO_NAMES = {
    "__module.model.17.cv2.0.2/aten::_convolution/Convolution": True,  # a box branch's output conv
    "__module.model.17.cv3.1.2/aten::_convolution/Add": True,  # a class branch's output conv (its bias)
    "__module.model.17.one2one_cv3.2.2/aten::_convolution/Convolution": True,
    "__module.model.17.dfl.conv/aten::_convolution/Convolution": True,
    "__module.model.17/aten::sigmoid/Sigmoid": True,  # decoding, concats, sigmoid
    "__module.model.17/aten::cat/Concat_2": True,
    "__module.model.17.cv2.0.1.conv/aten::_convolution/Convolution": False,  # the branches' inner convs stay INT8
    OPENVINO_CLASS_CONV: False,
    "__module.model.16.cv2.conv/aten::_convolution/Convolution": False,
    "__module.model.1.0.branch2.2.conv/aten::_convolution/Convolution": False,
}


@YOLO26
def test_the_float_patterns_pick_the_detect_outputs_by_their_openvino_names() -> None:
    parts = compat.openvino_detect_parts(YOLO("yolo26n-shufflenetv2-slim.yaml").model.model[-1])
    for name, in_float in OPENVINO_NAMES.items():
        assert any(re.match(p, name) for p in parts["outputs"]) is in_float, name  # NNCF matches from the start
    box, cls = "__module.model.17.cv2.0.1.conv/aten::_convolution/Convolution", OPENVINO_CLASS_CONV
    assert re.match(parts["box-branch"][0], box) and not re.match(parts["box-branch"][0], cls)
    assert re.match(parts["class-branch"][0], cls) and not re.match(parts["class-branch"][0], box)


def test_nncf_keeps_the_given_nodes_in_float_besides_the_callers_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    nncf = pytest.importorskip("nncf")
    calls = []
    monkeypatch.setattr(nncf, "quantize", lambda *args, **kwargs: calls.append(kwargs["ignored_scope"]))
    with compat.nncf_int8_kept_in_float(["^a/"]):
        nncf.quantize(model=None, ignored_scope=nncf.IgnoredScope(names=["n"], patterns=["^b/"], types=["Sigmoid"]))
        nncf.quantize(model=None)
    assert (calls[0].names, calls[0].patterns, calls[0].types) == (["n"], ["^b/", "^a/"], ["Sigmoid"])
    assert calls[1].patterns == ["^a/"]
