"""Write every shipped model YAML from one description: backbone, neck variant, head family and task head.

The shipped files stay plain stock-style YAMLs that users can read and copy; this script is the one place where their
shared blocks are written, so a change to the backbone or a neck reaches every task at once. Each file's scale lines
carry the summary Ultralytics prints for that model (layers, parameters, GFLOPs at 640), measured by building it.

    python -m bench configs            # rewrite what changed in ultralytics_shufflenet/cfg/models/*.yaml
    python -m bench configs --check    # exit 1 if a shipped file differs (summaries taken as written)
    python -m bench configs --stock runs/stock   # stock models with a head key changed, never committed

tests/test_configs.py fails when a shipped file differs from what this script writes.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from . import yolo_env
from .models import CONFIG_DIR, TASK_INFIX, with_scale

GENERATED = (
    "# Written by python -m bench configs from one description of every shipped config: edit that "
    "(bench/make_configs.py)."
)

# Stock scales of each head family, [depth, width, max_channels], as in Ultralytics' yolov8.yaml, yolo11.yaml and
# yolo26.yaml.
FAMILY_SCALES = {
    "yolov8": {"n": "0.33, 0.25, 1024", "s": "0.33, 0.50, 1024", "m": "0.67, 0.75, 768", "l": "1.00, 1.00, 512"},
    "yolo11": {"n": "0.50, 0.25, 1024", "s": "0.50, 0.50, 1024", "m": "0.50, 1.00, 512", "l": "1.00, 1.00, 512"},
}
FAMILY_SCALES["yolov8"]["x"] = "1.00, 1.25, 512"
FAMILY_SCALES["yolo11"]["x"] = "1.00, 1.50, 512"
FAMILY_SCALES["yolo26"] = FAMILY_SCALES["yolo11"]
FAMILY_NAMES = {"yolov8": "YOLOv8", "yolo11": "YOLO11", "yolo26": "YOLO26"}
# The Ultralytics release that added what a family's config uses (YOLO26: 8.4.0; its semantic head: 8.4.52; its
# depth head: 8.4.104). The plugin's builder reads it and names it when the installed release is older.
FAMILY_SINCE = {"yolo26": "8.4.0"}


@dataclass(frozen=True)
class TaskHead:
    """The stock head of a task in each head family that has it, and what the stock YAML of that task adds at the
    top."""

    families: dict[str, tuple[str, int]]  # head family -> (head module, nc), as the stock YAML says
    args: str
    words: str
    extra: str = ""
    levels: int = 3  # P3-P5; 2: P3 and the top-down P4, where stock yolo26-sem's neck stops
    since: str = ""  # the Ultralytics release that added the task, when later than its family


TASK_HEADS = {
    "detect": TaskHead(
        {"yolov8": ("Detect", 80), "yolo11": ("Detect", 80), "yolo26": ("Detect", 80)}, "[nc]", "object detection"
    ),
    "segment": TaskHead(
        {"yolov8": ("Segment", 80), "yolo11": ("Segment", 80), "yolo26": ("Segment26", 80)},
        "[nc, 32, 256]",
        "instance segmentation",
    ),
    "pose": TaskHead(
        {"yolov8": ("Pose", 1), "yolo11": ("Pose", 80), "yolo26": ("Pose26", 80)},
        "[nc, kpt_shape]",
        "pose estimation",
        "kpt_shape: [17, 3] # keypoints, dims (2 for x,y or 3 for x,y,visible); training takes the data set's\n",
    ),
    "obb": TaskHead(
        {"yolov8": ("OBB", 80), "yolo11": ("OBB", 80), "yolo26": ("OBB26", 80)}, "[nc, 1]", "oriented bounding boxes"
    ),
    "semantic": TaskHead(
        {"yolo26": ("SemanticSegment", 19)}, "[nc]", "semantic segmentation", levels=2, since="8.4.52"
    ),
    "depth": TaskHead({"yolo26": ("Depth", 1)}, "[256]", "depth estimation", since="8.4.104"),
}
END_TO_END_TASKS = ("detect", "segment", "pose", "obb")  # the YOLO26 tasks whose heads have a one-to-one branch
END_TO_END_FAMILIES = ("yolo26",)


@dataclass(frozen=True)
class Head:
    """What the top-level keys of a YOLO26 detect, seg, pose or obb config choose in its stock head: the DFL
    (reg_max), the box branch's width (the plugin's box_channels; stock Detect ties it to reg_max: max(16, P3 / 4,
    4 x reg_max)), and the one-to-one branch with its end-to-end loss. The default is stock yolo26.yaml's head."""

    reg_max: int = 1
    box_channels: int = 0  # 0: the stock width
    end2end: bool = True

    def keys(self, stock_width: int) -> list[str]:
        """The config's lines; ``stock_width``: the box branch's width stock Detect gives the n model."""
        lines = [
            "end2end: True # one-to-one (NMS-free) branch beside the one-to-many one"
            if self.end2end
            else "end2end: False # the one-to-many branch alone, trained and validated with NMS as YOLO11's"
        ]
        lines.append(
            "reg_max: 1 # no DFL"
            if self.reg_max == 1
            else f"reg_max: {self.reg_max} # a DFL of {self.reg_max} bins"
            + ("" if self.box_channels else f"; the box branch {stock_width} wide at n (stock)")
        )
        if self.box_channels:
            lines.append(
                f"box_channels: {self.box_channels} # the box branch's width "
                f"(stock: max(16, P3 / 4, 4 x reg_max) = {stock_width} at n)"
            )
        return lines

    def box_width(self, stock_width: int) -> int:
        """The box branch's width the model gets: ``box_channels`` where set, else stock Detect's."""
        return self.box_channels or stock_width

    def changes(self) -> list[str]:
        """What differs from stock YOLO26's head, in words."""
        words = [f"reg_max {self.reg_max}"] if self.reg_max != 1 else []
        words += [f"its box branch {self.box_channels} wide"] if self.box_channels else []
        return words + ([] if self.end2end else ["no one-to-one branch"])


@dataclass(frozen=True)
class Variant:
    """A backbone and neck choice, offered for every task of the head families listed."""

    suffix: str  # after "shufflenetv2" in the file name
    families: tuple[str, ...]
    star: bool  # ShuffleNet V2* units
    neck: str  # "stock", "half" or "pan"
    about: str
    wide: bool = False  # backbone widths from widths.WIDE_SCALES (one published width up) instead of SCALES
    stage4: bool = True  # False: a stride-2 conv on stage 3 makes P5 (stage 4 is a fifth of the backbone's time)
    pan_width: int = 256  # the slim PAN's one width before the scale's width multiple (64 channels at n)
    head: Head = Head()  # YOLO26 family only: the stock head unless a measured change earned its place

    def stock_box_width(self) -> int:
        """The box branch's width stock Detect gives the n model on this neck and head: max(16, P3 / 4, 4 x reg_max)."""
        p3 = {"pan": self.pan_width, "half": 128}.get(self.neck, 256) // 4  # n's width multiple, 0.25
        return max(16, p3 // 4, 4 * self.head.reg_max)


VARIANTS = (
    Variant(
        "",
        ("yolov8", "yolo11", "yolo26"),
        False,
        "stock",
        "The paper's ShuffleNet V2 backbone under the stock {F} neck and head.",
    ),
    Variant(
        "-star",
        ("yolov8",),  # the paper's detection variant, kept with the classic head family
        True,
        "stock",
        "The paper's ShuffleNet V2* backbone (its detection section: one extra 3x3 depthwise conv + BN before the\n"
        "# first 1x1 conv of every branch, for a wider receptive field) under the stock {F} neck and head. ImageNet\n"
        "# weights of plain V2 load into every layer the two share.",
    ),
    Variant(
        "-lite",
        ("yolov8", "yolo11"),
        False,
        "half",
        "The speed variant: the paper's ShuffleNet V2 backbone under the stock {F} neck at half width (every\n"
        "# neck row at half the stock channels) and the stock head.",
    ),
    Variant(
        "-pan",
        ("yolo11",),
        False,
        "pan",
        "The paper's ShuffleNet V2 backbone under a slim PAN in the style of NanoDet-Plus (every level reduced to\n"
        "# one width, 64 channels at n; small C3k2 blocks; depthwise stride-2 downsampling) and the stock {F} head.",
    ),
    Variant(
        "-wide",
        ("yolo11", "yolo26"),
        False,
        "pan",
        "The slim PAN of the '-pan' configs (64 channels at n) on a backbone one published width up. This variant\n"
        "# picks its own width per scale, n -> 1.0x, s -> 1.5x, m, l and x -> 2.0x, so that its n model starts from\n"
        "# torchvision's 1.0x ImageNet weights (python -m ultralytics_shufflenet.convert --imagenet ...).",
        wide=True,
    ),
    Variant(
        "-fast",
        ("yolo11", "yolo26"),
        False,
        "pan",
        "The '-wide' config without stage 4: P5 is one stride-2 conv on stage 3 (64 channels at n), which cuts a\n"
        "# fifth of the backbone's time. Like '-wide' it picks its own width per scale, n -> 1.0x, s -> 1.5x, m, l\n"
        "# and x -> 2.0x; torchvision's ImageNet weights load into the stem and stages 2 and 3.",
        wide=True,
        stage4=False,
    ),
    Variant(
        "-slim",
        ("yolo26",),
        False,
        "pan",
        "The '-fast' backbone under a PAN half as wide (32 channels at n, P5's stride-2 conv too): under the\n"
        "# YOLO26 head the neck and the head's 3x3 convs, which read the PAN's width, were a third of '-fast''s\n"
        "# time. Picks its width per scale as '-fast' does; torchvision's ImageNet weights load into the stem and\n"
        "# stages 2 and 3.",
        wide=True,
        stage4=False,
        pan_width=128,
    ),
)
# The head study's winners (docs/accuracy.md#the-head-study), shipped: a shipped YOLO26 variant with its head changed,
# for the tasks whose YOLO26 head has a one-to-one branch. Suffix -> (the variant it changes, the head).
HEAD_VARIANTS = {
    "-wide-nms": ("-wide", Head(box_channels=64, end2end=False)),
    "-slim-nms": ("-slim", Head(end2end=False)),
}


def head_variant(base: Variant, suffix: str, head: Head) -> Variant:
    about = [
        base.about,
        "# Its YOLO26 head lacks the one-to-one branch (end2end: False): the one-to-many branch alone, trained by its",
        "# own loss in full and deployed with NMS, as YOLO11's (the end-to-end loss weights that branch down to 0.1",
        "# over training). More accurate after short fine-tunes from ImageNet (docs/accuracy.md#the-head-study); for",
        f"# an NMS-free export, use the '{base.suffix}' config.",
    ]
    if head.box_channels:
        about.append(
            f"# Its box branch is {head.box_channels} channels wide (box_channels; stock: {base.stock_box_width()} at "
            "n): more accuracy for some latency."
        )
    return replace(base, suffix=suffix, families=("yolo26",), about="\n".join(about), head=head)


VARIANTS += tuple(
    head_variant(next(v for v in VARIANTS if v.suffix == base), suffix, head)
    for suffix, (base, head) in HEAD_VARIANTS.items()
)


def file_name(family: str, task: str, variant: Variant) -> str:
    return f"{family}{TASK_INFIX[task]}-shufflenetv2{variant.suffix}.yaml"


def backbone_rows(star: bool, stage4: bool = True, p5_width: int = 256) -> list[str]:
    extra = ", True" if star else ""
    return [
        "- [-1, 1, ShuffleNetV2Stem, [stem]] # 0-P2/4",
        f"- [-1, 1, ShuffleNetV2Stage, [stage2, 4{extra}]] # 1-P3/8",
        f"- [-1, 1, ShuffleNetV2Stage, [stage3, 8{extra}]] # 2-P4/16",
        f"- [-1, 1, ShuffleNetV2Stage, [stage4, 4{extra}]] # 3-P5/32"
        if stage4
        else f"- [-1, 1, Conv, [{p5_width}, 3, 2]] # 3-P5/32: a stride-2 conv on stage 3 in place of stage 4",
    ]


def pan_rows(width: int = 256) -> list[str]:
    """The slim PAN: every level reduced to one width, small C3k2 blocks, depthwise stride-2 downsampling."""
    return [
        f"- [-1, 1, Conv, [{width}, 1, 1]] # 4 P5 reduced to the PAN width",
        '- [-1, 1, nn.Upsample, [None, 2, "nearest"]]',
        "- [[-1, 2], 1, Concat, [1]] # cat backbone P4",
        f"- [-1, 1, C3k2, [{width}, False, 0.25]] # 7",
        "",
        '- [-1, 1, nn.Upsample, [None, 2, "nearest"]]',
        "- [[-1, 1], 1, Concat, [1]] # cat backbone P3",
        f"- [-1, 1, C3k2, [{width}, False, 0.25]] # 10 (P3/8-small)",
        "",
        f"- [-1, 1, DWConv, [{width}, 3, 2]]",
        "- [[-1, 7], 1, Concat, [1]] # cat head P4",
        f"- [-1, 1, C3k2, [{width}, False, 0.25]] # 13 (P4/16-medium)",
        "",
        f"- [-1, 1, DWConv, [{width}, 3, 2]]",
        "- [[-1, 4], 1, Concat, [1]] # cat head P5",
        f"- [-1, 1, C3k2, [{width}, False, 0.25]] # 16 (P5/32-large)",
        "",
    ]


def neck_rows(family: str, neck: str, levels: int = 3, pan_width: int = 256) -> tuple[list[str], list[str], list[int]]:
    """Backbone rows after the stages, head rows before the task head, and the layers the task head reads.

    The stock neck of the family reads P3, P4, P5 from the three stages (P5 through SPPF, and C2PSA for YOLO11 and
    YOLO26); 'half' divides every neck width by two. With ``levels=2`` the neck stops at its P3 output and the head
    reads P3 and the top-down P4, as stock yolo26-sem.yaml does.
    """
    if neck == "pan":
        head, outputs, top_down_p4 = pan_rows(pan_width), [10, 13, 16], 7
    else:
        k = 2 if neck == "half" else 1
        if family == "yolov8":
            extra = [f"- [-1, 1, SPPF, [{1024 // k}, 5]] # 4"]

            def block(c: int, last: bool = False) -> str:
                return f"- [-1, 3, C2f, [{c // k}]]"

        elif family == "yolo11":
            extra = [f"- [-1, 1, SPPF, [{1024 // k}, 5]] # 4", f"- [-1, 2, C2PSA, [{1024 // k}]] # 5"]

            def block(c: int, last: bool = False) -> str:
                return f"- [-1, 2, C3k2, [{c // k}, {last}]]"

        else:  # yolo26: SPPF with a shortcut; C3k2 blocks with C3k inside, the last one with attention
            extra = [f"- [-1, 1, SPPF, [{1024 // k}, 5, 3, True]] # 4", f"- [-1, 2, C2PSA, [{1024 // k}]] # 5"]

            def block(c: int, last: bool = False) -> str:
                return f"- [-1, 1, C3k2, [{c // k}, True, 0.5, True]]" if last else f"- [-1, 2, C3k2, [{c // k}, True]]"

        p5 = 3 + len(extra)
        i = p5 + 3  # the first neck block
        head = [
            '- [-1, 1, nn.Upsample, [None, 2, "nearest"]]',
            "- [[-1, 2], 1, Concat, [1]] # cat backbone P4",
            f"{block(512)} # {i}",
            "",
            '- [-1, 1, nn.Upsample, [None, 2, "nearest"]]',
            "- [[-1, 1], 1, Concat, [1]] # cat backbone P3",
            f"{block(256)} # {i + 3} (P3/8-small)",
            "",
            f"- [-1, 1, Conv, [{256 // k}, 3, 2]]",
            f"- [[-1, {i}], 1, Concat, [1]] # cat head P4",
            f"{block(512)} # {i + 6} (P4/16-medium)",
            "",
            f"- [-1, 1, Conv, [{512 // k}, 3, 2]]",
            f"- [[-1, {p5}], 1, Concat, [1]] # cat head P5",
            f"{block(1024, last=True)} # {i + 9} (P5/32-large)",
            "",
        ]
        outputs, top_down_p4 = [i + 3, i + 6, i + 9], i
    extra = [] if neck == "pan" else extra
    if levels == 2:
        p3_end = head.index(next(row for row in head if f"# {outputs[0]} " in row)) + 1
        return extra, [*head[:p3_end], ""], [outputs[0], top_down_p4]
    return extra, head, outputs


def variant_of(name: str) -> Variant:
    """The variant a shipped detector file name belongs to, e.g. ``yolo11-seg-shufflenetv2-wide.yaml`` -> '-wide'."""
    return next(v for v in VARIANTS if Path(name).name.endswith(f"-shufflenetv2{v.suffix}.yaml"))


def backbone_widths(name: str) -> dict:  # -> {scale letter: widths.Width}
    """The backbone width of each scale of a shipped config: ``WIDE_SCALES`` for a wide variant, else ``SCALES``."""
    from ultralytics_shufflenet.widths import SCALES, WIDE_SCALES

    wide = "-cls-" not in name and variant_of(name).wide
    return WIDE_SCALES if wide else SCALES


def channels_table(keys: tuple[str, ...], name: str) -> list[str]:
    lines = [
        "# ShuffleNet V2 output channels per scale (paper Table 5), used as written: not width-scaled, not rounded."
    ]
    lines.append("shufflenet_channels:")
    for scale, width in backbone_widths(name).items():
        values = ", ".join(f"{key}: {width.channels[key]}" for key in keys)
        lines.append(f"  {scale}: {{ {values} }} # {width.name}")
    return lines


def scale_lines(family: str, name: str, summaries: dict[str, str]) -> list[str]:
    lines = [
        f"scales: # model compound scaling constants, i.e. 'model={with_scale(name, 'n')}' will call this YAML with "
        "scale 'n'",
        "  # [depth, width, max_channels]",
    ]
    for scale, values in FAMILY_SCALES[family].items():
        summary = summaries.get(scale)
        lines.append(f"  {scale}: [{values}]" + (f" # {summary}" if summary else ""))
    return lines


def since(family: str, task: str) -> list[str]:
    """The top-level line naming the oldest Ultralytics release a config builds with, for families newer than the
    plugin's oldest supported release."""
    from ultralytics_shufflenet.configs import RELEASE_KEY

    release = TASK_HEADS[task].since if task in TASK_HEADS else ""
    release = release or FAMILY_SINCE.get(family, "")
    if not release:
        return []
    return [f'{RELEASE_KEY}: "{release}" # the plugin stops older releases here with an error naming this one']


def render_detector(family: str, task: str, variant: Variant, summaries: dict[str, str]) -> str:
    head = TASK_HEADS[task]
    module, nc = head.families[family]
    name = file_name(family, task, variant)
    title = f"{FAMILY_NAMES[family]}{TASK_INFIX[task]} ({head.words})"
    extra, neck, outputs = neck_rows(family, variant.neck, head.levels, variant.pan_width)
    lines = [
        f"# ultralytics-shufflenet: {title} with a ShuffleNet V2 backbone (Ma et al., ECCV 2018).",
        f"# {variant.about.format(F=FAMILY_NAMES[family])}",
        "# The backbone is the paper's network at exact widths, chosen by scale, so torchvision's ImageNet weights of",
        *(
            [f"# that width map one to one. The neck and head keep the stock {FAMILY_NAMES[family]} scales."]
            if variant.wide
            else [
                "# that width map one to one: n -> 0.5x, s -> 1.0x, m -> 1.5x, l and x -> 2.0x. The rest keeps the "
                "stock",
                f"# {FAMILY_NAMES[family]} scales.",
            ]
        ),
    ]
    if family != "yolov8" and variant.neck != "pan":
        lines += [
            f"# C2PSA sits after SPPF on P5, as in stock {FAMILY_NAMES[family]}: attention is cheapest at the "
            "coarsest level, and the",
            f"# neck reads P5 from it exactly as it reads stock {FAMILY_NAMES[family]}'s layer 10.",
        ]
    lines += [GENERATED, "", "# Parameters", f"nc: {nc} # number of classes"]
    if family in END_TO_END_FAMILIES and task in END_TO_END_TASKS:
        lines += variant.head.keys(variant.stock_box_width())
    lines += [head.extra.rstrip("\n")] if head.extra else []
    lines += since(family, task)
    lines += scale_lines(family, name, summaries)
    stages = ("stem", "stage2", "stage3", "stage4") if variant.stage4 else ("stem", "stage2", "stage3")
    lines += ["", *channels_table(stages, name), ""]
    lines += ["backbone:", "  # [from, repeats, module, args]"]
    lines += [f"  {row}" for row in backbone_rows(variant.star, variant.stage4, variant.pan_width) + extra]
    lines += ["", "head:"]
    lines += [f"  {row}" if row else "" for row in neck]
    inputs = ", ".join(map(str, outputs))
    levels = "P3, P4, P5" if head.levels == 3 else "P3, P4"
    lines.append(f"  - [[{inputs}], 1, {module}, {head.args}] # {module}({levels})")
    return "\n".join(lines) + "\n"


def render_classifier(family: str, summaries: dict[str, str]) -> str:
    name = file_name(family, "classify", VARIANTS[0])
    lines = [
        "# ultralytics-shufflenet: the whole ShuffleNet V2 classifier (Ma et al., ECCV 2018) as an Ultralytics",
        "# classification model: stem, stages of 4 / 8 / 4 units, conv5, global average pool, fully connected. The",
        "# scale letter picks the paper's width, as for the detectors: n -> 0.5x, s -> 1.0x, m -> 1.5x, l and x ->",
        "# 2.0x. Widths are exact, so a torchvision ImageNet state dict of that width converts one to one.",
        *(
            [
                "# A classifier has no YOLO head family: this is the network of yolov8-cls-shufflenetv2.yaml, named",
                f"# for the {FAMILY_NAMES[family]} set. Its head is a stock Classify with ShuffleNet's conv5 and fc "
                "widths.",
            ]
            if family != "yolov8"
            else []
        ),
        GENERATED,
        "",
        "# Parameters",
        "nc: 1000 # number of classes",
        *since(family, "classify"),
        f"scales: # model compound scaling constants, i.e. 'model={with_scale(name, 's')}' will call this YAML "
        "with scale 's'",
        "  # [depth, width, max_channels]; unused here: every width comes from shufflenet_channels",
    ]
    for scale in "nsmlx":
        lines.append(f"  {scale}: [1.00, 1.00, 2048]" + (f" # {summaries[scale]}" if scale in summaries else ""))
    lines += ["", *channels_table(("stem", "stage2", "stage3", "stage4", "conv5"), name), ""]
    lines += ["backbone:", "  # [from, repeats, module, args]"]
    lines += [f"  {row}" for row in backbone_rows(star=False)]
    lines += ["", "head:", "  - [-1, 1, Classifier, [nc, conv5]] # 4: conv5, global pool, fc"]
    return "\n".join(lines) + "\n"


# Not shipped: the stock way to the same model, for bench/accuracy.py to measure against the plugin.
TORCHVISION_CONFIG = Path(__file__).resolve().parent / "configs" / "yolo11-torchvision-shufflenetv2-wide.yaml"


def render_torchvision() -> str:
    """The n model of yolo11-shufflenetv2-wide.yaml built from stock Ultralytics layers only: torchvision's 1.0x
    network in Ultralytics' ``TorchVision`` layer, its stages picked by ``Index`` rows, the same neck and head."""
    from ultralytics_shufflenet.widths import WIDE_SCALES

    width = WIDE_SCALES["n"]
    stage2, stage3, stage4 = width.stages
    lines = [
        "# The stock alternative to yolo11n-shufflenetv2-wide.yaml, without ultralytics-shufflenet: Ultralytics' own",
        f"# TorchVision layer holds torchvision's shufflenet_v2_x1_0 ({width.name}) with its ImageNet weights",
        "# (weights=DEFAULT: torchvision loads them from $TORCH_HOME/hub/checkpoints, downloading them there if",
        f"# online: {width.weights_file}). Index rows pick stages 2-4; the neck and head are the -wide config's.",
        "# Widths are written by hand (no scaling), and Ultralytics resets every BatchNorm in it to eps=1e-3.",
        "# For measurements only (bench/accuracy.py ...+imagenet); not shipped with the package.",
        GENERATED,
        "",
        "nc: 80 # number of classes",
        "scales: # the -wide config's n scale only: the layer's network is fixed",
        "  n: [0.50, 0.25, 1024]",
        "",
        "backbone:",
        "  # [from, repeats, module, args]",
        f"  - [-1, 1, TorchVision, [{stage4}, shufflenet_v2_x1_0, DEFAULT, True, 2, True]] # 0: a list: the input,",
        "  # conv1's conv, bn and relu outputs, the max-pool's, stages 2, 3 and 4 (conv5 and fc truncated)",
        f"  - [0, 1, Index, [{stage2}, 5]] # 1-P3/8 stage2",
        f"  - [0, 1, Index, [{stage3}, 6]] # 2-P4/16 stage3",
        f"  - [0, 1, Index, [{stage4}, 7]] # 3-P5/32 stage4",
        "",
        "head:",
        *[f"  {row}" if row else "" for row in pan_rows()],
        "  - [[10, 13, 16], 1, Detect, [nc]] # Detect(P3, P4, P5)",
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class HeadStudy:
    """A shipped YOLO26 detector (n scale) with its head changed, for the head study of docs/accuracy.md: the DFL,
    the box branch's width, or the one-to-one branch and its end-to-end loss taken away."""

    variant: str  # suffix of the shipped variant, e.g. "-slim"
    head: Head

    @property
    def stock_width(self) -> int:
        """The box branch's width stock Detect gives the n model: max(16, P3 / 4, 4 x reg_max)."""
        return replace(variant_of(f"yolo26n-shufflenetv2{self.variant}.yaml"), head=self.head).stock_box_width()

    @property
    def box_width(self) -> int:
        """The box branch's width the study's model gets: ``box_channels`` where set, else stock's."""
        return self.head.box_width(self.stock_width)

    @property
    def path(self) -> Path:
        head = self.head
        changes = [f"regmax{head.reg_max}"] if head.reg_max != 1 else []
        changes += [f"box{head.box_channels}"] if head.box_channels else []
        changes += [] if head.end2end else ["one2many"]
        return STUDY_DIR / f"yolo26n-shufflenetv2{self.variant}-{'-'.join(changes)}.yaml"


STUDY_DIR = Path(__file__).resolve().parent / "configs"
HEAD_STUDIES = (
    HeadStudy("-slim", Head(reg_max=4)),
    HeadStudy("-slim", Head(reg_max=8)),
    HeadStudy("-slim", Head(reg_max=16)),
    HeadStudy("-slim", Head(reg_max=8, end2end=False)),
    HeadStudy("-slim", Head(reg_max=8, box_channels=16, end2end=False)),
    HeadStudy("-slim", Head(box_channels=32, end2end=False)),
    HeadStudy("-slim", Head(box_channels=64)),
    HeadStudy("-wide", Head(box_channels=64)),
    HeadStudy("-slim", Head(end2end=False)),
    HeadStudy("-wide", Head(end2end=False)),
    HeadStudy("-wide", Head(box_channels=64, end2end=False)),
)


# Stock models with a head key changed: YOLO26n without its one-to-one branch is the like-for-like row beside
# -slim-nms and -wide-nms. Written when asked, into a folder the caller names (under runs/), from the installed
# Ultralytics' own model dict: its YAML files are not ours to copy into the project.
STOCK_STUDIES = {"yolo26n-one2many.yaml": ("yolo26n.yaml", {"end2end": False})}


def write_stock_studies(folder: Path) -> list[Path]:
    """Each of STOCK_STUDIES as a YAML in ``folder``, to be trained or timed by path like any config."""
    import yaml
    from ultralytics import YOLO

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (stock, changes) in STOCK_STUDIES.items():
        built = {k: v for k, v in YOLO(stock).model.yaml.items() if k != "yaml_file"}  # the file's dict, scale guessed
        about = f"# {stock} as the installed Ultralytics builds it, with {changes}: python -m bench configs --stock\n"
        (folder / name).write_text(about + yaml.safe_dump({**built, **changes}, sort_keys=False))
        written.append(folder / name)
    return written


def measured_as() -> dict[str, str]:
    """Each shipped head change's n detector -> the head-study config it was trained and timed as (the same network,
    only its comments differ), e.g. yolo26n-shufflenetv2-slim-nms.yaml -> yolo26n-shufflenetv2-slim-one2many.yaml."""
    return {
        f"yolo26n-shufflenetv2{suffix}.yaml": HeadStudy(base, head).path.name
        for suffix, (base, head) in HEAD_VARIANTS.items()
    }


def render_study(study: HeadStudy) -> str:
    """The shipped file's text with the head's keys changed (no summaries: the study measures them itself)."""
    variant = replace(variant_of(f"yolo26n-shufflenetv2{study.variant}.yaml"), head=study.head)
    text = render_detector("yolo26", "detect", variant, {})
    about = f"# For measurements only (the head study of docs/accuracy.md): the shipped {study.variant} config with "
    about += f"{', '.join(study.head.changes())}."
    return text.replace(GENERATED, f"{about}\n{GENERATED}")


def configs() -> dict[str, Callable[[dict[str, str]], str]]:
    """Every shipped file name -> a function rendering it from its scale summaries."""
    out = {
        file_name(family, "classify", VARIANTS[0]): lambda summaries, f=family: render_classifier(f, summaries)
        for family in ("yolov8", "yolo26")
    }
    for variant in VARIANTS:
        for family in variant.families:
            for task, head in TASK_HEADS.items():
                if family in head.families and (variant.head == Head() or task in END_TO_END_TASKS):
                    out[file_name(family, task, variant)] = lambda summaries, f=family, t=task, v=variant: (
                        render_detector(f, t, v, summaries)
                    )
    return out


def measured_only() -> dict[Path, str]:
    """The configs under bench/configs, not shipped: the stock-layer comparison and the head studies."""
    return {TORCHVISION_CONFIG: render_torchvision(), **{study.path: render_study(study) for study in HEAD_STUDIES}}


SUMMARY_LINE = re.compile(r"^  ([nslmx]): \[[^\]]*\] # (.+)$", re.MULTILINE)


def written_summaries(text: str) -> dict[str, str]:
    return dict(SUMMARY_LINE.findall(text))


def measured_summary(name: str, scale: str) -> str:
    """The summary Ultralytics prints for the model, e.g. 'YOLOv8n-... summary: 245 layers, ... 6.2 GFLOPs'."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import model_info

    model = YOLO(with_scale(name, scale)).model
    layers, params, gradients, gflops = model_info(model, imgsz=640)
    line = f"{Path(with_scale(name, scale)).stem.replace('yolo', 'YOLO')} summary: {layers} layers, {params:,} "
    line += f"parameters, {gradients:,} gradients, {gflops:.1f} GFLOPs"
    if "-cls-" in name:  # the paper's measure: multiply-adds at 224x224
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model.eval()(torch.zeros(1, 3, 224, 224))
        line += f" ({counter.get_total_flops() / 2e6:.0f} MFLOPs at 224)"
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing; summaries taken as written")
    parser.add_argument(
        "--stock",
        type=Path,
        metavar="DIR",
        help="only write the stock studies (STOCK_STUDIES) into DIR, e.g. runs/stock",
    )
    args = parser.parse_args(argv)
    yolo_env.isolate()
    import ultralytics_shufflenet  # noqa: F401 - registers the layers, so the new files can be built

    if args.stock:
        for path in write_stock_studies(args.stock):
            print(f"wrote {path}")
        return 0

    expected = configs()
    stale = sorted(set(p.name for p in CONFIG_DIR.glob("*.yaml")) - set(expected))
    differ = []
    for name, render in expected.items():
        path = CONFIG_DIR / name
        old = path.read_text() if path.is_file() else ""
        unchanged = render(written_summaries(old)) == old
        if args.check:
            if not unchanged:
                differ.append(name)
            continue
        if unchanged and len(written_summaries(old)) == len("nsmlx"):
            continue  # same layers as described: its summaries still hold
        path.write_text(render({}))  # structure first: the summaries come from building this very file
        path.write_text(render({scale: measured_summary(name, scale) for scale in "nsmlx"}))
        print(f"wrote {path}")
    for name in stale:
        if args.check:
            differ.append(name)
        else:
            (CONFIG_DIR / name).unlink()
            print(f"removed {name}: no longer described")
    for path, text in measured_only().items():
        if path.is_file() and path.read_text() == text:
            continue
        if args.check:
            differ.append(path.name)
        else:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    if differ:
        print(
            f"differ from bench/make_configs.py (write them with: python -m bench configs): {', '.join(differ)}",
            file=sys.stderr,
        )
        return 1
    return 0
