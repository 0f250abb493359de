"""ShuffleNet V2 building blocks (Ma et al., ECCV 2018) as Ultralytics-style layers.

Every convolution is an Ultralytics ``Conv`` (conv + BN + activation), so the stock ``model.fuse()`` folds every
BatchNorm of the backbone. Constructors take ``(c1, c2, ...)`` like ``ultralytics.nn.modules.conv``.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from ultralytics.nn.modules import Classify, Conv

__all__ = (
    "Conv_maxpool",
    "ImageNetBatchNorm2d",
    "ShuffleNetV2",
    "ShuffleNetV2Classifier",
    "ShuffleNetV2Stage",
    "channel_shuffle",
    "interleave",
)


class ImageNetBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm with torchvision's ``eps=1e-5``, so ImageNet statistics give exactly torchvision's features.

    Ultralytics resets every plain ``nn.BatchNorm2d`` to ``eps=1e-3`` when it builds a model; this subclass is left
    alone by that reset. Momentum is Ultralytics' training value (0.03).
    """

    def __init__(self, num_features: int):
        super().__init__(num_features, eps=1e-5, momentum=0.03)


def conv_bn(c1: int, c2: int, k: int, s: int = 1, g: int = 1, relu: bool = False) -> Conv:
    """Ultralytics ``Conv`` (fusable) with ShuffleNet's activation choice and ImageNet-exact BatchNorm."""
    conv = Conv(c1, c2, k, s, g=g, act=nn.ReLU() if relu else False)
    conv.bn = ImageNetBatchNorm2d(c2)
    return conv


def channel_shuffle(x: torch.Tensor, groups: int = 2) -> torch.Tensor:
    """Interleave channel groups so information crosses the two branches of the next unit.

    Written with ``unflatten``/``flatten`` instead of sizes read from the tensor, so traced exports keep batch and
    image size symbolic.
    """
    return x.unflatten(1, (groups, -1)).transpose(1, 2).flatten(1, 2)


def is_int(value: object) -> bool:
    """An int that is not a bool: YAML gives ``True`` where a user meant a flag, never a width."""
    return isinstance(value, int) and not isinstance(value, bool)


def _check_channels(name: str, c1: int, c2: int, even: bool) -> None:
    if not is_int(c1) or c1 < 1:
        raise ValueError(f"{name}: input channels must be a positive integer, got {c1!r}")
    if not is_int(c2) or c2 < 1 or (even and c2 % 2):
        need = "an even integer >= 2 (two equal branches)" if even else "a positive integer"
        raise ValueError(f"{name}: output channels must be {need}, got {c2!r}")


def interleave(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``channel_shuffle(torch.cat((a, b), 1), 2)`` in one copy instead of two.

    The paper's remark: concat and shuffle (and the next unit's split, here a free view) merge into one element-wise
    operation. Stacking on a new axis after the channels and flattening it away puts ``a[i]`` at channel ``2i`` and
    ``b[i]`` at ``2i + 1``, exactly the shuffled order, without the transpose copy.
    """
    return torch.stack((a, b), dim=2).flatten(1, 2)


class Conv_maxpool(nn.Module):  # noqa: N801 - the name users know from the widely copied YAMLs
    """ShuffleNet V2 stem: 3x3 conv stride 2 + BN + ReLU, then 3x3 max-pool stride 2 (input /4)."""

    def __init__(self, c1: int, c2: int):
        super().__init__()
        _check_channels("Conv_maxpool", c1, c2, even=False)
        self.conv = conv_bn(c1, c2, 3, 2, relu=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.maxpool(self.conv(x))


class ShuffleNetV2(nn.Module):
    """ShuffleNet V2 unit (paper Fig. 3c/3d) with the ``(inp, oup, stride)`` signature of the common blog code.

    Stride 1 splits the channels: one half passes unchanged, the other runs through ``branch2``. Stride 2 feeds the
    whole input to both branches, so the output has ``oup`` channels at half the resolution. Both end in a channel
    shuffle with two groups.

    ``extra_dw=True`` builds the paper's ShuffleNet V2* detection variant: a 3x3 depthwise conv + BN right before the
    first 1x1 conv of each branch, for a wider receptive field. It is stored under the key ``extra_dw`` so every layer
    shared with the plain unit keeps its state-dict key, and ImageNet weights still load into those.
    """

    def __init__(self, inp: int, oup: int, stride: int = 1, extra_dw: bool = False):
        super().__init__()
        if not is_int(stride) or stride not in (1, 2):
            raise ValueError(f"ShuffleNetV2: stride must be 1 or 2, got {stride!r}")
        if not isinstance(extra_dw, bool):
            raise ValueError(f"ShuffleNetV2: extra_dw must be True or False, got {extra_dw!r}")
        _check_channels("ShuffleNetV2", inp, oup, even=True)
        branch = oup // 2
        if stride == 1 and inp != oup:
            raise ValueError(
                f"ShuffleNetV2: a stride-1 unit keeps its width, so its input must have 2 x {branch} = {oup} "
                f"channels (twice the branch width), got {inp}; use stride 2 to change width"
            )
        self.stride = stride

        def extra(c: int) -> list[tuple[str, nn.Module]]:
            return [("extra_dw", conv_bn(c, c, 3, g=c))] if extra_dw else []

        if stride == 2:
            self.branch1 = nn.Sequential(
                OrderedDict(
                    [
                        ("0", conv_bn(inp, inp, 3, 2, g=inp)),  # depthwise
                        *extra(inp),
                        ("1", conv_bn(inp, branch, 1, relu=True)),
                    ]
                )
            )
        c_in = inp if stride == 2 else branch
        self.branch2 = nn.Sequential(
            OrderedDict(
                [
                    *extra(c_in),
                    ("0", conv_bn(c_in, branch, 1, relu=True)),
                    ("1", conv_bn(branch, branch, 3, stride, g=branch)),  # depthwise
                    ("2", conv_bn(branch, branch, 1, relu=True)),
                ]
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            kept, x = x.chunk(2, dim=1)
            return interleave(kept, self.branch2(x))
        return interleave(self.branch1(x), self.branch2(x))


class ShuffleNetV2Stage(nn.Sequential):
    """A whole ShuffleNet V2 stage: one stride-2 unit, then ``n - 1`` stride-1 units at the same width.

    Indexed like torchvision's ``stageN`` (``0`` is the stride-2 unit), so its state dict maps one to one.
    """

    def __init__(self, c1: int, c2: int, n: int = 1, extra_dw: bool = False):
        if not is_int(n) or n < 1:
            raise ValueError(f"ShuffleNetV2Stage: number of units must be an integer >= 1, got {n!r}")
        first = ShuffleNetV2(c1, c2, 2, extra_dw)
        super().__init__(first, *(ShuffleNetV2(c2, c2, 1, extra_dw) for _ in range(n - 1)))


class ShuffleNetV2Classifier(Classify):
    """ShuffleNet V2's own classifier: 1x1 conv5 + BN + ReLU, global average pool, fully connected layer.

    A ``Classify`` (same attribute names, stock forward) so Ultralytics treats it as its classification head:
    softmax at inference, and ``reshape_outputs`` swaps ``linear`` when a data set has another class count. Its
    ``conv`` is built here instead of by ``Classify.__init__``, whose hidden width is fixed at 1280.
    """

    def __init__(self, c1: int, c2: int, c_: int = 1024):
        nn.Module.__init__(self)
        _check_channels("ShuffleNetV2Classifier", c1, c_, even=False)
        if not is_int(c2) or c2 < 1:
            raise ValueError(f"ShuffleNetV2Classifier: number of classes must be a positive integer, got {c2!r}")
        self.conv = conv_bn(c1, c_, 1, relu=True)  # conv5
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Identity()  # torchvision's network has no dropout
        self.linear = nn.Linear(c_, c2)  # fc
