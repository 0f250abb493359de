"""Train stock YOLOv8 and the ShuffleNet configs the same way, then compare their accuracy.

Every model gets the same data, epochs, image size, batch, seed and deterministic training through the stock
trainer, from scratch (validating only after the last epoch, to save time), then a stock validation of its last.pt.
Prints a Markdown table (mAP50, mAP50-95, final training losses, params, training time) and writes it with a CSV to
--out. Short CPU runs leave mAP near zero; the losses then still show which model learns faster.

    python scripts/compare_accuracy.py --data coco128.yaml --epochs 30 --imgsz 320
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from ultralytics import YOLO

import ultralytics_shufflenet  # noqa: F401 - registers the plugin layers

MODELS = ("yolov8n.yaml", "yolov8n-shufflenetv2.yaml", "yolov8n-shufflenetv2-lite.yaml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="coco128.yaml")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    # Ultralytics' 'auto' picks AdamW at a fine-tuning learning rate for runs this short; from scratch, SGD at 0.01
    # (its long-run choice) learns much faster. Every model gets the same.
    parser.add_argument("--optimizer", default="SGD")
    parser.add_argument("--lr0", type=float, default=0.01)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--out", type=Path, default=Path("runs/accuracy"))
    args = parser.parse_args()
    out = args.out.resolve()
    rows = []
    for cfg in args.models:
        start = time.perf_counter()
        model = YOLO(cfg)
        model.train(
            data=args.data,
            epochs=args.epochs,
            imgsz=args.imgsz,
            batch=args.batch,
            seed=args.seed,
            deterministic=True,
            device="cpu",
            workers=args.workers,
            project=str(out),
            name=Path(cfg).stem,
            exist_ok=True,
            plots=False,
            pretrained=False,
            val=False,
        )
        minutes = (time.perf_counter() - start) / 60
        run_dir = out / Path(cfg).stem
        with open(run_dir / "results.csv") as f:
            last = {k.strip(): v for k, v in list(csv.DictReader(f))[-1].items()}
        losses = "/".join(f"{float(last[f'train/{k}_loss']):.3f}" for k in ("box", "cls", "dfl"))
        metrics = YOLO(run_dir / "weights" / "last.pt").val(
            data=args.data,
            imgsz=args.imgsz,
            batch=args.batch,
            device="cpu",
            plots=False,
            project=str(out),
            name=f"{Path(cfg).stem}-val",
            exist_ok=True,
            verbose=False,
        )
        params = sum(p.numel() for p in model.model.parameters())
        rows.append(
            {
                "model": cfg,
                "mAP50": metrics.box.map50,
                "mAP50-95": metrics.box.map,
                "train_losses_box_cls_dfl": losses,
                "params": params,
                "train_minutes": minutes,
            }
        )
    header = (
        f"{args.data}, {args.epochs} epochs from scratch, imgsz {args.imgsz}, batch {args.batch}, seed {args.seed}, CPU"
    )
    table = [
        f"Accuracy after identical training: {header}",
        "",
        "| model | mAP50 | mAP50-95 | last-epoch train loss (box/cls/dfl) | params | train min |",
        "|---|---|---|---|---|---|",
    ]
    table += [
        f"| {r['model']} | {r['mAP50']:.4f} | {r['mAP50-95']:.4f} | {r['train_losses_box_cls_dfl']} | "
        f"{r['params']:,} | {r['train_minutes']:.1f} |"
        for r in rows
    ]
    print("\n".join(table))
    out.mkdir(parents=True, exist_ok=True)
    (out / "accuracy.md").write_text("\n".join(table) + "\n")
    with open(out / "accuracy.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
