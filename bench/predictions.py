"""A small JPEG of a trained model's predictions on a few validation photos (for the README and the demo), and what
it found on each against the photo's labels, so a caption can say what the picture shows, mistakes included.

    python -m bench predictions runs/accuracy/runs/<model>/seed0/weights/last.pt \\
        --images ../shared/datasets/african-wildlife/images/val --count 4 --out docs/predictions.jpg
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

from . import yolo_env


def labels_of(photo: Path) -> list[tuple[int, list[float]]]:
    """The photo's YOLO labels (class, normalized x-center, y-center, width, height), from the labels folder that
    Ultralytics pairs with its images folder; empty when there is none."""
    parts = list(photo.parts)
    index = len(parts) - 1 - parts[::-1].index("images")
    label = Path(*parts[:index], "labels", *parts[index + 1 :]).with_suffix(".txt")
    if not label.is_file():
        return []
    rows = [line.split() for line in label.read_text().splitlines() if line.strip()]
    return [(int(r[0]), [float(v) for v in r[1:5]]) for r in rows]


def verdict(result: Any, labels: list[tuple[int, list[float]]], iou: float = 0.5) -> str:
    """Each labelled object matched to the most overlapping prediction (IoU >= ``iou``): right, wrong class, or
    missed; and every prediction matched to no object, a false detection."""
    import torch
    from ultralytics.utils.metrics import box_iou
    from ultralytics.utils.ops import xywhn2xyxy

    names, boxes = result.names, result.boxes
    height, width = result.orig_shape
    truth = torch.tensor([box for _, box in labels]).reshape(-1, 4)
    truth = xywhn2xyxy(truth, w=width, h=height)
    overlaps = box_iou(truth, boxes.xyxy.cpu()) if len(labels) and len(boxes) else torch.zeros(len(labels), 0)
    used, words = set(), []
    for i, (cls, _) in enumerate(labels):
        candidates = [j for j in overlaps[i].argsort(descending=True).tolist() if j not in used]
        best = next((j for j in candidates if overlaps[i, j] >= iou), None)
        if best is None:
            words.append(f"{names[cls]} missed")
            continue
        used.add(best)
        said, score = names[int(boxes.cls[best])], float(boxes.conf[best])
        words.append(
            f"{names[cls]} right ({score:.2f})" if said == names[cls] else f"{names[cls]} called {said} ({score:.2f})"
        )
    extra = [f"{names[int(boxes.cls[j])]} ({float(boxes.conf[j]):.2f})" for j in range(len(boxes)) if j not in used]
    words += [f"false detection: {', '.join(extra)}"] if extra else []
    return "labels: " + ("; ".join(words) if labels else "none for this photo" + (f"; {words[-1]}" if extra else ""))


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
        print(f"    {verdict(result, labels_of(file))}")
        image = result.plot(line_width=2)
        tiles.append(cv2.resize(image, (round(image.shape[1] * args.tile / image.shape[0]), args.tile)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), np.concatenate(tiles, axis=1), [cv2.IMWRITE_JPEG_QUALITY, 80])
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} kB): {', '.join(f.name for f in chosen)}")
    return 0
