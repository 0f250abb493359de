"""Turn a benchmark's raw samples (benchmark.csv, machine.json) into Markdown tables and a plot, without measuring.

    python -m bench render runs/benchmark      # writes benchmark.md and benchmark.png there, prints the Markdown

Cells are median [min-max across rounds]; ratios are of medians to the stock YOLO11 and YOLOv8 of the same scale
(below 1: smaller or faster; for training images/s, above 1 is faster).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import statistics
from pathlib import Path

LABELS = {
    "params": "params (M)",
    "gflops": "GFLOPs (640)",
    "train_ips": "train img/s",
    "peak_rss": "train peak RSS (MB)",
    "train_mem": "train RSS over imports (MB)",
}
DIGITS = {"params": 2, "gflops": 1, "latency": 1, "train_ips": 1, "peak_rss": 0, "train_mem": 0}
RUNTIME_NAMES = {
    "ncnn": "NCNN",
    "onnxruntime": "ONNX Runtime",
    "openvino": "OpenVINO",
    "mnn": "MNN",
    "tflite": "TFLite",
    "pytorch": "PyTorch",
}
REFERENCES = ("yolo26", "yolo11", "yolov8")  # YOLO26n, the model Ultralytics 8.4 users start from, first


def replace_text(path: Path, text: str) -> None:
    """Write a whole file under a temporary name, then rename it over path: two commands sharing an --out (two
    training lanes) never read each other's half-written recipe.json or runs.csv."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(text.encode())  # bytes: csv's \r\n line ends stay as the csv module wrote them
    os.replace(temporary, path)


def write_csv(path: Path, rows: list[dict], fields: list[str], restval: str = "") -> None:
    """Every CSV the commands write: a header row, then one row per measurement (cells missing from a row: restval)."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=fields, restval=restval)
    writer.writeheader()
    writer.writerows(rows)
    replace_text(path, text.getvalue())


def load(folder: Path) -> tuple[dict[tuple, dict], list[str]]:
    """Figures keyed by (model, runtime, imgsz, threads, metric), and the models in measurement order."""
    figures, order = {}, []
    with open(folder / "benchmark.csv", newline="") as f:
        for r in csv.DictReader(f):
            key = (r["model"], r["runtime"], int(r["imgsz"]), int(r["threads"]), r["metric"])
            figures[key] = {"samples": json.loads(r["samples"]), "error": r["error"]}
            order += [r["model"]] if r["model"] not in order else []
    return figures, order


def scale_of(model: str) -> str | None:
    found = re.search(r"yolo(?:v8|11|26)([nsmlx])", Path(model).name)
    return found.group(1) if found else None


def reference(model: str, family: str, models: list[str]) -> str | None:
    """The stock model of ``family`` at the scale of ``model``, if it was measured."""
    name = f"{family}{scale_of(model)}.yaml"
    return name if name in models else None


def cell(figures: dict, key: tuple, models: list[str]) -> str:
    figure = figures.get(key)
    if figure is None:
        return ""
    if figure["error"] or not figure["samples"]:
        return "failed"
    samples, digits = figure["samples"], DIGITS[key[-1]]
    median = statistics.median(samples)
    text = f"{median:,.{digits}f}"
    if len(samples) > 1:
        text += f" [{min(samples):,.{digits}f}-{max(samples):,.{digits}f}]"
    ratios = []
    for family in REFERENCES:
        ref = reference(key[0], family, models)
        base = figures.get((ref, *key[1:])) if ref else None
        if base and base["samples"] and not base["error"]:
            ratios.append(f"{median / statistics.median(base['samples']):.2f}x {family}")
    return text + (f" ({', '.join(ratios)})" if ratios else "")


def table(figures: dict, models: list[str], columns: list[tuple[str, tuple]]) -> list[str]:
    """One row per model; ``columns`` are (label, key without the model)."""
    lines = [f"| model | {' | '.join(label for label, _ in columns)} |", "|---" * (len(columns) + 1) + "|"]
    for model in models:
        cells = [cell(figures, (model, *key), models) for _, key in columns]
        if any(cells):
            lines.append(f"| {Path(model).name} | {' | '.join(cells)} |")
    return [*lines, ""]


def render(folder: Path) -> str:
    figures, models = load(folder)
    machine = json.loads((folder / "machine.json").read_text()) if (folder / "machine.json").is_file() else {}
    lines = ["# ultralytics-shufflenet benchmark", ""]
    lines += [f"- {k.replace('_', ' ').capitalize()}: {v}" for k, v in machine.items()] + [""]
    lines += ["## Size", "", *table(figures, models, [(LABELS[m], ("", 0, 0, m)) for m in ("params", "gflops")])]
    latency = sorted({k[1:4] for k in figures if k[-1] == "latency"})
    for runtime in dict.fromkeys(r for r, _, _ in latency):
        columns = [(f"{i}px, {t} thr (ms)", (r, i, t, "latency")) for r, i, t in latency if r == runtime]
        what = "per image, end to end" if "end to end" in machine.get("measured", "") else "batch 1"
        lines += [f"## Latency: {runtime}, {what}", "", *table(figures, models, columns)]
    train = sorted({k[1:4] for k in figures if k[1] == "pytorch-train"})
    if train:
        runtime, imgsz, threads = train[0]
        columns = [(LABELS[m], (runtime, imgsz, threads, m)) for m in ("train_ips", "peak_rss", "train_mem")]
        lines += [f"## Training ({imgsz}px, {threads} threads; higher img/s is faster)", ""]
        lines += table(figures, models, columns)
    failures = [f"- {k}: {v['error']}" for k, v in figures.items() if v["error"]]
    lines += ["## Failures", "", *failures, ""] if failures else []
    markdown = "\n".join(lines)
    (folder / "benchmark.md").write_text(markdown)
    plot(figures, models, latency, folder / "benchmark.png")
    return markdown


def plot(figures: dict, models: list[str], latency: list[tuple], path: Path) -> None:
    """Latency against GFLOPs for each latency figure: FLOPs do not predict speed, and this shows by how much."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not latency:
        return
    fig, axes = plt.subplots(1, len(latency), figsize=(6 * len(latency), 5), squeeze=False)
    for ax, (runtime, imgsz, threads) in zip(axes[0], latency):
        for model in models:
            flops, ms = (
                figures.get((model, "", 0, 0, "gflops")),
                figures.get((model, runtime, imgsz, threads, "latency")),
            )
            if not (flops and ms and flops["samples"] and ms["samples"]):
                continue
            x, y = flops["samples"][0] * (imgsz / 640) ** 2, statistics.median(ms["samples"])
            ax.errorbar(
                x,
                y,
                yerr=[[y - min(ms["samples"])], [max(ms["samples"]) - y]],
                fmt="s" if "shufflenet" not in model else "o",
                capsize=3,
            )
            ax.annotate(Path(model).stem, (x, y), textcoords="offset points", xytext=(5, 3), fontsize=7)
        ax.set(xlabel=f"GFLOPs at {imgsz}", ylabel="latency (ms)", title=f"{runtime}, {imgsz}px, {threads} thread(s)")
        ax.grid(alpha=0.3)
    save_figure(fig, path)


def save_figure(fig, path: Path) -> None:  # fig: a matplotlib Figure
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="a benchmark output folder (holds benchmark.csv)")
    print(render(parser.parse_args(argv).folder))
    return 0
