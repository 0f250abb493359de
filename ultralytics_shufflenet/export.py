"""The form the plugin's layers take in exported graphs: the function trained, laid out for the runtimes' kernels and
conditioned for their INT8 quantizers. Only the copy the exporter traces takes this form: the model, its state dict
(so ImageNet weights load one to one) and eager PyTorch inference are untouched.

Six rules, all measured (``bench/parts.py``, ``bench/int8_sensitivity.py``, ``bench/int8_options.py``):

- **Padded branch widths.** ShuffleNet V2's widths are not multiples of 8: at 1.0x a stage-2 branch is 58 channels
  wide, at 2.0x 122. The runtimes' fast convolution kernels work on blocks of channels (ONNX Runtime's NCHWc layout,
  NCNN's packed layouts), and a width they cannot block falls back to slow generic kernels: stage 2 of the 1.0x
  backbone took about as long as stage 3 with half its multiply-adds in ONNX Runtime. So the inner width of each
  unit's main branch (between its first and last 1x1 conv, where the depthwise conv runs) is padded up to a multiple
  of 8 with zero channels. They carry zeros, so the unit's output is unchanged (tested), and the branch's input and
  output widths, hence the channel split, concat and shuffle, stay the paper's. Eager PyTorch, which the padding
  slows down, keeps the paper's widths.
- **Dead channels folded.** A BatchNorm channel whose input never varied in training (running variance ~0: its
  input channel is a ReLU that never fires, which ImageNet-trained ShuffleNets have in every stage) always outputs
  its bias. Folded as it stands, its conv filter is multiplied by ``gamma / sqrt(eps)``, 316x at torchvision's
  ``eps=1e-5``: a filter of 78 became 24,843 in one trained model, and when INT8 rounding lets the dead ReLU leak a
  step, that weight turns the step into an error that swamped the layer (OpenVINO INT8 mAP50-95 0.58 -> 0.14). Such
  a channel is exported as what it computed on every input it was trained on: a zero filter and its bias.
- **Detect's outputs in float in TFLite INT8.** Kept in float one part at a time, the stock Detect head is where
  TFLite INT8 loses a trained model's accuracy (the whole head: -4.4 -> -1.6 points of mAP50-95; any part of the
  backbone or neck: at most 1 point back), and within the head its last conv per branch and everything after it
  (DFL, decoding, concats): -3.0 / -3.7 -> -1.7 / -1.3 on ``-wide`` /
  ``-fast``. So a detector with plugin layers exports those ops in float under ai_edge_quantizer's static INT8
  recipe; stock models export as without the plugin.
- **Histogram ranges in OpenVINO INT8.** NNCF's default activation ranges lost a trained model's accuracy all over
  (no part kept in float won back more than 0.8 of 1.8 points), and its min/max ranges were far worse (0.58 -> 0.21):
  outliers stretch the ranges. Ranges fitted to histograms of the calibration data cut the drop from -1.4 / -1.8 to
  -0.9 / -0.5 on ``-fast`` / ``-wide``, so NNCF gets them for plugin models.
- **A narrow box branch in float in OpenVINO INT8, for detectors without a DFL.** With ``reg_max: 1`` (the YOLO26
  head) the box branch's convs regress the box sides directly, and their INT8 rounding is where OpenVINO lost a
  trained ``-slim-nms`` (20 epochs): the whole head in float took the drop from -2.8 to -0.4 points, the box branch
  alone to -0.7, the class branch alone to -2.3, the output convs and decoding (TFLite's rule) nothing. The box
  branch in float took ``-slim-nms``'s other seed from -1.4 to -0.5 and ``-slim``'s two from -1.5 and -0.8 to 0.0
  and -0.5, at no measurable cost (16 channels: 4.61 against 4.63 ms). ``-wide-nms``'s 64-channel branch lost
  nothing in INT8 and cost 16 % more time in float (7.26 against 6.28 ms), so a branch wider than
  ``NARROW_BOX_BRANCH`` stays NNCF's choice, as do heads with a DFL (not measured this way).
- **Box decoding by reductions in ONNX, MNN and TFLite.** The stock Detect head's DFL moves each box side's 16 bins
  to axis 1 for a softmax and a 1x1 conv. ONNX Runtime ran that one softmax in 2.5 ms of the 22.7 ms a ``-fast`` at
  320 spent in kernels (2.7 ms at two threads, where it does not parallelize); on the DFL alone the same expectation
  as reductions along the bins' own axis took 0.25 ms against 2.5 ms (two threads: 0.15 against 3.4). Whole ``-fast``:
  ONNX Runtime -1.2 ms at one thread, -2.8 ms at two; MNN -0.5 / -1.8 ms; TFLite -0.8 / -1.9 ms; OpenVINO -0.4 ms
  and NCNN +0.4 ms (noise), so those two keep the stock graph. In TFLite INT8 these ops stay in float (the rule
  below keeps everything after Detect's output convs in float).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import torch
from torch import nn
from ultralytics.nn.modules import Conv, Detect

from . import compat
from .modules import ImageNetBatchNorm2d, ShuffleNetV2

# Set to 0 to export plugin models with the quantizers' own settings (the export form itself stays).
INT8_RULES_ENV = "ULTRALYTICS_SHUFFLENET_INT8_RULES"
# The widest box branch OpenVINO INT8 keeps in float (stock YOLO26n's width at n).
NARROW_BOX_BRANCH = 16

__all__ = (
    "DEAD_VARIANCE",
    "EXPECTATION_FORMATS",
    "LANES",
    "NARROW_BOX_BRANCH",
    "BinExpectation",
    "decode_by_reductions",
    "export_form",
    "fold_dead_channels",
    "int8_rules",
    "pad_branch_widths",
)

# Channels per block of the runtimes' SIMD kernels: 8 float32 lanes of AVX2 (NCNN, ONNX Runtime's NCHWc); multiples
# of 8 also suit ARM's 4-lane packs.
LANES = 8
# A channel whose running variance is below this, relative to the BatchNorm's eps, has an output that varied by less
# than 0.1 % of its gamma in training (std = gamma * sqrt(var / (var + eps))): it is constant for every purpose.
DEAD_VARIANCE = 1e-6


def fold_dead_channels(model: nn.Module) -> int:
    """In every conv + ImageNet BatchNorm of an unfused model, turn each channel whose BatchNorm saw a constant input
    into that constant: zero filter and zero running mean, so fusing gives weight 0 and bias ``beta``, the value the
    channel output on every training input. Returns the number of channels folded."""
    folded = 0
    for m in model.modules():
        if isinstance(m, Conv) and isinstance(getattr(m, "bn", None), ImageNetBatchNorm2d):
            dead = m.bn.running_var < DEAD_VARIANCE * m.bn.eps
            if dead.any():
                with torch.no_grad():
                    m.conv.weight[dead] = 0
                    m.bn.running_mean[dead] = 0
                folded += int(dead.sum())
    return folded


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


class BinExpectation(nn.Module):
    """Stock DFL's function, the expected bin under a softmax over each box side's ``c1`` bins, computed along the
    axis the bins already lie on: max, exp, two sums and a division, no transpose and no softmax kernel.

    Args:
        c1 (int): Bins per box side (the head's ``reg_max``).

    Shapes: (B, 4 * c1, A) -> (B, 4, A).
    """

    def __init__(self, c1: int):
        super().__init__()
        self.c1 = c1
        self.register_buffer("bins", torch.arange(c1, dtype=torch.float).view(1, 1, c1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, a = x.shape
        x = x.view(b, 4, self.c1, a)
        e = (x - x.amax(2, keepdim=True)).exp()  # the max keeps exp in range, as softmax does
        return (e * self.bins).sum(2) / e.sum(2)


def decode_by_reductions(model: nn.Module) -> int:
    """Replace, in place, every stock DFL of the model's heads by a ``BinExpectation``; returns how many."""
    heads = compat.dfl_heads(model)
    for head in heads:
        head.dfl = BinExpectation(head.dfl.c1).to(next(head.parameters()).device)
    return len(heads)


# The formats whose runtimes run stock DFL's softmax far slower than BinExpectation's reductions (measured above).
EXPECTATION_FORMATS = frozenset({"onnx", "mnn", "tflite", "litert"})


def export_form(model: nn.Module, fmt: str = "") -> nn.Module:
    """The model as the exporter should trace it for format ``fmt``: a fused copy with dead channels folded, padded
    branch widths and, in ``EXPECTATION_FORMATS``, boxes decoded by reductions, if it has plugin layers those rules
    change; else the model itself, untouched (stock models export exactly as without the plugin)."""
    if not has_plugin_layers(model):
        return model
    form = copy.deepcopy(model).eval().float()  # the exporter's order: float32 first, then fuse
    folded = fold_dead_channels(form)
    form = compat.fuse_keeping_head_branches(form)
    decoded = decode_by_reductions(form) if fmt.lower() in EXPECTATION_FORMATS else 0
    return form if pad_branch_widths(form) or folded or decoded else model


def has_plugin_layers(model: nn.Module) -> bool:
    """Whether a model holds the plugin's layers: only those get the export form and the INT8 rules."""
    return any(isinstance(m, ImageNetBatchNorm2d) for m in model.modules())


@contextmanager
def int8_rules(model: nn.Module, exporter: Any) -> Iterator[None]:
    """During the block, the exporter quantizes a plugin model as measured best: OpenVINO INT8 with histogram
    activation ranges, and a detector without a DFL with its Detect head's narrow box branch in float; TFLite
    (LiteRT) INT8 of a detector with its Detect head's output convs and everything after them in float. Stock
    models, every other format, and ``INT8_RULES_ENV=0``: no change."""
    with ExitStack() as rules:
        if has_plugin_layers(model) and os.environ.get(INT8_RULES_ENV, "1") != "0":
            head = model.model[-1] if isinstance(getattr(model, "model", None), nn.Sequential) else None
            if compat.exports_openvino_int8(exporter):
                rules.enter_context(compat.nncf_histogram_ranges())
                narrow = type(head) is Detect and compat.box_branch_channels(head) <= NARROW_BOX_BRANCH
                if narrow and head.reg_max == 1:
                    box_branch = compat.openvino_detect_parts(head)["box-branch"]
                    rules.enter_context(compat.nncf_int8_kept_in_float(box_branch))
            if type(head) is Detect and compat.exports_litert(exporter):
                rules.enter_context(compat.litert_int8_kept_in_float(compat.litert_detect_outputs(head)))
        yield
