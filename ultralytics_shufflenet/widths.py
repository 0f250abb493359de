"""ShuffleNet V2's widths as plain data: the paper's Table 5, torchvision's ImageNet files, and the scale letters.

Everything that needs a width (the shipped YAMLs' ``shufflenet_channels``, the converter and its messages, the model
tables, the tests) reads it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ("SCALES", "WIDE_SCALES", "WIDTHS", "Width", "scale_letters", "width_of_scale", "width_of_stage2")

_DOWNLOADS = "https://download.pytorch.org/models/"


@dataclass(frozen=True)
class Width:
    """One ShuffleNet V2 width: its channels and torchvision's ImageNet weights for it.

    Attributes:
        name: the paper's name of the width, e.g. ``"1.0x"``.
        stages: output channels of stages 2, 3 and 4 (each stage's first unit has stride 2).
        conv5: channels of the classifier's last 1x1 conv.
        weights_file: torchvision's ImageNet state dict of this width, as published (``weights_url``).
        params: parameters of the whole classifier (1000 classes), as torchvision counts them.
        mflops: the paper's complexity, multiply-adds at 224x224, in millions.
        top1: torchvision's ImageNet top-1 accuracy of those weights, in percent.
    """

    name: str
    stages: tuple[int, int, int]
    conv5: int
    weights_file: str
    params: int
    mflops: int
    top1: float
    stem: int = 24  # the same at every width

    @property
    def weights_url(self) -> str:
        return _DOWNLOADS + self.weights_file

    @property
    def weights_enum(self) -> str:
        """The name of these weights in torchvision's weights API (``torchvision.models.get_weight``)."""
        return f"ShuffleNet_V2_X{self.name[:-1].replace('.', '_')}_Weights.IMAGENET1K_V1"

    @property
    def channels(self) -> dict[str, int]:
        """The names shipped YAMLs use for exact widths (their ``shufflenet_channels`` entry for a scale)."""
        stage2, stage3, stage4 = self.stages
        return {"stem": self.stem, "stage2": stage2, "stage3": stage3, "stage4": stage4, "conv5": self.conv5}

    def describe(self) -> str:
        return f"{self.name} (stage 2/3/4 channels {'/'.join(map(str, self.stages))})"


WIDTHS: dict[str, Width] = {
    w.name: w
    for w in (
        Width("0.5x", (48, 96, 192), 1024, "shufflenetv2_x0.5-f707e7126e.pth", 1_366_792, 41, 60.552),
        Width("1.0x", (116, 232, 464), 1024, "shufflenetv2_x1-5666bf0f80.pth", 2_278_604, 146, 69.362),
        Width("1.5x", (176, 352, 704), 1024, "shufflenetv2_x1_5-3c479a10.pth", 3_503_624, 299, 72.996),
        Width("2.0x", (244, 488, 976), 2048, "shufflenetv2_x2_0-8be3c8ee.pth", 7_393_996, 591, 76.230),
    )
}

# Model scale letter -> backbone width: the smallest scale gets the smallest published width.
SCALES: dict[str, Width] = {
    "n": WIDTHS["0.5x"],
    "s": WIDTHS["1.0x"],
    "m": WIDTHS["1.5x"],
    "l": WIDTHS["2.0x"],
    "x": WIDTHS["2.0x"],
}

# The '-wide' and '-fast' configs: one published width up, so their n model already has the 1.0x backbone (the
# width whose ImageNet start pays off under an n-sized neck and head) and every scale keeps a width torchvision
# publishes.
WIDE_SCALES: dict[str, Width] = {
    "n": WIDTHS["1.0x"],
    "s": WIDTHS["1.5x"],
    "m": WIDTHS["2.0x"],
    "l": WIDTHS["2.0x"],
    "x": WIDTHS["2.0x"],
}


def width_of_scale(scale: str) -> Width:
    """The backbone width of a model scale letter (``n`` -> 0.5x, ..., ``l`` and ``x`` -> 2.0x)."""
    try:
        return SCALES[scale]
    except KeyError:
        raise ValueError(f"unknown scale {scale!r}; scales are {', '.join(SCALES)}") from None


def width_of_stage2(channels: int) -> Width | None:
    """The published width whose stage 2 has ``channels`` output channels, if any."""
    return next((w for w in WIDTHS.values() if w.stages[0] == channels), None)


def scale_letters() -> str:
    """``n: 0.5x, s: 1.0x, m: 1.5x, l/x: 2.0x``: the mapping as users read it in messages."""
    by_width: dict[str, list[str]] = {}
    for scale, width in SCALES.items():
        by_width.setdefault(width.name, []).append(scale)
    return ", ".join(f"{'/'.join(scales)}: {name}" for name, scales in by_width.items())
