"""ShuffleNet V2 blocks against a direct definition from the paper, written with plain torch layers; the layer table."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from ultralytics.nn.modules import Conv

import ultralytics_shufflenet
from ultralytics_shufflenet import (
    PLUGIN_LAYERS,
    Conv_maxpool,
    ShuffleNetV2,
    ShuffleNetV2Classifier,
    ShuffleNetV2Stage,
    channel_shuffle,
    interleave,
)
from ultralytics_shufflenet.modules import ImageNetBatchNorm2d, max_pool_3x3_s2
from ultralytics_shufflenet.registry import CHECKPOINT_CLASSES


def reference_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    b, c, h, w = x.size()
    return x.view(b, groups, c // groups, h, w).transpose(1, 2).contiguous().view(b, c, h, w)


def conv_bn(c1: int, c2: int, k: int, s: int, g: int, relu: bool) -> list[nn.Module]:
    layers = [nn.Conv2d(c1, c2, k, s, k // 2, groups=g, bias=False), nn.BatchNorm2d(c2)]
    return [*layers, nn.ReLU()] if relu else layers


class ReferenceUnit(nn.Module):
    """Paper Fig. 3(c)/(d) spelled out: split / two branches, concat, shuffle."""

    def __init__(self, inp: int, oup: int, stride: int):
        super().__init__()
        self.stride, half = stride, oup // 2
        if stride == 2:
            self.branch1 = nn.Sequential(*conv_bn(inp, inp, 3, 2, inp, False), *conv_bn(inp, half, 1, 1, 1, True))
        c_in = inp if stride == 2 else half
        self.branch2 = nn.Sequential(
            *conv_bn(c_in, half, 1, 1, 1, True),
            *conv_bn(half, half, 3, stride, half, False),
            *conv_bn(half, half, 1, 1, 1, True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            a, b = x.chunk(2, dim=1)
            return reference_shuffle(torch.cat((a, self.branch2(b)), 1), 2)
        return reference_shuffle(torch.cat((self.branch1(x), self.branch2(x)), 1), 2)


def randomize_bn(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.5, 0.5)
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)


def copy_in_order(source: nn.Module, target: nn.Module) -> None:
    """Both define their tensors in the paper's order, so state dicts pair up one to one."""
    src, dst = source.state_dict(), target.state_dict()
    assert [v.shape for v in src.values()] == [v.shape for v in dst.values()]
    target.load_state_dict(dict(zip(dst, src.values())))


@pytest.mark.parametrize("groups", [2, 4])
def test_channel_shuffle_matches_reference_and_permutes(groups: int) -> None:
    x = torch.randn(3, 8, 5, 7)
    out = channel_shuffle(x, groups)
    torch.testing.assert_close(out, reference_shuffle(x, groups), rtol=0, atol=0)
    per_group = 8 // groups
    for k in range(8):  # output channel k is input channel (k % groups) * per_group + k // groups
        assert torch.equal(out[:, k], x[:, (k % groups) * per_group + k // groups])


def test_interleave_is_concat_then_shuffle_exactly() -> None:
    a, b = torch.randn(2, 6, 5, 4), torch.randn(2, 6, 5, 4)
    assert torch.equal(interleave(a, b), channel_shuffle(torch.cat((a, b), 1), 2))


@pytest.mark.parametrize(("inp", "oup", "stride"), [(24, 48, 2), (48, 48, 1), (116, 232, 2), (232, 232, 1)])
def test_unit_matches_reference(inp: int, oup: int, stride: int) -> None:
    torch.manual_seed(0)
    ours, ref = ShuffleNetV2(inp, oup, stride), ReferenceUnit(inp, oup, stride)
    randomize_bn(ref)
    copy_in_order(ref, ours)
    ours.eval(), ref.eval()
    x = torch.randn(2, inp, 16, 12)
    out = ours(x)
    assert out.shape == (2, oup, 16 // stride, 12 // stride)
    torch.testing.assert_close(out, ref(x), rtol=1e-5, atol=1e-5)
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in ref.parameters())


def test_every_conv_is_an_ultralytics_conv_with_the_papers_activation() -> None:
    unit = ShuffleNetV2(24, 48, 2)
    convs = [m for m in unit.modules() if isinstance(m, Conv)]
    assert len(convs) == 5 and not any(isinstance(m, nn.Conv2d) for m in unit.children())
    relu = [isinstance(c.act, nn.ReLU) for c in convs]
    linear = [isinstance(c.act, nn.Identity) for c in convs]
    # branch1: depthwise (linear), 1x1 (ReLU); branch2: 1x1 (ReLU), depthwise (linear), 1x1 (ReLU)
    assert relu == [False, True, True, False, True] and linear == [True, False, False, True, False]


def test_stem_and_stage_shapes() -> None:
    stem = Conv_maxpool(3, 24)
    x = stem(torch.randn(2, 3, 64, 96))
    assert x.shape == (2, 24, 16, 24)
    assert isinstance(stem.conv.act, nn.ReLU) and stem.maxpool.kernel_size == 3 and stem.maxpool.stride == 2
    stage = ShuffleNetV2Stage(24, 116, 4)
    assert [u.stride for u in stage] == [2, 1, 1, 1]
    assert stage(x).shape == (2, 116, 8, 12)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ShuffleNetV2(48, 96, 1), r"input must have 2 x 48 = 96 channels .* got 48"),
        (lambda: ShuffleNetV2(48, 48, 3), r"stride must be 1 or 2, got 3"),
        (lambda: ShuffleNetV2(24, 117, 2), r"even integer .* got 117"),
        (lambda: ShuffleNetV2(0, 48, 2), r"input channels must be a positive integer, got 0"),
        (lambda: ShuffleNetV2(24, 48, True), r"stride must be 1 or 2, got True"),
        (lambda: Conv_maxpool(3, 0), r"output channels must be a positive integer, got 0"),
        (lambda: ShuffleNetV2Stage(24, 48, 0), r"number of units must be an integer >= 1, got 0"),
    ],
)
def test_invalid_settings_raise_value_error(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_v2_star_puts_a_depthwise_conv_before_the_first_pointwise_conv_of_each_branch() -> None:
    unit = ShuffleNetV2(24, 48, 2, extra_dw=True)
    assert list(unit.branch1._modules) == ["0", "extra_dw", "1"]
    assert list(unit.branch2._modules) == ["extra_dw", "0", "1", "2"]
    for branch, c in ((unit.branch1, 24), (unit.branch2, 24)):
        dw = branch.extra_dw
        assert dw.conv.groups == dw.conv.in_channels == c and dw.conv.kernel_size == (3, 3) and dw.conv.stride == (1, 1)
        assert isinstance(dw.act, nn.Identity)  # conv + BN, no ReLU, like the paper's other depthwise convs
    assert list(ShuffleNetV2(48, 48, 1, extra_dw=True).branch2._modules) == ["extra_dw", "0", "1", "2"]
    assert ShuffleNetV2Stage(24, 48, 3, True)(torch.randn(2, 24, 16, 16)).shape == (2, 48, 8, 8)
    with pytest.raises(ValueError, match="extra_dw must be True or False, got 1"):
        ShuffleNetV2(24, 48, 2, extra_dw=1)


def test_layer_table_arguments_are_the_constructor_parameters() -> None:
    usage = {name: layer.usage for name, layer in PLUGIN_LAYERS.items()}
    assert usage["ShuffleNetV2"] == usage["Shuffle_Block"] == "[oup, stride, extra_dw]"  # blog: (inp, oup, stride)
    assert usage["ShuffleNetV2Stage"] == "[c2, n, extra_dw]"
    assert usage["Classifier"] == "[c2, c_]"
    assert usage["ShuffleNetV2Stem"] == usage["Conv_maxpool"] == usage["CBRM"] == "[c2]"


def test_public_names_and_checkpoint_classes_come_from_the_layer_table() -> None:
    classes = {layer.module for layer in PLUGIN_LAYERS.values()}
    assert {cls.__name__ for cls in classes} <= set(ultralytics_shufflenet.__all__)
    assert all(getattr(ultralytics_shufflenet, cls.__name__) is cls for cls in classes)
    assert set(CHECKPOINT_CLASSES) == classes | {ImageNetBatchNorm2d}


def test_classifier_is_a_stock_classify_head_at_shufflenet_widths() -> None:
    head = ShuffleNetV2Classifier(192, 10, 1024)
    assert head.conv.conv.out_channels == 1024 and head.linear.in_features == 1024 and head.linear.out_features == 10
    assert isinstance(head.drop, nn.Dropout)  # the trainer's dropout= setting reaches it
    x = torch.randn(2, 192, 7, 7)
    assert head.train()(x).shape == (2, 10)
    probabilities, logits = head.eval()(x)
    torch.testing.assert_close(probabilities, logits.softmax(1))


@pytest.mark.parametrize("shape", [(2, 24, 160, 160), (1, 5, 33, 18), (1, 3, 1, 2)])
def test_fast_stem_pool_equals_the_stock_max_pool_exactly(shape: tuple[int, ...]) -> None:
    x = torch.relu(torch.randn(shape))  # as after the stem's ReLU: many ties at 0
    torch.testing.assert_close(max_pool_3x3_s2(x), nn.MaxPool2d(3, 2, 1)(x), rtol=0, atol=0)
    x = torch.randn(shape)
    torch.testing.assert_close(max_pool_3x3_s2(x), nn.MaxPool2d(3, 2, 1)(x), rtol=0, atol=0)


def test_stem_uses_the_stock_pool_whenever_it_is_traced_or_trained() -> None:
    stem = Conv_maxpool(3, 8).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        eager = stem(x)
        graph = torch.jit.trace(stem, x).inlined_graph
    assert "aten::max_pool2d" in str(graph) and "aten::maximum" not in str(graph)
    assert torch.equal(eager, stem.maxpool(stem.conv(x)))
    assert torch.equal(stem.train()(x), stem.maxpool(stem.conv(x)))  # with gradients: the stock operator
