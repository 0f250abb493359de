"""Accuracy against latency: the picture that tells a user which detector to pick.

Reads the accuracy protocol's results (compare_accuracy.py --out FOLDER), then measures, in one interleaved run, the
batch-1 latency of each trained model (seed 0's weights) at the image size its accuracy was measured at, in each
runtime (the stock export of the weights; PyTorch eager) and thread count. Latency is shown as a ratio to stock
YOLO11n trained from scratch at the protocol's image size, measured in the same run. Every row says how its model
started (scratch, ImageNet, a checkpoint). Writes tradeoff.md, tradeoff.csv and tradeoff.png next to the accuracy
results.

    python -m bench tradeoff runs/accuracy [--runtimes ncnn onnxruntime pytorch] [--threads 1 2] [--rounds 7]
    python -m bench tradeoff runs/accuracy --latency-from earlier/tradeoff.csv   # new seeds, same timing
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from collections import defaultdict
from pathlib import Path

from . import render, yolo_env

TIMED = ("ncnn", "onnxruntime", "pytorch")  # the runtimes the trade-off times by default
REFERENCE = "yolo11n.yaml"


def load_runs(folder: Path) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = defaultdict(list)
    with open(folder / "runs.csv", newline="") as f:
        for row in csv.DictReader(f):
            runs[row["model"]].append(row)
    return runs


def figures(runtimes: list[str], threads: list[int]) -> list[tuple[str, int]]:
    return [(runtime, t) for runtime in runtimes for t in threads]


def measure(runs: dict[str, list[dict]], columns: list[tuple[str, int]], rounds: int, iters: int, work: Path) -> dict:
    from . import measure as m

    results: dict[tuple, m.Figure] = defaultdict(m.Figure)
    tasks = []
    for runtime, threads in columns:
        for model, seeds in runs.items():
            first = min(seeds, key=lambda r: int(r["seed"]))
            imgsz = int(first["imgsz"])
            key = (model, runtime, threads)
            try:
                predict = m.predictor(first["weights"], runtime, imgsz, threads, work)
            except Exception as e:
                results[key].error = m.describe(e)
                continue
            tasks.append(m.latency_task(key, predict, imgsz, iters))
    m.run_rounds(tasks, rounds, results, "trade-off latency")
    return results


def column(runtime: str, threads: int) -> str:
    return f"{runtime}_{threads}t"


def rows(runs: dict[str, list[dict]], latency: dict, reference: str, columns: list[tuple[str, int]]) -> list[dict]:
    table = []
    for model, seeds in runs.items():
        maps = [float(r["mAP50-95"]) for r in seeds]
        map50 = [float(r["mAP50"]) for r in seeds]
        row = {
            "model": model,
            "start": seeds[0].get("start") or "scratch",  # runs from before the start was recorded were all scratch
            "seeds": len(seeds),
            "mAP50-95": statistics.mean(maps),
            "mAP50-95_min": min(maps),
            "mAP50-95_max": max(maps),
            "mAP50": statistics.mean(map50),
            "params": int(seeds[0]["params"]),
            "gflops": float(seeds[0]["gflops"]),
        }
        for runtime, threads in columns:
            figure, base = latency.get((model, runtime, threads)), latency.get((reference, runtime, threads))
            ok = figure is not None and figure.ok
            name = column(runtime, threads)
            row[f"{name}_ms"] = figure.median if ok else None
            row[f"{name}_min"] = min(figure.samples) if ok else None
            row[f"{name}_max"] = max(figure.samples) if ok else None
            row[f"{name}_ratio"] = figure.median / base.median if ok and base is not None and base.ok else None
        table.append(row)
    return table


def with_measured_latency(table: list[dict], earlier: Path) -> list[dict]:
    """The rows with the latency cells of an earlier tradeoff.csv: re-rendering after seeds were added re-uses the
    timing (of seed 0's weights, which more seeds do not change) instead of measuring again."""
    with open(earlier, newline="") as f:
        measured = {row["model"]: row for row in csv.DictReader(f)}
    timing = ("_ms", "_min", "_max", "_ratio")  # the latency cells; the accuracy ones (mAP50-95_min ...) are new
    return [
        {
            **row,
            **{
                k: float(v) if v else None
                for k, v in measured.get(row["model"], {}).items()
                if k.endswith(timing) and not k.startswith("mAP")
            },
        }
        for row in table
    ]


def markdown(table: list[dict], recipe: dict, reference: str, columns: list[tuple[str, int]]) -> str:
    def ms(row: dict, name: str) -> str:
        if row.get(f"{name}_ms") is None:
            return "failed"
        ratio = f" ({row[f'{name}_ratio']:.2f}x)" if row[f"{name}_ratio"] is not None else ""
        return f"{row[f'{name}_ms']:.1f}{ratio}"

    lines = [
        f"Accuracy: {recipe.get('data')}, {recipe.get('epochs')} epochs, batch {recipe.get('batch')}, optimizer "
        f"{recipe.get('optimizer')}"
        + (f" lr0={recipe.get('lr0')}" if recipe.get("optimizer") != "auto" else "")
        + "; each model from the start its row names; mAP50-95 mean [min-max] over the model's seeds. "
        f"Latency: batch 1, at the model's own image size, trained weights (seed 0), median over rounds, ms; ratio to "
        f"{reference} in the same run.",
        "",
        "| model @ image size | start | seeds | mAP50-95 | mAP50 | "
        + " | ".join(f"{render.RUNTIME_NAMES[r]} {t} thr" for r, t in columns)
        + " | params | GFLOPs |",
        "|---|---|---|---|---|" + "---|" * len(columns) + "---|---|",
    ]
    for row in sorted(table, key=lambda r: -r["mAP50-95"]):
        spread = f" [{row['mAP50-95_min']:.3f}-{row['mAP50-95_max']:.3f}]" if row["seeds"] > 1 else ""
        cells = " | ".join(ms(row, column(r, t)) for r, t in columns)
        lines.append(
            f"| {row['model']} | {row['start']} | {row['seeds']} | {row['mAP50-95']:.3f}{spread} | "
            f"{row['mAP50']:.3f} | {cells} | {row['params']:,} | {row['gflops']:.2f} |"
        )
    return "\n".join(lines) + "\n"


COLOURS = {"scratch": "tab:blue", "imagenet": "tab:orange", "checkpoint": "tab:green"}


def plot(table: list[dict], path: Path, reference: str, columns: list[tuple[str, int]], goals: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [(r, t) for r, t in columns if r != "pytorch"] or columns
    cols = min(len(shown), 2)
    fig, axes = plt.subplots(-(-len(shown) // cols), cols, figsize=(6.5 * cols, 5 * -(-len(shown) // cols)))
    axes = [axes] if len(shown) == 1 else list(getattr(axes, "flat", axes))
    base = next((r for r in table if r["model"] == reference), None)
    for ax, (runtime, threads) in zip(axes, shown):
        for row in table:
            x = row[f"{column(runtime, threads)}_ratio"]
            if x is None:
                continue
            y = row["mAP50-95"]
            err = [[y - row["mAP50-95_min"]], [row["mAP50-95_max"] - y]]
            stock = "shufflenet" not in row["model"]
            ax.errorbar(
                x, y, yerr=err, fmt="s" if stock else "o", color=COLOURS.get(row["start"], "tab:gray"), capsize=3
            )
            label = row["model"].replace(".yaml", "")
            ax.annotate(label, (x, y), textcoords="offset points", xytext=(5, 3), fontsize=6)
        if base:
            ax.axhspan(base["mAP50-95_min"], base["mAP50-95_max"], color="tab:green", alpha=0.12, label=reference)
        if runtime in goals:
            ax.axvline(goals[runtime], color="tab:red", linestyle="--", linewidth=1, label=f"goal {goals[runtime]}x")
        ax.set(
            xlabel=f"latency / {reference} latency",
            title=f"{render.RUNTIME_NAMES[runtime]}, {threads} thread(s), batch 1",
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    for ax in axes[len(shown) :]:
        ax.axis("off")
    axes[0].set_ylabel("mAP50-95 (val), mean and min-max over seeds")
    fig.suptitle("Accuracy against CPU latency: up and left is better (squares: stock; orange: ImageNet start)")
    render.save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("accuracy", type=Path, help="compare_accuracy.py's --out folder (holds runs.csv)")
    parser.add_argument("--runtimes", nargs="+", default=list(TIMED), choices=list(TIMED))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument(
        "--latency-from", type=Path, help="an earlier tradeoff.csv whose timing to re-use (re-render after new seeds)"
    )
    args = parser.parse_args(argv)
    folder = args.accuracy.resolve()
    yolo_env.isolate(folder / "yolo-config")
    import logging
    import tempfile

    from ultralytics.utils import LOGGER

    import ultralytics_shufflenet  # noqa: F401 - registers the plugin (exports trace its export form)

    LOGGER.setLevel(logging.WARNING)
    recipe = json.loads((folder / "recipe.json").read_text())
    reference = f"{REFERENCE}@{recipe['imgsz']}"
    runs = load_runs(folder)
    columns = figures(args.runtimes, args.threads)
    if args.latency_from:
        table = with_measured_latency(rows(runs, {}, reference, columns), args.latency_from)
    else:
        with tempfile.TemporaryDirectory(prefix="tradeoff-") as work:
            latency = measure(runs, columns, args.rounds, args.iters, Path(work))
        table = rows(runs, latency, reference, columns)
    render.write_csv(folder / "tradeoff.csv", table, list(table[0]))
    text = markdown(table, recipe, reference, columns)
    (folder / "tradeoff.md").write_text(text)
    plot(table, folder / "tradeoff.png", reference, columns, goals={"ncnn": 0.6, "onnxruntime": 0.7})
    print(text)
    return 0
