"""Convert torchvision's ShuffleNet V2 ImageNet weights into a checkpoint for ``yolo train ... pretrained=OUT.pt``.

    python -m ultralytics_shufflenet.convert shufflenetv2_x1-5666bf0f80.pth --model yolov8s-shufflenetv2.yaml \\
        --out yolov8s-shufflenetv2-imagenet.pt
"""

from __future__ import annotations

import argparse
import sys

from ultralytics import YOLO

from .weights import convert_state_dict, load_torchvision_state_dict, save_checkpoint, torchvision_names
from .widths import SCALES


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: nothing is written unless the whole conversion succeeds."""
    files = "\n".join(f"  {scale}: {width.name} {width.weights_url}" for scale, width in SCALES.items())
    parser = argparse.ArgumentParser(
        prog="python -m ultralytics_shufflenet.convert",
        description=__doc__.split("\n")[0],
        epilog=f"torchvision's ImageNet weights for each model scale:\n{files}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "weights", help="torchvision ShuffleNet V2 state dict (.pth), e.g. shufflenetv2_x1-5666bf0f80.pth"
    )
    parser.add_argument(
        "--model", required=True, help="model YAML whose scale matches the width, e.g. yolov8s-shufflenetv2.yaml"
    )
    parser.add_argument("--out", required=True, help="checkpoint to write, e.g. yolov8s-shufflenetv2-imagenet.pt")
    args = parser.parse_args(argv)
    try:
        state_dict = load_torchvision_state_dict(args.weights)
        model = YOLO(args.model).model
        model.load_state_dict(convert_state_dict(model, state_dict))
        save_checkpoint(model, args.out, source=str(args.weights))
    except (OSError, ValueError) as e:
        print(f"convert: error: {e}", file=sys.stderr)
        return 1
    print(
        f"Wrote {args.out}: {args.model} with {len(torchvision_names(model))} tensors from {args.weights}. "
        f"Train with: yolo train model={args.model} pretrained={args.out} ..."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
