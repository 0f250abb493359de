"""A small JPEG of a trained model's predictions on a few validation photos (for the README and the demo), and what
it found on each.

    python -m bench predictions runs/accuracy/runs/<model>/seed0/weights/last.pt \\
        --images ../shared/datasets/african-wildlife/images/val --count 4 --out docs/predictions.jpg
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from . import yolo_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights", type=Path)
    parser.add_argument("--images", type=Path, required=True, help="a folder of photos; every n-th is taken")
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--tile", type=int, default=360, help="height of each photo in the picture, pixels")
    parser.add_argument("--out", type=Path, default=Path("docs/predictions.jpg"))
    args = parser.parse_args(argv)
    yolo_env.isolate()
    import cv2
    import numpy as np
    from ultralytics import YOLO

    files = sorted(p for p in args.images.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    chosen = files[:: max(1, len(files) // args.count)][: args.count]
    model = YOLO(args.weights)
    tiles = []
    for file, result in zip(
        chosen, model.predict([str(f) for f in chosen], imgsz=args.imgsz, device="cpu", verbose=False)
    ):
        found = Counter(result.names[int(c)] for c in result.boxes.cls)
        print(f"{file.name}: {', '.join(f'{n} {name}' for name, n in found.items()) or 'no detections'}")
        image = result.plot(line_width=2)
        tiles.append(cv2.resize(image, (round(image.shape[1] * args.tile / image.shape[0]), args.tile)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), np.concatenate(tiles, axis=1), [cv2.IMWRITE_JPEG_QUALITY, 80])
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} kB): {', '.join(f.name for f in chosen)}")
    return 0
