"""Where a detector's time goes in each runtime: every part of the model exported and timed on its own.

A model is cut into parts along its YAML rows: each backbone row on its own (stem, stages; SPPF, C2PSA), the neck
(the head rows before the last) and the detection head. Each part is exported by itself, fed the tensors the full
model would give it (for NCNN through pnnx, for ONNX Runtime through ``torch.onnx`` and onnxslim, as the stock
exporter does), and all parts of all models are timed in one interleaved run, so the shares compare like with like.
The sum of the parts is printed next to the whole model's stock export, which it should come close to.

Each ShuffleNet model is measured in every form asked for: as the stock exporter would trace it without this package's
export form (``paper``: fused, the paper's widths), in the export form that ``model.export()`` now traces (``export``:
branch widths padded to multiples of 8, see ``ultralytics_shufflenet/export.py``), or padded to another multiple
(``pad4``, ``pad16``: the alternatives the export form was chosen against), or with only the export form's box
decoding by reductions (``reductions``: the paper's widths; asked for, stock models are measured with it too, which
shows what that rule alone would give them).

    python -m bench parts --models yolo11n.yaml yolo11n-shufflenetv2-wide.yaml --threads 1 2

Writes parts.csv (raw samples), parts.md and parts.png to --out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from . import yolo_env
from .render import write_csv

RUNTIMES = ("onnxruntime", "ncnn")
FORMS = {"paper": None, "export": 8, "pad4": 4, "pad16": 16, "reductions": None}  # form -> padded to a multiple of
DECODED_BY_REDUCTIONS = ("export", "reductions")  # in the formats of export.EXPECTATION_FORMATS
FORMATS = {"onnxruntime": "onnx", "ncnn": "ncnn"}
WHOLE = "whole model (its model.export())"


def cut(model) -> list[tuple[str, list[int]]]:  # model: a DetectionModel
    """(part name, layer indices) along the YAML rows: backbone rows one by one, then the neck, then the head."""
    layers = list(model.model)
    backbone = len(model.yaml["backbone"])
    parts = [(f"{i} {type(layers[i]).__name__}", [i]) for i in range(backbone)]
    parts.append(("neck", list(range(backbone, len(layers) - 1))))
    parts.append((f"head ({type(layers[-1]).__name__})", [len(layers) - 1]))
    return [(name, indices) for name, indices in parts if indices]


def sources(m) -> list[int]:  # m: a built layer
    """The layer indices a layer reads (-1, the previous layer, resolved)."""
    return [m.i - 1 if j == -1 else j for j in ([m.f] if isinstance(m.f, int) else m.f)]


def part_module(model, indices: list[int]):  # -> (torch module, input layer indices)
    """Consecutive layers as a module of their own: its inputs are the earlier outputs they read, its outputs the
    ones later layers (or the model's caller) read."""
    import torch

    layers = list(model.model)
    first, last = indices[0], indices[-1]
    inputs = sorted({j for i in indices for j in sources(layers[i]) if j < first})
    later = {j for m in layers[last + 1 :] for j in sources(m)}
    outputs = [i for i in indices if i in later or i == len(layers) - 1]

    class Part(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = torch.nn.ModuleList(layers[first : last + 1])

        def forward(self, *xs):
            y = dict(zip(inputs, xs))
            for m in self.layers:
                y[m.i] = m(y[sources(m)[0]] if isinstance(m.f, int) else [y[j] for j in sources(m)])
            result = tuple(y[i] for i in outputs)
            return result if len(result) > 1 else result[0]

    return Part().eval(), inputs


def feature_maps(model, imgsz: int) -> dict[int, object]:
    """Every layer's output for one random image, the inputs each part is exported and timed with."""
    import torch

    y: dict[int, torch.Tensor] = {-1: torch.rand(1, 3, imgsz, imgsz)}
    with torch.no_grad():
        for m in model.model:
            y[m.i] = m(y[sources(m)[0]] if isinstance(m.f, int) else [y[j] for j in sources(m)])
    return y


def prepared(config: str, form: str, runtime: str):  # -> a fused DetectionModel as its export would trace it
    """The model as an export of it in ``form`` would trace it (``stock`` for models without ShuffleNet units)."""
    import torch
    from ultralytics import YOLO

    from ultralytics_shufflenet import compat, export

    torch.manual_seed(0)
    model = compat.fused_copy(YOLO(config).model)
    if FORMS.get(form):
        export.pad_branch_widths(model, FORMS[form])
    if form in DECODED_BY_REDUCTIONS and FORMATS[runtime] in export.EXPECTATION_FORMATS:
        export.decode_by_reductions(model)
    head = model.model[-1]
    head.export, head.format, head.dynamic = True, FORMATS[runtime], False
    return model


def export_part(module, inputs: tuple, runtime: str, folder: Path) -> Path:
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    if runtime == "onnxruntime":
        import onnx
        import onnxslim

        path = folder / "part.onnx"
        torch.onnx.export(module, inputs, str(path), opset_version=17, dynamo=False)
        onnx.save(onnxslim.slim(onnx.load(str(path))), str(path))
        return path
    import pnnx

    names = ("param", "bin", "py")
    pnnx.export(
        module,
        str(folder / "part.pt"),
        inputs=inputs,
        **{f"ncnn{n}": str(folder / f"part.ncnn.{n}") for n in names},
        **{f"pnnx{n}": str(folder / f"part.pnnx.{n}") for n in names},
        pnnxonnx=str(folder / "part.pnnx.onnx"),
        fp16=False,
    )
    return folder / "part.ncnn.param"


def runner(path: Path, runtime: str, threads: int, inputs: list):
    import numpy as np

    arrays = [x.numpy() for x in inputs]
    if runtime == "onnxruntime":
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        feed = {i.name: a for i, a in zip(session.get_inputs(), arrays)}
        return lambda: session.run(None, feed)
    import ncnn

    net = ncnn.Net()
    net.opt.num_threads, net.opt.use_vulkan_compute = threads, False
    net.load_param(str(path))
    net.load_model(str(path.with_suffix(".bin")))
    mats = [ncnn.Mat(np.ascontiguousarray(a[0])) for a in arrays]
    names, outputs = net.input_names(), net.output_names()

    def run() -> None:
        with net.create_extractor() as extractor:
            for name, mat in zip(names, mats):
                extractor.input(name, mat)
            for name in outputs:
                extractor.extract(name)

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["yolo11n.yaml", "yolo11n-shufflenetv2-wide.yaml"])
    parser.add_argument("--runtimes", nargs="+", default=list(RUNTIMES), choices=RUNTIMES)
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--forms", nargs="+", default=["paper", "export"], choices=list(FORMS))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("runs/profile-parts"))
    args = parser.parse_args(argv)
    out = args.out.resolve()
    yolo_env.isolate()
    import logging

    from ultralytics.utils import LOGGER

    import ultralytics_shufflenet  # noqa: F401 - registers the plugin layers

    from . import measure as m

    LOGGER.setLevel(logging.WARNING)
    results: dict[tuple, m.Figure] = defaultdict(m.Figure)
    tasks, rows, order = [], [], []  # order: every figure's key, in model and layer order
    for config in args.models:
        forms = args.forms if "shufflenet" in config else ("stock", *(f for f in args.forms if f == "reductions"))
        for form in forms:
            for runtime in args.runtimes:
                model = prepared(config, form, runtime)
                maps = feature_maps(model, args.imgsz)
                for name, indices in cut(model):
                    module, needed = part_module(model, indices)
                    inputs = tuple(maps[j] for j in needed)
                    folder = out / "exports" / m.slug(f"{config}-{form}-{runtime}-{args.imgsz}-{name}")
                    try:
                        path = export_part(module, inputs, runtime, folder)
                    except Exception as e:
                        for threads in args.threads:
                            order.append((config, form, runtime, threads, name))
                            results[order[-1]].error = m.describe(e)
                        continue
                    for threads in args.threads:
                        key = (config, form, runtime, threads, name)
                        order.append(key)
                        call = runner(path, runtime, threads, list(inputs))
                        tasks.append(m.Task(key, lambda call=call: m.median_ms(call, args.iters)))
                if form in ("stock", "export"):  # what model.export() gives, timed whole beside its parts
                    for threads in args.threads:
                        predict = m.predictor(config, runtime, args.imgsz, threads, out / "exports")
                        key = (config, form, runtime, threads, WHOLE)
                        order.append(key)
                        tasks.append(m.latency_task(key, predict, args.imgsz, args.iters))
    started = time.perf_counter()
    m.run_rounds(tasks, args.rounds, results, "parts")
    for key in sorted(results, key=order.index):
        config, form, runtime, threads, name = key
        figure = results[key]
        rows.append(
            {
                "model": config,
                "form": form,
                "runtime": runtime,
                "threads": threads,
                "part": name,
                "samples": json.dumps([round(s, 4) for s in figure.samples]),
                "error": figure.error,
            }
        )
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "parts.csv", rows, list(rows[0]))
    text = report(rows, args, time.perf_counter() - started)
    (out / "parts.md").write_text(text)
    plot(rows, out / "parts.png")
    print(text)
    return 0


def medians(rows: list[dict]) -> dict[tuple, float | None]:
    return {
        (r["model"], r["form"], r["runtime"], int(r["threads"]), r["part"]): (
            statistics.median(json.loads(r["samples"])) if json.loads(r["samples"]) and not r["error"] else None
        )
        for r in rows
    }


def report(rows: list[dict], args: argparse.Namespace, seconds: float) -> str:
    times = medians(rows)
    lines = [
        f"# Time per part, batch 1, {args.imgsz}px (median over {args.rounds} interleaved rounds of the median of "
        f"{args.iters} calls, ms; share of the sum of parts)",
        "",
        f"Measured in {seconds / 60:.1f} min.",
        "",
    ]
    for runtime in args.runtimes:
        for threads in args.threads:
            columns = list(dict.fromkeys((r["model"], r["form"]) for r in rows if r["runtime"] == runtime))
            parts = list(dict.fromkeys(r["part"] for r in rows if r["runtime"] == runtime))
            lines += [f"## {runtime}, {threads} thread(s)", ""]
            lines.append("| part | " + " | ".join(f"{Path(c).stem} ({f})" for c, f in columns) + " |")
            lines.append("|---" * (len(columns) + 1) + "|")
            parts = [p for p in parts if p != WHOLE]
            totals = {
                c: sum(v for p in parts if (v := times.get((*c, runtime, threads, p))) is not None) for c in columns
            }
            for part in parts:
                cells = []
                for c in columns:
                    value = times.get((*c, runtime, threads, part))
                    cells.append("" if value is None else f"{value:.2f} ({100 * value / totals[c]:.0f}%)")
                if any(cells):
                    lines.append(f"| {part} | " + " | ".join(cells) + " |")
            lines.append("| **sum of parts** | " + " | ".join(f"**{totals[c]:.2f}**" for c in columns) + " |")
            whole = [times.get((*c, runtime, threads, WHOLE)) for c in columns]
            lines.append(f"| {WHOLE} | " + " | ".join("" if w is None else f"{w:.2f}" for w in whole) + " |")
            lines.append("")
    failures = [f"- {r['model']} {r['form']} {r['runtime']} {r['part']}: {r['error']}" for r in rows if r["error"]]
    return "\n".join(lines + (["## Failures", "", *failures, ""] if failures else []))


def plot(rows: list[dict], path: Path) -> None:
    """One stacked bar per model and form, per runtime and thread count: the parts' medians."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import render

    times = medians(rows)
    panels = list(dict.fromkeys((r["runtime"], int(r["threads"])) for r in rows))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 5), squeeze=False)
    for ax, (runtime, threads) in zip(axes[0], panels):
        columns = list(dict.fromkeys((r["model"], r["form"]) for r in rows if r["runtime"] == runtime))
        for x, c in enumerate(columns):
            bottom = 0.0
            for r in rows:
                if r["part"] == WHOLE:
                    continue
                value = times.get((*c, runtime, threads, r["part"]))
                if (r["model"], r["form"], r["runtime"], int(r["threads"])) != (*c, runtime, threads) or not value:
                    continue
                ax.bar(x, value, bottom=bottom, color="tab:gray" if "head" in r["part"] else None, edgecolor="white")
                if value > 0.04 * sum(v or 0 for k, v in times.items() if k[:4] == (*c, runtime, threads)):
                    ax.text(x, bottom + value / 2, r["part"].split(" (")[0], ha="center", va="center", fontsize=6)
                bottom += value
        ax.set_xticks(range(len(columns)), [f"{Path(c).stem}\n({f})" for c, f in columns], fontsize=7)
        ax.set(ylabel="ms", title=f"{runtime}, {threads} thread(s)")
    fig.suptitle("Where the time goes: each part exported and timed on its own")
    render.save_figure(fig, path)
