"""Where the faithful config's CPU time goes, and what the plugin's own implementation choices are worth.

Three implementations of the same network (identical outputs, checked here), measured in one interleaved run next to
the stock nano detectors (YOLO26n, YOLO11n):
- shipped: the stem's max-pool computed as the maximum of nine strided views in eager PyTorch inference, and each
  unit's concat + channel shuffle merged into one copy;
- stock max-pool stem: ``nn.MaxPool2d`` in the stem, as in 0.1.0;
- concat+shuffle unit: the paper's literal concat, then a separate shuffle.
The variants are made per model instance (their classes swapped on that model only), never process-wide. Then the
time of every top-level layer in eager PyTorch, measured without a profiler (whose per-op overhead inflates the small
ops), so each layer's share can be trusted.

    python -m bench unit [--scale n] [--out runs/unit-experiment]

Writes unit_experiment.csv (raw samples: every figure's rounds, every layer's median) and unit_experiment.md to --out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from . import models, yolo_env
from .render import write_csv

VARIANTS = ("shipped", "stock max-pool stem", "concat+shuffle unit")


def variant_model(config: str, variant: str):  # -> YOLO
    """The config built from YAML, with the variant's classes swapped in on this model's layers only."""
    import torch
    from ultralytics import YOLO

    from ultralytics_shufflenet.modules import Conv_maxpool, ShuffleNetV2, channel_shuffle

    class StockPoolStem(Conv_maxpool):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.maxpool(self.conv(x))

    class ConcatThenShuffle(ShuffleNetV2):
        join = staticmethod(lambda a, b: channel_shuffle(torch.cat((a, b), 1), 2))

    swap = {
        "stock max-pool stem": (Conv_maxpool, StockPoolStem),
        "concat+shuffle unit": (ShuffleNetV2, ConcatThenShuffle),
    }
    torch.manual_seed(0)
    model = YOLO(config)
    if variant in swap:
        original, replacement = swap[variant]
        for module in model.model.modules():
            if type(module) is original:
                module.__class__ = replacement
    return model


def layer_times(net, x, rounds: int) -> list[float]:  # net: a fused DetectionModel in eval mode
    """Median wall time of each top-level layer, run one by one as the model's own forward does."""
    import torch

    samples: list[list[float]] = []
    with torch.no_grad():
        for _ in range(rounds):
            y, times, out = [], [], x
            for m in net.model:
                if m.f != -1:
                    out = y[m.f] if isinstance(m.f, int) else [out if j == -1 else y[j] for j in m.f]
                start = time.perf_counter()
                out = m(out)
                times.append(time.perf_counter() - start)
                y.append(out if m.i in net.save else None)
            samples.append(times)
    return [statistics.median(column) * 1e3 for column in zip(*samples[1:])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="n")
    parser.add_argument("--imgsz", nargs="+", type=int, default=[320, 640])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("runs/unit-experiment"))
    args = parser.parse_args(argv)
    yolo_env.isolate()
    import torch

    from . import measure as m

    faithful = models.with_scale("yolov8-shufflenetv2.yaml", args.scale)
    stock = models.stock(args.scale)
    built = {(faithful, v): variant_model(faithful, v) for v in VARIANTS}
    built |= {(name, "stock"): variant_model(name, "stock") for name in stock}
    nets = {k: y.model.fuse(verbose=False).eval() for k, y in built.items()}

    image = torch.rand(1, 3, 256, 256)
    with torch.no_grad():
        reference = nets[(faithful, "shipped")](image)[0]
        same = {v: torch.equal(nets[(faithful, v)](image)[0], reference) for v in VARIANTS}

    results: dict[tuple, m.Figure] = defaultdict(m.Figure)
    tasks = []
    with tempfile.TemporaryDirectory() as folder:
        for imgsz in args.imgsz:
            x = torch.rand(1, 3, imgsz, imgsz)
            for key, net in nets.items():

                def pytorch(net=net, x=x) -> float:
                    torch.set_num_threads(args.threads)
                    with torch.no_grad():
                        return m.median_ms(lambda: net(x), args.iters)

                tasks.append(m.Task((*key, "PyTorch", imgsz), pytorch))
            for key, model in built.items():
                if key[1] == "stock max-pool stem":
                    continue  # exports use the stock max-pool in every variant: the same graph as 'shipped'
                with m.working_dir(Path(folder) / m.slug("-".join(key)) / str(imgsz)):
                    path = Path(model.export(format="onnx", imgsz=imgsz, simplify=True)).resolve()
                tasks.append(
                    m.latency_task(
                        (*key, "ONNX Runtime", imgsz),
                        m.RUNTIMES["onnxruntime"].load(path, args.threads),
                        imgsz,
                        args.iters,
                    )
                )
        m.run_rounds(tasks, args.rounds, results, "unit experiment")

    lines = [
        f"# What the implementation choices are worth: {faithful}, batch 1, {args.threads} threads",
        "",
        f"Outputs identical to the shipped model on the same weights: {same}.",
        "",
        "| model | variant | "
        + " | ".join(f"{rt} {s} (ms)" for rt in ("PyTorch", "ONNX Runtime") for s in args.imgsz)
        + " |",
        "|---|---|" + "---|" * (2 * len(args.imgsz)),
    ]
    for key in built:
        cells = []
        for runtime in ("PyTorch", "ONNX Runtime"):
            for imgsz in args.imgsz:
                figure = results.get((*key, runtime, imgsz))
                if figure is None or not figure.ok:
                    cells.append("" if figure is None else "failed")
                    continue
                base = results.get((faithful, "shipped", runtime, imgsz))
                ratio = (
                    f" ({figure.median / base.median:.2f}x shipped)" if base and base.ok and key[1] != "shipped" else ""
                )
                cells.append(f"{figure.median:.1f} [{min(figure.samples):.1f}-{max(figure.samples):.1f}]{ratio}")
        lines.append(f"| {key[0]} | {key[1]} | {' | '.join(cells)} |")

    size = max(args.imgsz)
    profiled = {
        name: nets[key]
        for name, key in (("ours", (faithful, "shipped")), ("before", (faithful, "stock max-pool stem")))
    }
    profiled |= {name: nets[(name, "stock")] for name in stock}
    torch.set_num_threads(args.threads)
    times = {name: layer_times(net, torch.rand(1, 3, size, size), args.rounds + 1) for name, net in profiled.items()}
    lines += ["", f"## Time per top-level layer, eager PyTorch, {size}x{size} (median of {args.rounds} runs, ms)", ""]
    for name, net in profiled.items():
        label = {"ours": f"{faithful} (shipped)", "before": f"{faithful} (stock max-pool stem)"}.get(name, name)
        total = sum(times[name])
        head = times[name][-1]
        cells = ", ".join(
            f"{i} {type(layer).__name__} {t:.1f}" for i, (layer, t) in enumerate(zip(net.model, times[name]))
        )
        lines.append(f"- **{label}**: {total:.1f} ms; head (Detect) {head:.1f} ms = {100 * head / total:.0f}%. {cells}")
    markdown = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [
        {"model": k[0], "variant": k[1], "runtime": k[2], "imgsz": k[3], "threads": args.threads, "metric": "latency"}
        | {"samples": json.dumps([round(t, 4) for t in figure.samples]), "error": figure.error}
        for k, figure in results.items()
    ]
    for name, net in profiled.items():
        model, variant = {"ours": (faithful, "shipped"), "before": (faithful, "stock max-pool stem")}.get(
            name, (name, "stock")
        )
        rows += [
            {"model": model, "variant": variant, "runtime": "PyTorch", "imgsz": size, "threads": args.threads}
            | {"metric": f"layer {i} {type(layer).__name__}", "samples": json.dumps([round(t, 4)]), "error": ""}
            for i, (layer, t) in enumerate(zip(net.model, times[name]))
        ]
    write_csv(args.out / "unit_experiment.csv", rows, list(rows[0]))
    (args.out / "unit_experiment.md").write_text(markdown)
    print(markdown)
    return 0
