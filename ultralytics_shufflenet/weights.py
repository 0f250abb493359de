"""torchvision's ImageNet ShuffleNet V2 weights in this package's models.

torchvision's state dict names plain ``nn.Sequential`` indices (``stage2.0.branch2.3.weight``); ours groups each
conv with its BatchNorm in an Ultralytics ``Conv`` (``model.1.0.branch2.1.conv.weight``). The mapping is one to one
and decided by structure alone: the stem, the stages in order, and the classifier's conv5 and fc.

BatchNorm epsilon: torchvision's statistics were learned with ``eps=1e-5``, while Ultralytics sets ``eps=1e-3`` on
every plain BatchNorm each time it builds a model (the trainer rebuilds it, so an epsilon stored in a checkpoint would
not survive). Our layers use ``ImageNetBatchNorm2d``, which keeps ``eps=1e-5`` through those rebuilds, so tensors are
copied unchanged and the converted network computes exactly torchvision's features, in eval and in training mode.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import compat
from .modules import Conv_maxpool, ShuffleNetV2Classifier, ShuffleNetV2Stage
from .widths import Width, scale_letters, width_of_stage2

__all__ = (
    "ImageNetDownloadError",
    "backbone_width",
    "convert_state_dict",
    "fetch_imagenet_state_dict",
    "load_torchvision_state_dict",
    "save_checkpoint",
    "state_dict_width",
    "torchvision_names",
)

_SIGNATURE = ("conv1.0.weight", "stage2.0.branch1.0.weight", "stage2.0.branch2.0.weight")
# Sequential index of each conv in torchvision's branches; its BatchNorm follows at index + 1.
_BRANCH_CONVS = {"branch1": (0, 2), "branch2": (0, 3, 5)}


def _stage_width(state_dict: dict[str, torch.Tensor], stage: str) -> int:
    return 2 * state_dict[f"{stage}.0.branch2.5.weight"].shape[0]


def _width_name(stage2: int) -> str:
    width = width_of_stage2(stage2)
    return width.name if width else f"stage2 = {stage2} channels"


def load_torchvision_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a torchvision ShuffleNet V2 state dict file, as downloaded or written by ``torch.save``.

    Accepts a bare state dict or one under ``state_dict``, with or without DataParallel's ``module.`` prefix.
    Loads with ``weights_only=True``: a weights file has no business running code.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ValueError(f"{path}: cannot be read as a torch file, is it truncated? ({type(e).__name__}: {e})") from e
    return _checked_state_dict(obj, path)


class ImageNetDownloadError(OSError):
    """torchvision's ImageNet file could not be fetched (offline, say) and is not in the cache either."""


def fetch_imagenet_state_dict(width: Width, progress: bool = True) -> dict[str, torch.Tensor]:
    """torchvision's ImageNet weights of ``width``, through torchvision's weights API.

    The first call downloads the file (progress shown, hash checked against its name) into torch's cache,
    ``$TORCH_HOME/hub/checkpoints``; later calls read it from there, offline too.
    """
    import torchvision

    cached = Path(torch.hub.get_dir()) / "checkpoints" / width.weights_file
    try:
        state_dict = torchvision.models.get_weight(width.weights_enum).get_state_dict(
            progress=progress, check_hash=True, weights_only=True
        )
    except OSError as e:  # no network: urllib's URLError
        raise ImageNetDownloadError(
            f"cannot fetch torchvision's ShuffleNet V2 {width.name} ImageNet weights from {width.weights_url} "
            f"({e}). Download that file yourself, then either place it at {cached} or convert it by path: "
            f"python -m ultralytics_shufflenet.convert {width.weights_file} --model <config> --out <file.pt>"
        ) from e
    except RuntimeError as e:  # a partial or altered download: torch.hub's hash check
        raise ImageNetDownloadError(f"{width.weights_url}: {e}; delete {cached} and try again") from e
    return _checked_state_dict(state_dict, cached)


def _checked_state_dict(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"{path}: expected a state dict (names -> tensors), found {type(obj).__name__}")
    state_dict = {k.removeprefix("module."): v for k, v in obj.items()}
    missing = [k for k in _SIGNATURE if k not in state_dict]
    if missing:
        found = ", ".join(list(state_dict)[:3])
        raise ValueError(
            f"{path}: not a torchvision ShuffleNet V2 state dict: expected keys like {', '.join(_SIGNATURE)}; "
            f"missing {', '.join(missing)}; found e.g. {found}"
        )
    return state_dict


def _torchvision_key(layer: nn.Module, key: str, stage: str) -> str | None:
    """torchvision's name for tensor ``key`` of one of our layers; None for layers torchvision lacks (V2*)."""
    if "extra_dw" in key:
        return None
    if isinstance(layer, Conv_maxpool):
        part, rest = re.fullmatch(r"conv\.(conv|bn)\.(.+)", key).groups()
        return f"conv1.{int(part == 'bn')}.{rest}"
    if isinstance(layer, ShuffleNetV2Stage):
        unit, branch, conv, part, rest = re.fullmatch(r"(\d+)\.(branch[12])\.(\d)\.(conv|bn)\.(.+)", key).groups()
        return f"{stage}.{unit}.{branch}.{_BRANCH_CONVS[branch][int(conv)] + (part == 'bn')}.{rest}"
    if isinstance(layer, ShuffleNetV2Classifier):
        if key.startswith("linear."):
            return "fc." + key.removeprefix("linear.")
        part, rest = re.fullmatch(r"conv\.(conv|bn)\.(.+)", key).groups()
        return f"conv5.{int(part == 'bn')}.{rest}"
    return None


def torchvision_names(model: nn.Module) -> dict[str, str]:
    """Map each of the model's ShuffleNet tensors (its state-dict key) to torchvision's key."""
    names: dict[str, str] = {}
    stages = 0
    for prefix, layer in model.named_modules():
        if not isinstance(layer, (Conv_maxpool, ShuffleNetV2Stage, ShuffleNetV2Classifier)):
            continue
        if isinstance(layer, ShuffleNetV2Stage):
            stages += 1
        for key in layer.state_dict():
            tv = _torchvision_key(layer, key, f"stage{stages + 1}")
            if tv is not None:
                names[f"{prefix}.{key}"] = tv
    if not 1 <= stages <= 3:
        raise ValueError(
            f"the model has {stages} ShuffleNetV2Stage layers; torchvision's network has 3 (stage2-4), of which a "
            "backbone can use the first one, two or all three"
        )
    return names


def state_dict_width(state_dict: dict[str, torch.Tensor]) -> Width:
    """The published width a torchvision ShuffleNet V2 state dict is of (ValueError if none)."""
    width = width_of_stage2(_stage_width(state_dict, "stage2"))
    if width is None:
        raise ValueError(f"a state dict of {_width_name(_stage_width(state_dict, 'stage2'))}: no published width")
    return width


def backbone_width(model: nn.Module) -> Width:
    """The published ShuffleNet V2 width of a model's backbone, read from its first stage (ValueError if none)."""
    stages = [m for m in model.modules() if isinstance(m, ShuffleNetV2Stage)]
    if not stages:
        raise ValueError("the model has no ShuffleNetV2Stage layers, so no ShuffleNet V2 ImageNet weights fit it")
    channels = 2 * stages[0][0].branch2[-1].conv.out_channels
    width = width_of_stage2(channels)
    if width is None:
        raise ValueError(f"stage 2 has {channels} channels: no published ShuffleNet V2 width ({scale_letters()})")
    return width


def _check_widths(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> None:
    stages = [m for m in model.modules() if isinstance(m, ShuffleNetV2Stage)]
    expected = [2 * s[0].branch2[-1].conv.out_channels for s in stages]
    if not all(f"stage{i}.0.branch2.5.weight" in state_dict for i in (2, 3, 4)):
        return  # the missing keys are reported by name
    found = [_stage_width(state_dict, f"stage{i}") for i in (2, 3, 4)][: len(expected)]  # a backbone may stop early
    if expected != found:
        raise ValueError(
            f"width mismatch: the model needs ShuffleNet V2 {_width_name(expected[0])} (stage 2/3/4 channels "
            f"{'/'.join(map(str, expected))}), the file holds {_width_name(found[0])} "
            f"({'/'.join(map(str, found))}); pick the model scale that matches the file "
            f"({scale_letters()}) or the file that matches the scale"
        )


def convert_state_dict(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The model's state dict with every ShuffleNet tensor taken from torchvision's ``state_dict``.

    Layers torchvision does not have (the head, V2*'s extra convs) keep the model's own values.
    Raises ValueError naming the widths or keys that do not fit.
    """
    _check_widths(model, state_dict)
    names = torchvision_names(model)
    missing = sorted({tv for tv in names.values() if tv not in state_dict})
    if missing:
        raise ValueError(f"the state dict lacks {len(missing)} tensor(s) the model needs: {', '.join(missing[:8])}")
    converted = dict(model.state_dict())
    for ours, tv in names.items():
        if state_dict[tv].shape != converted[ours].shape:
            raise ValueError(
                f"shape mismatch: {tv} is {tuple(state_dict[tv].shape)} in the file, the model's {ours} needs "
                f"{tuple(converted[ours].shape)}"
            )
        converted[ours] = state_dict[tv].clone().to(converted[ours].dtype)
    return converted


def save_checkpoint(model: nn.Module, path: str | os.PathLike, source: str) -> None:
    """Write an Ultralytics checkpoint (``model``, ``train_args``, ...) in float32, atomically.

    Float32, unlike the half precision of Ultralytics' own saves, so the converted features stay exact.
    """
    path = Path(path)
    checkpoint = compat.checkpoint(model.float(), converted_from=source)
    partial = path.with_name(path.name + ".partial")
    torch.save(checkpoint, partial)
    os.replace(partial, path)
