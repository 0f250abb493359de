"""ShuffleNet V2 building blocks (Ma et al., ECCV 2018) as Ultralytics-style layers, and the table of their YAML names.

Every convolution is an Ultralytics ``Conv`` (conv + BN + activation), so the stock ``model.fuse()`` folds every
BatchNorm of the backbone (its fused path is ``Conv.forward_fuse``). Constructors take ``(c1, c2, ...)`` like
``ultralytics.nn.modules.conv``; the unit keeps the ``(inp, oup, stride)`` names of the widely copied blog code.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional
from ultralytics.nn.modules import Classify, Conv

__all__ = (
    "PLUGIN_LAYERS",
    "Conv_maxpool",
    "ImageNetBatchNorm2d",
    "PluginLayer",
    "ShuffleNetV2",
    "ShuffleNetV2Classifier",
    "ShuffleNetV2Stage",
    "channel_shuffle",
    "interleave",
)


class ImageNetBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm with torchvision's ``eps=1e-5``, so ImageNet statistics give exactly torchvision's features.

    Ultralytics resets every plain ``nn.BatchNorm2d`` to ``eps=1e-3`` when it builds a model; this subclass is left
    alone by that reset (see ``compat``). Momentum is Ultralytics' training value (0.03).

    Args:
        num_features (int): Channels C of the (B, C, H, W) input.
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


def interleave(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``channel_shuffle(torch.cat((a, b), 1), 2)`` in one copy instead of two.

    The paper's remark: concat and shuffle (and the next unit's split, here a free view) merge into one element-wise
    operation. Stacking on a new axis after the channels and flattening it away puts ``a[i]`` at channel ``2i`` and
    ``b[i]`` at ``2i + 1``, exactly the shuffled order, without the transpose copy.
    """
    return torch.stack((a, b), dim=2).flatten(1, 2)


def is_int(value: object) -> bool:
    """An int that is not a bool: YAML gives ``True`` where a user meant a flag, never a width."""
    return isinstance(value, int) and not isinstance(value, bool)


def _check_channels(name: str, c1: int, c2: int, even: bool) -> None:
    if not is_int(c1) or c1 < 1:
        raise ValueError(f"{name}: input channels must be a positive integer, got {c1!r}")
    if not is_int(c2) or c2 < 1 or (even and c2 % 2):
        need = "an even integer >= 2 (two equal branches)" if even else "a positive integer"
        raise ValueError(f"{name}: output channels must be {need}, got {c2!r}")


def max_pool_3x3_s2(x: torch.Tensor) -> torch.Tensor:
    """``nn.MaxPool2d(3, 2, 1)`` as the maximum of nine strided views: the same values, several times faster in eager
    PyTorch on CPU, whose pooling kernel for NCHW tensors is slow (9 ms of a 60 ms detector at 640 in the stem).
    """
    x = functional.pad(x, (1, 1, 1, 1), value=float("-inf"))  # every window holds a real value: -inf never wins
    h, w = x.shape[2] - 2, x.shape[3] - 2
    rows = torch.maximum(torch.maximum(x[:, :, 0:h:2], x[:, :, 1 : h + 1 : 2]), x[:, :, 2 : h + 2 : 2])
    return torch.maximum(torch.maximum(rows[..., 0:w:2], rows[..., 1 : w + 1 : 2]), rows[..., 2 : w + 2 : 2])


def is_eager_cpu_inference(x: torch.Tensor) -> bool:
    """Plain PyTorch inference on CPU: not training, and not traced, scripted, compiled or exported.

    Exports keep the stock operator (one MaxPool node), which every runtime implements well.
    """
    compiling = getattr(torch.compiler, "is_compiling", lambda: False)() if hasattr(torch, "compiler") else False
    return (
        x.device.type == "cpu"
        and not torch.is_grad_enabled()
        and not (torch.jit.is_tracing() or torch.jit.is_scripting() or torch.onnx.is_in_onnx_export() or compiling)
    )


class Conv_maxpool(nn.Module):  # noqa: N801 - the name users know from the widely copied YAMLs
    """ShuffleNet V2 stem: 3x3 conv stride 2 + BN + ReLU, then 3x3 max-pool stride 2.

    Args:
        c1 (int): Input channels (3 for images).
        c2 (int): Output channels (24 in the paper at every width).

    Shapes: (B, c1, H, W) -> (B, c2, ceil(H / 4), ceil(W / 4)).
    """

    def __init__(self, c1: int, c2: int):
        super().__init__()
        _check_channels("Conv_maxpool", c1, c2, even=False)
        self.conv = conv_bn(c1, c2, 3, 2, relu=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return max_pool_3x3_s2(x) if is_eager_cpu_inference(x) else self.maxpool(x)


class ShuffleNetV2(nn.Module):
    """ShuffleNet V2 unit (paper Fig. 3c/3d) with the ``(inp, oup, stride)`` signature of the common blog code.

    Stride 1 splits the channels: one half passes unchanged, the other runs through ``branch2``. Stride 2 feeds the
    whole input to both branches, so the output has ``oup`` channels at half the resolution. Both end in a channel
    shuffle with two groups.

    ``extra_dw=True`` builds the paper's ShuffleNet V2* detection variant: a 3x3 depthwise conv + BN right before the
    first 1x1 conv of each branch, for a wider receptive field. It is stored under the key ``extra_dw`` so every layer
    shared with the plain unit keeps its state-dict key, and ImageNet weights still load into those.

    Args:
        inp (int): Input channels; must equal ``oup`` at stride 1.
        oup (int): Output channels, even (two branches of ``oup / 2``).
        stride (int): 1 keeps the resolution, 2 halves it.
        extra_dw (bool): ShuffleNet V2* (one more depthwise conv per branch).

    Shapes: (B, inp, H, W) -> (B, oup, H, W) at stride 1, (B, oup, ceil(H / 2), ceil(W / 2)) at stride 2.
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

    # How the two branches become one output: concat + shuffle, merged into one copy (bench/unit.py
    # measures it against the literal concat-then-shuffle).
    join = staticmethod(interleave)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            kept, x = x.chunk(2, dim=1)
            return self.join(kept, self.branch2(x))
        return self.join(self.branch1(x), self.branch2(x))


class ShuffleNetV2Stage(nn.Sequential):
    """A whole ShuffleNet V2 stage: one stride-2 unit, then ``n - 1`` stride-1 units at the same width.

    Indexed like torchvision's ``stageN`` (``0`` is the stride-2 unit), so its state dict maps one to one.

    Args:
        c1 (int): Input channels.
        c2 (int): Output channels, even.
        n (int): Units in the stage (the paper: 4, 8, 4 for stages 2, 3, 4).
        extra_dw (bool): ShuffleNet V2* units.

    Shapes: (B, c1, H, W) -> (B, c2, ceil(H / 2), ceil(W / 2)).
    """

    def __init__(self, c1: int, c2: int, n: int = 1, extra_dw: bool = False):
        if not is_int(n) or n < 1:
            raise ValueError(f"ShuffleNetV2Stage: number of units must be an integer >= 1, got {n!r}")
        first = ShuffleNetV2(c1, c2, 2, extra_dw)
        super().__init__(first, *(ShuffleNetV2(c2, c2, 1, extra_dw) for _ in range(n - 1)))


class ShuffleNetV2Classifier(Classify):
    """ShuffleNet V2's own classifier: 1x1 conv5 + BN + ReLU, global average pool, fully connected layer.

    A stock ``Classify`` with conv5 and the fully connected layer at ShuffleNet's widths instead of its fixed 1280, so
    Ultralytics treats it as its classification head: softmax at inference, ``dropout=`` from the trainer, and
    ``linear`` swapped when a data set has another class count.

    Args:
        c1 (int): Input channels (stage 4's).
        c2 (int): Classes.
        c_ (int): conv5 channels (1024, or 2048 at 2.0x).

    Shapes: (B, c1, H, W) -> (B, c2) logits in training; (probabilities, logits) in eval, as ``Classify``.
    """

    def __init__(self, c1: int, c2: int, c_: int = 1024):
        _check_channels("ShuffleNetV2Classifier", c1, c_, even=False)
        if not is_int(c2) or c2 < 1:
            raise ValueError(f"ShuffleNetV2Classifier: number of classes must be a positive integer, got {c2!r}")
        super().__init__(c1, c2)
        self.conv = conv_bn(c1, c_, 1, relu=True)  # conv5
        self.linear = nn.Linear(c_, c2)  # fc


@dataclass(frozen=True)
class PluginLayer:
    """One YAML layer name of the plugin.

    Attributes:
        name: what a YAML row writes in its module column.
        module: the class it builds, called as ``module(c1, *args)``; its parameters after ``c1`` are the YAML
            arguments, of which the first is the output width.
        exact_width: True: the width is used as written (a number, or a name from the YAML's ``shufflenet_channels``
            for the model's scale), as the paper's widths must be. False: scaled like a stock ``Conv`` (width
            multiple, ``max_channels``, rounded to 8), as the blog YAMLs expect.
    """

    name: str
    module: type[nn.Module]
    exact_width: bool

    @property
    def arguments(self) -> tuple[str, ...]:
        """The YAML argument names: the constructor's parameters after the input channels."""
        return tuple(inspect.signature(self.module).parameters)[1:]

    @property
    def usage(self) -> str:
        return f"[{', '.join(self.arguments)}]"


PLUGIN_LAYERS: dict[str, PluginLayer] = {
    layer.name: layer
    for layer in (
        PluginLayer(name="ShuffleNetV2Stem", module=Conv_maxpool, exact_width=True),
        PluginLayer(name="ShuffleNetV2Stage", module=ShuffleNetV2Stage, exact_width=True),
        # Named so that Ultralytics' task guess (which reads the last head row's name) says 'classify'.
        PluginLayer(name="Classifier", module=ShuffleNetV2Classifier, exact_width=True),
        # The names of the widely copied blog YAMLs, with Conv-like widths.
        PluginLayer(name="Conv_maxpool", module=Conv_maxpool, exact_width=False),
        PluginLayer(name="CBRM", module=Conv_maxpool, exact_width=False),
        PluginLayer(name="ShuffleNetV2", module=ShuffleNetV2, exact_width=False),
        PluginLayer(name="Shuffle_Block", module=ShuffleNetV2, exact_width=False),
    )
}
