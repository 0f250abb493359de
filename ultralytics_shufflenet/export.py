"""The form the plugin's layers take in exported graphs: the same function, laid out for the runtimes' kernels.

ShuffleNet V2's widths are not multiples of 8: at 1.0x a stage-2 branch is 58 channels wide, at 2.0x 122. The
runtimes' fast convolution kernels work on blocks of channels (ONNX Runtime's NCHWc layout, NCNN's packed layouts),
and a width they cannot block falls back to slow generic kernels: measured here (``scripts/profile_parts.py``),
stage 2 of the 1.0x backbone took about as long as stage 3 with half its multiply-adds in ONNX Runtime.

So every export pads the inner width of each unit's main branch (between its first and last 1x1 conv, where the
depthwise conv runs) up to a multiple of 8. The padding channels have zero weights and zero bias, so they carry
zeros, the unit's output is unchanged (tested), and the branch's input and output widths, hence the channel split,
concat and shuffle, stay the paper's. Only the fused copy that the exporter traces is padded: the model, its state
dict (so ImageNet weights load one to one) and eager PyTorch inference, which the padding slows down, are untouched.
"""

from __future__ import annotations

import torch
from torch import nn

from . import compat
from .modules import ShuffleNetV2

__all__ = ("LANES", "export_form", "pad_branch_widths")

# Channels per block of the runtimes' SIMD kernels: 8 float32 lanes of AVX2 (NCNN, ONNX Runtime's NCHWc); multiples
# of 8 also suit ARM's 4-lane packs.
LANES = 8


def _padded(conv: nn.Conv2d, out_channels: int | None = None, in_channels: int | None = None) -> nn.Conv2d:
    """A copy of a fused conv with zero filters (and zero bias) added up to ``out_channels`` outputs and zero input
    columns up to ``in_channels``; a depthwise conv grows its groups with its channels."""
    depthwise = conv.groups > 1
    out_c = out_channels or conv.out_channels
    in_c = out_c if depthwise else in_channels or conv.in_channels
    padded = nn.Conv2d(
        in_c,
        out_c,
        conv.kernel_size,
        conv.stride,
        conv.padding,
        conv.dilation,
        groups=out_c if depthwise else 1,
        bias=True,
    ).to(conv.weight.device, conv.weight.dtype)
    with torch.no_grad():
        padded.weight.zero_()
        padded.bias.zero_()
        padded.weight[: conv.out_channels, : conv.weight.shape[1]] = conv.weight
        if conv.bias is not None:
            padded.bias[: conv.out_channels] = conv.bias
    padded.requires_grad_(conv.weight.requires_grad)
    return padded


def pad_branch_widths(model: nn.Module, multiple: int = LANES) -> int:
    """Pad, in place, the inner width of every fused ShuffleNet V2 unit's main branch up to a multiple of ``multiple``.

    Returns the number of branches padded. The model must be fused (``model.fuse()``): the padding is written into
    the fused convs' weights, and a BatchNorm would turn the zero channels into its bias.
    """
    padded = 0
    for unit in model.modules():
        if not isinstance(unit, ShuffleNetV2):
            continue
        first, depthwise, last = unit.branch2[-3:]  # 1x1 + ReLU, 3x3 depthwise, 1x1 + ReLU (after V2*'s extra conv)
        if any(hasattr(conv, "bn") for conv in (first, depthwise, last)):
            raise ValueError("pad_branch_widths needs a fused model (model.fuse()): a BatchNorm is still in place")
        width = first.conv.out_channels
        target = -(-width // multiple) * multiple
        if target == width:
            continue
        first.conv = _padded(first.conv, out_channels=target)
        depthwise.conv = _padded(depthwise.conv, out_channels=target)
        last.conv = _padded(last.conv, in_channels=target)
        padded += 1
    return padded


def export_form(model: nn.Module) -> nn.Module:
    """The model as the exporter should trace it: a fused copy with padded branch widths if it has ShuffleNet V2
    units that need padding; else the model itself, untouched (stock models export exactly as without the plugin)."""
    if not any(isinstance(m, ShuffleNetV2) for m in model.modules()):
        return model
    fused = compat.fused_copy(model)
    return fused if pad_branch_widths(fused) else model
