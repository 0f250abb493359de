"""Accuracy against latency: the picture that tells a user which detector to pick.

Reads the accuracy protocol's results (compare_accuracy.py --out FOLDER), then measures, in one interleaved run, the
batch-1 latency of each trained model (seed 0's weights) at the image size its accuracy was measured at: ONNX Runtime
and PyTorch, with the given threads. Latency is shown as a ratio to stock YOLO11n at the protocol's image size,
measured in the same run. Writes tradeoff.md, tradeoff.csv and tradeoff.png next to the accuracy results.

    python scripts/tradeoff.py runs/accuracy [--threads 2] [--rounds 7]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import render
import yolo_env

RUNTIMES = (("onnxruntime", "ONNX Runtime"), ("pytorch", "PyTorch"))
REFERENCE = "yolo11n.yaml"


def load_runs(folder: Path) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = defaultdict(list)
    with open(folder / "runs.csv", newline="") as f:
        for row in csv.DictReader(f):
            runs[row["model"]].append(row)
    return runs


def measure(runs: dict[str, list[dict]], threads: int, rounds: int, iters: int, work: Path) -> dict[tuple, object]:
    import measure as m

    results: dict[tuple, m.Figure] = defaultdict(m.Figure)
    tasks = []
    for runtime, _ in RUNTIMES:
        for model, seeds in runs.items():
            first = min(seeds, key=lambda r: int(r["seed"]))
            imgsz = int(first["imgsz"])
            key = (model, runtime)
            try:
                predict = m.predictor(first["weights"], runtime, imgsz, threads, work)
            except Exception as e:
                results[key].error = m.describe(e)
                continue
            tasks.append(m.latency_task(key, predict, imgsz, iters))
    m.run_rounds(tasks, rounds, results, "trade-off latency")
    return results


def rows(runs: dict[str, list[dict]], latency: dict, reference: str) -> list[dict]:
    table = []
    for model, seeds in runs.items():
        maps = [float(r["mAP50-95"]) for r in seeds]
        map50 = [float(r["mAP50"]) for r in seeds]
        row = {
            "model": model,
            "seeds": len(seeds),
            "mAP50-95": statistics.mean(maps),
            "mAP50-95_min": min(maps),
            "mAP50-95_max": max(maps),
            "mAP50": statistics.mean(map50),
            "params": int(seeds[0]["params"]),
            "gflops": float(seeds[0]["gflops"]),
        }
        for runtime, _ in RUNTIMES:
            figure, base = latency.get((model, runtime)), latency.get((reference, runtime))
            ok = figure is not None and figure.ok
            row[f"{runtime}_ms"] = figure.median if ok else None
            row[f"{runtime}_min"] = min(figure.samples) if ok else None
            row[f"{runtime}_max"] = max(figure.samples) if ok else None
            row[f"{runtime}_ratio"] = figure.median / base.median if ok and base is not None and base.ok else None
        table.append(row)
    return table


def markdown(table: list[dict], recipe: dict, threads: int, reference: str) -> str:
    def ms(row: dict, runtime: str) -> str:
        if row[f"{runtime}_ms"] is None:
            return "failed"
        ratio = f" ({row[f'{runtime}_ratio']:.2f}x)" if row[f"{runtime}_ratio"] is not None else ""
        return f"{row[f'{runtime}_ms']:.1f} [{row[f'{runtime}_min']:.1f}-{row[f'{runtime}_max']:.1f}]{ratio}"

    lines = [
        f"Accuracy: {recipe.get('data')}, from scratch, {recipe.get('epochs')} epochs, batch {recipe.get('batch')}, "
        f"{recipe.get('optimizer')} lr0={recipe.get('lr0')}; mean [min-max] over the model's seeds. "
        f"Latency: batch 1, {threads} threads, at the model's own image size, trained weights (seed 0), median "
        f"[min-max] over rounds; ratio to {reference} at {recipe.get('imgsz')} in the same run.",
        "",
        "| model @ image size | seeds | mAP50-95 | mAP50 | ONNX Runtime (ms) | PyTorch (ms) | params | GFLOPs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in sorted(table, key=lambda r: -r["mAP50-95"]):
        spread = f" [{row['mAP50-95_min']:.3f}-{row['mAP50-95_max']:.3f}]" if row["seeds"] > 1 else ""
        lines.append(
            f"| {row['model']} | {row['seeds']} | {row['mAP50-95']:.3f}{spread} | "
            f"{row['mAP50']:.3f} | {ms(row, 'onnxruntime')} | {ms(row, 'pytorch')} | {row['params']:,} | "
            f"{row['gflops']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def plot(table: list[dict], path: Path, reference: str, goal: float = 0.6) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(RUNTIMES), figsize=(13, 5.5), sharey=True)
    base = next((r for r in table if r["model"] == reference), None)
    for ax, (runtime, title) in zip(axes, RUNTIMES):
        for row in table:
            x = row[f"{runtime}_ratio"]
            if x is None:
                continue
            y = row["mAP50-95"]
            err = [[y - row["mAP50-95_min"]], [row["mAP50-95_max"] - y]]
            stock = "shufflenet" not in row["model"]
            ax.errorbar(x, y, yerr=err, fmt="s" if stock else "o", color="tab:gray" if stock else "tab:blue", capsize=3)
            ax.annotate(
                row["model"].replace(".yaml", ""), (x, y), textcoords="offset points", xytext=(5, 3), fontsize=7
            )
        if base:
            ax.axhspan(
                base["mAP50-95_min"], base["mAP50-95_max"], color="tab:green", alpha=0.12, label=f"{reference} seeds"
            )
        ax.axvline(goal, color="tab:red", linestyle="--", linewidth=1, label=f"{goal:.2f}x {reference}")
        ax.set(xlabel=f"latency / {reference} latency ({title}, batch 1)", title=title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="center right")
    axes[0].set_ylabel("mAP50-95 (val), mean and min-max over seeds")
    fig.suptitle("Accuracy against CPU latency: up and left is better")
    render.save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("accuracy", type=Path, help="compare_accuracy.py's --out folder (holds runs.csv)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--iters", type=int, default=10)
    args = parser.parse_args(argv)
    folder = args.accuracy.resolve()
    yolo_env.isolate(folder / "yolo-config")
    import logging
    import tempfile

    from ultralytics.utils import LOGGER

    LOGGER.setLevel(logging.WARNING)
    recipe = json.loads((folder / "recipe.json").read_text())
    reference = f"{REFERENCE}@{recipe['imgsz']}"
    runs = load_runs(folder)
    with tempfile.TemporaryDirectory(prefix="tradeoff-") as work:
        latency = measure(runs, args.threads, args.rounds, args.iters, Path(work))
    table = rows(runs, latency, reference)
    with open(folder / "tradeoff.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    text = markdown(table, recipe, args.threads, reference)
    (folder / "tradeoff.md").write_text(text)
    plot(table, folder / "tradeoff.png", reference)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
