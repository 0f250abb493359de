"""Measure what the ShuffleNet V2 configs cost next to stock YOLO26n and YOLO11n on this machine's CPU.

For every model: size (parameters, GFLOPs), batch-1 latency in each runtime at each image size and thread count, and
optionally training throughput and peak memory. All models of a figure are measured in the same rounds, interleaved,
so ratios compare like with like. Models are built from their YAMLs with random weights (latency does not depend on
them), so nothing is downloaded. Raw samples go to ``benchmark.csv``; render.py turns them into tables and a plot
(run here at the end, and again by hand without re-measuring: ``python -m bench render runs/benchmark``).

    python -m bench latency                                   # n and s scales, PyTorch and ONNX Runtime, training
    python -m bench latency --quick                           # a few minutes: n scale, 320, fewer rounds
    python -m bench latency --runtimes onnxruntime openvino --imgsz 320 640 --threads 1 2
    python -m bench latency --runtimes installed --imgsz 320 --threads 1 2 --no-train   # an ARM board, as it is
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from collections import defaultdict
from pathlib import Path

from . import models, yolo_env
from .render import write_csv

MEASURED = {
    False: "the network alone, on a random input in 0..1 (Ultralytics' pre/post-processing not included)",
    True: "per image, end to end: {photo} letterboxed and normalized, the network, then Ultralytics' NMS (a "
    "confidence filter for one-to-one outputs) and the boxes scaled back, as its predictor does",
}
FIELDS = ("model", "runtime", "imgsz", "threads", "metric", "unit", "samples", "error")


def measure(args: argparse.Namespace, names: list[str], out: Path) -> list[dict]:
    """Every figure of every model; returns the CSV rows."""
    from . import measure as m

    results: dict[tuple, m.Figure] = defaultdict(m.Figure)
    rows: list[dict] = []
    for name in names:
        try:
            params, gflops = size(name, args.classes)
            rows += [
                row(name, "", 0, 0, "params", "M", [params / 1e6]),
                row(name, "", 0, 0, "gflops", "GFLOPs", [gflops]),
            ]
        except Exception as e:
            rows.append(row(name, "", 0, 0, "params", "M", [], m.describe(e)))
    tasks = []
    photo = None
    if args.per_image:
        import cv2

        photo = cv2.imread(str(args.photo))
        if photo is None:
            raise SystemExit(f"--photo {args.photo}: not an image")
    for runtime in args.runtimes:  # ordered by figure, so the models compared in one column run back to back
        for imgsz in args.imgsz:
            for threads in args.threads:
                for name in names:
                    key = (name, runtime, imgsz, threads, "latency")
                    m.log(f"preparing {name} for {runtime} at {imgsz}, {threads} thread(s)")
                    try:  # exports are kept in out/exports: a second run with other rounds or threads reuses them
                        predict = m.predictor(
                            name, runtime, imgsz, threads, out / "exports", args.calibration, args.classes
                        )
                    except Exception as e:
                        results[key].error = m.describe(e)
                        m.log(f"{key}: failed: {results[key].error}")
                        continue
                    tasks.append(m.latency_task(key, predict, imgsz, args.iters, photo))
    m.run_rounds(tasks, args.rounds, results, "latency")
    if args.train:
        threads = max(args.threads)
        train = []
        for name in names:
            for metric in ("train_ips", "peak_rss", "train_mem"):
                results[(name, "pytorch-train", args.train_imgsz, threads, metric)]

            def sample(name: str = name) -> float:
                figures = m.training_sample(name, args.train_imgsz, args.train_batch, args.train_steps, threads)
                for metric in ("peak_rss", "train_mem"):
                    results[(name, "pytorch-train", args.train_imgsz, threads, metric)].samples.append(figures[metric])
                return figures["train_ips"]

            train.append(m.Task((name, "pytorch-train", args.train_imgsz, threads, "train_ips"), sample))
        m.run_rounds(train, args.train_rounds, results, "training", warmup=0)
    units = {"latency": "ms", "train_ips": "images/s", "peak_rss": "MB", "train_mem": "MB"}
    for (name, runtime, imgsz, threads, metric), figure in results.items():
        rows.append(row(name, runtime, imgsz, threads, metric, units[metric], figure.samples, figure.error))
    return rows


def size(name: str, classes: int | None = None) -> tuple[int, float]:
    """Parameters and GFLOPs at 640, as Ultralytics reports them, of the model as built (before fusing)."""
    from ultralytics.utils.torch_utils import get_flops

    from .measure import built

    model = built(name, classes).model
    return sum(p.numel() for p in model.parameters()), get_flops(model, 640)


def row(model: str, runtime: str, imgsz: int, threads: int, metric: str, unit: str, samples: list, error: str = ""):
    values = {"samples": json.dumps([round(s, 4) for s in samples]), "error": error}
    return dict(zip(FIELDS, (model, runtime, imgsz, threads, metric, unit)), **values)


def machine(args: argparse.Namespace, threads: int) -> dict:
    import onnxruntime
    import torch
    import ultralytics

    import ultralytics_shufflenet

    cpu = platform.processor() or "unknown CPU"
    if Path("/proc/cpuinfo").is_file():
        names = [
            x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in x
        ]
        cpu = names[0] if names else cpu
    return {
        "command": shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv])),
        "cpu": f"{threads} CPU cores available ({cpu}), {platform.system()} {platform.machine()}",
        "versions": f"Python {platform.python_version()}, torch {torch.__version__}, onnxruntime "
        f"{onnxruntime.__version__}, ultralytics {ultralytics.__version__}, ultralytics-shufflenet "
        f"{ultralytics_shufflenet.__version__}",
        "measured": MEASURED[args.per_image].format(photo=args.photo),
        "classes": f"{args.classes} (every config rebuilt for it)" if args.classes else "each config's own (80)",
        "method": f"one discarded warm-up round, then {args.rounds} rounds; each round times every model once per "
        f"figure, interleaved (median of {args.iters} calls); batch 1; the stock export of each model, run through "
        "the runtime's own API."
        + (
            ""
            if not args.train
            else f" Training: {args.train_rounds} rounds, each a fresh process per model doing 1 untimed + "
            f"{args.train_steps} timed SGD steps on a synthetic batch ({args.train_batch} images of "
            f"{args.train_imgsz}px) through the stock loss."
        ),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="n scale, 320, ONNX Runtime and PyTorch, fewer rounds")
    parser.add_argument("--scales", nargs="+", default=["n", "s"])
    parser.add_argument("--models", nargs="+", help="configs or checkpoints (default: stock and shipped, per scale)")
    parser.add_argument(
        "--runtimes",
        nargs="+",
        default=["pytorch", "onnxruntime"],
        help="or 'installed': every runtime this machine has",
    )
    parser.add_argument("--imgsz", nargs="+", type=int, default=[320, 640])
    parser.add_argument("--threads", nargs="+", type=int, help="default: every available core")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iters", type=int, default=5, help="calls per model per round; a round keeps the median")
    parser.add_argument("--no-train", dest="train", action="store_false", help="skip training throughput and memory")
    parser.add_argument("--train-imgsz", type=int, default=320)
    parser.add_argument("--train-batch", type=int, default=8)
    parser.add_argument("--train-steps", type=int, default=3)
    parser.add_argument("--train-rounds", type=int, default=3)
    parser.add_argument(
        "--datasets", type=Path, default=yolo_env.SHARED_DATASETS, help="holds coco8 (INT8 calibration)"
    )
    parser.add_argument("--classes", type=int, help="rebuild every config for this many classes (default: its own)")
    parser.add_argument("--per-image", action="store_true", help="time the whole pipeline on --photo, not the network")
    parser.add_argument(
        "--photo", type=Path, help="a BGR photo for --per-image (default: one african-wildlife val photo)"
    )
    parser.add_argument("--out", type=Path, default=Path("runs/benchmark"))
    args = parser.parse_args(argv)
    if args.quick:
        args.scales, args.imgsz, args.rounds, args.iters = ["n"], [320], 3, 3
        args.train_batch, args.train_steps, args.train_rounds = 4, 2, 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    args.threads = args.threads or [cores]
    if "installed" in args.runtimes:
        from .measure import installed_runtimes

        args.runtimes = [r for r in args.runtimes if r != "installed"] + installed_runtimes()
    photos = sorted((args.datasets / "african-wildlife" / "images" / "val").glob("*.jpg"))
    args.photo = args.photo or (photos[0] if photos else None)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    yolo_env.isolate()
    import logging

    from ultralytics.utils import LOGGER

    from . import measure as m
    from . import render

    LOGGER.setLevel(logging.WARNING)  # keep stdout for the report; progress goes to stderr
    args.calibration = None  # INT8 calibration images, by path: this process has read Ultralytics' datasets_dir
    if any("split" in dict(m.RUNTIMES[r].export_args) for r in args.runtimes if r in m.RUNTIMES):
        copied = yolo_env.writable_datasets(["coco8"], out / "datasets", args.datasets)
        args.calibration = str(copied / "coco8" / "coco8.yaml")
    names = args.models or [n for scale in args.scales for n in (*models.stock(scale), *models.shipped(scale))]
    started = time.perf_counter()
    rows = measure(args, names, out)
    write_csv(out / "benchmark.csv", rows, list(FIELDS))
    info = machine(args, cores) | {"wall_seconds": round(time.perf_counter() - started)}
    (out / "machine.json").write_text(json.dumps(info, indent=1))
    print(render.render(out))
    return 0
