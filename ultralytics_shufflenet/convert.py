"""Convert torchvision's ShuffleNet V2 ImageNet weights into a checkpoint for ``yolo train ... pretrained=OUT.pt``.

    python -m ultralytics_shufflenet.convert --imagenet --model yolo11n-shufflenetv2-wide.yaml \\
        --out yolo11n-shufflenetv2-wide-imagenet.pt          # fetches torchvision's file of the config's width
    python -m ultralytics_shufflenet.convert shufflenetv2_x1-5666bf0f80.pth --model yolov8s-shufflenetv2.yaml \\
        --out yolov8s-shufflenetv2-imagenet.pt               # a file you downloaded yourself
"""

from __future__ import annotations

import argparse
import sys

from ultralytics import YOLO

from .weights import (
    backbone_width,
    convert_state_dict,
    fetch_imagenet_state_dict,
    load_torchvision_state_dict,
    save_checkpoint,
    torchvision_names,
)
from .widths import SCALES, WIDE_SCALES


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: nothing is written unless the whole conversion succeeds."""
    files = "\n".join(f"  {width.name}: {width.weights_url}" for width in dict.fromkeys(SCALES.values()))
    scales = ", ".join(f"{s}: {w.name}" for s, w in SCALES.items())
    wide = ", ".join(f"{s}: {w.name}" for s, w in WIDE_SCALES.items())
    parser = argparse.ArgumentParser(
        prog="python -m ultralytics_shufflenet.convert",
        description=__doc__.split("\n")[0],
        epilog=f"torchvision's ImageNet weights of each width:\n{files}\nBackbone width by model scale: {scales} "
        f"(-wide and -fast configs: {wide}).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "weights", nargs="?", help="torchvision ShuffleNet V2 state dict (.pth), e.g. shufflenetv2_x1-5666bf0f80.pth"
    )
    source.add_argument(
        "--imagenet",
        action="store_true",
        help="fetch torchvision's ImageNet file for the model's width through torchvision's weights API (downloaded "
        "once, hash-checked, cached in $TORCH_HOME/hub/checkpoints)",
    )
    parser.add_argument(
        "--model", required=True, help="model YAML whose scale matches the width, e.g. yolov8s-shufflenetv2.yaml"
    )
    parser.add_argument("--out", required=True, help="checkpoint to write, e.g. yolov8s-shufflenetv2-imagenet.pt")
    args = parser.parse_args(argv)
    try:
        model = YOLO(args.model).model
        if args.imagenet:
            width = backbone_width(model)
            origin, state_dict = width.weights_url, fetch_imagenet_state_dict(width)
        else:
            origin, state_dict = str(args.weights), load_torchvision_state_dict(args.weights)
        model.load_state_dict(convert_state_dict(model, state_dict))
        save_checkpoint(model, args.out, source=origin)
    except (OSError, ValueError) as e:
        print(f"convert: error: {e}", file=sys.stderr)
        return 1
    print(
        f"Wrote {args.out}: {args.model} with {len(torchvision_names(model))} tensors from {origin}. "
        f"Train with: yolo train model={args.model} pretrained={args.out} ..."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
