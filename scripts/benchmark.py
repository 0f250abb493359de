"""Measure what the ShuffleNet V2 backbones cost next to stock YOLOv8 on this machine's CPU.

For stock YOLOv8 and every plugin detector config at the same scale: size, PyTorch and ONNX Runtime latency, training
throughput and peak memory, each also as a ratio to stock; how ONNX Runtime latency grows with image size and batch;
the shipped merged unit against the paper-literal concat+shuffle unit; and a profile of where the faithful model's
time goes. Models are built from YAML with random weights (latency does not depend on them), so nothing is downloaded.

    python scripts/benchmark.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import logging
import multiprocessing as mp
import os
import platform
import re
import resource
import shlex
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import torch
import ultralytics
from torch.profiler import ProfilerActivity, profile, record_function
from ultralytics import YOLO
from ultralytics.cfg import get_cfg
from ultralytics.nn.tasks import DetectionModel
from ultralytics.utils import LOGGER
from ultralytics.utils.torch_utils import get_flops

import ultralytics_shufflenet
from ultralytics_shufflenet.modules import ShuffleNetV2, channel_shuffle

ORT_SIZES = (320, 480, 640)
FLOPS_IMGSZ = 640
BOXES_PER_IMAGE = 3
PROFILE_WARMUP = 2
BACKBONE_LAYERS = range(4)  # stem and the three ShuffleNet V2 stages
LITERAL = "concat+shuffle"

# Profiler attribution: an aten op called directly by a backbone layer, counted with everything it calls
SPLIT_OPS = {"aten::chunk", "aten::split", "aten::split_with_sizes", "aten::narrow", "aten::slice", "aten::unbind"}
CONCAT_OPS = {"aten::cat", "aten::stack"}
SHUFFLE_OPS = {
    "aten::unflatten",
    "aten::transpose",
    "aten::permute",
    "aten::flatten",
    "aten::view",
    "aten::reshape",
    "aten::_unsafe_view",
    "aten::contiguous",
    "aten::clone",
    "aten::copy_",
}
CATEGORIES = ("split", "concat", "shuffle", "rest")


@dataclass(frozen=True)
class Settings:
    """How much to measure: --quick trades precision and coverage for a run of a few minutes on 2 cores."""

    scales: tuple[str, ...]
    rounds: int  # timed rounds, after one discarded warm-up round
    iters: int  # calls per model per round; the round's figure is their median
    pt_sizes: tuple[int, ...]
    batch_imgsz: int
    batches: tuple[int, ...]
    train_rounds: int
    train_imgsz: int
    train_batch: int
    train_steps: int  # timed optimizer steps, after one untimed step
    profile_imgsz: int
    profile_iters: int


QUICK = Settings(
    scales=("n",),
    rounds=5,
    iters=5,
    pt_sizes=(320,),
    batch_imgsz=320,
    batches=(1, 2),
    train_rounds=3,
    train_imgsz=320,
    train_batch=4,
    train_steps=2,
    profile_imgsz=320,
    profile_iters=5,
)
FULL = Settings(
    scales=("n", "s"),
    rounds=5,
    iters=5,
    pt_sizes=(320, 640),
    batch_imgsz=640,
    batches=(1, 8),
    train_rounds=3,
    train_imgsz=320,
    train_batch=8,
    train_steps=3,
    profile_imgsz=640,
    profile_iters=10,
)


@contextmanager
def concat_then_shuffle() -> Iterator[None]:
    """Run every ShuffleNet V2 unit as the paper draws it (concat, then a separate shuffle), for the 'before' rows.

    Patched on the class, so it reaches models already built, the exporter's deep copy and its ONNX trace alike.
    """

    def literal_forward(self: ShuffleNetV2, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            kept, x = x.chunk(2, dim=1)
            return channel_shuffle(torch.cat((kept, self.branch2(x)), 1), 2)
        return channel_shuffle(torch.cat((self.branch1(x), self.branch2(x)), 1), 2)

    shipped = ShuffleNetV2.forward
    ShuffleNetV2.forward = literal_forward
    try:
        yield
    finally:
        ShuffleNetV2.forward = shipped


def unit_forward(literal: bool) -> AbstractContextManager[None]:
    return concat_then_shuffle() if literal else nullcontext()


@contextmanager
def working_dir(path: Path) -> Iterator[None]:
    """The stock exporter writes a YAML-built model's file into the working directory: keep it out of the repo."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


@dataclass
class Row:
    """One model of the report; a literal row measures the faithful config with the concat+shuffle unit."""

    cfg: str
    scale: str
    literal: bool = False
    yolo: YOLO | None = None
    error: str = ""

    @property
    def name(self) -> str:
        stem = Path(self.cfg).stem
        return f"{stem} ({LITERAL})" if self.literal else stem

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9]+", "-", self.name).strip("-")

    @property
    def is_stock(self) -> bool:
        return self.cfg == f"yolov8{self.scale}.yaml"

    def patched(self) -> AbstractContextManager[None]:
        return unit_forward(self.literal)


def rows_for(scale: str) -> list[Row]:
    """Stock first: every other row of the scale is divided by it."""
    faithful = f"yolov8{scale}-shufflenetv2.yaml"
    return [
        Row(f"yolov8{scale}.yaml", scale),
        Row(faithful, scale),
        Row(faithful, scale, literal=True),
        Row(f"yolov8{scale}-shufflenetv2-star.yaml", scale),
        Row(f"yolov8{scale}-shufflenetv2-lite.yaml", scale),
    ]


@dataclass(frozen=True)
class Metric:
    label: str
    unit: str
    digits: int


def ort_key(imgsz: int, batch: int) -> str:
    return f"ort_{imgsz}_b{batch}"


def ort_shapes(s: Settings) -> list[tuple[int, int]]:
    return sorted({(size, 1) for size in ORT_SIZES} | {(s.batch_imgsz, b) for b in s.batches})


def metric_catalog(s: Settings) -> dict[str, Metric]:
    """Every figure the run produces, keyed as in the results and the CSV."""
    train = f"{s.train_imgsz}px, batch {s.train_batch}"
    return {
        "params": Metric("params (M)", "M", 2),
        "gflops": Metric(f"GFLOPs ({FLOPS_IMGSZ})", "GFLOPs", 1),
        **{f"pt_{size}": Metric(f"PyTorch {size} (ms)", "ms", 1) for size in s.pt_sizes},
        **{ort_key(i, b): Metric(f"ORT {i} b{b} (ms)", "ms", 1) for i, b in ort_shapes(s)},
        "train_ips": Metric(f"train img/s ({train})", "images/s", 1),
        "peak_rss": Metric("train peak RSS (MB)", "MB", 0),
        "train_mem": Metric("train RSS over imports (MB)", "MB", 0),
    }


@dataclass
class Figure:
    samples: list[float] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.samples) and not self.error

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


Results = dict[tuple[str, str], Figure]


def describe(error: BaseException) -> str:
    """One line per failure, so a broken model reads as a table cell, not a traceback."""
    text = f"{type(error).__name__}: {error}".strip().splitlines()[0]
    return text[:300]


def log(message: str) -> None:
    print(f"[benchmark {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fail(results: Results, row: Row, keys: tuple[str, ...], error: BaseException) -> None:
    log(f"{row.name}: {', '.join(keys)} failed: {describe(error)}")
    for key in keys:
        results[(row.name, key)].error = describe(error)


def record_once(results: Results, row: Row, key: str, measure: Callable[[], float]) -> None:
    try:
        results[(row.name, key)].samples.append(measure())
    except Exception as e:
        fail(results, row, (key,), e)


@dataclass
class Task:
    """One figure source for one model; a round calls each task once."""

    row: Row
    keys: tuple[str, ...]
    sample: Callable[[], dict[str, float]]


def run_rounds(tasks: list[Task], rounds: int, warmup_rounds: int, results: Results, what: str) -> None:
    """Interleave models within each round, so slow drift of the machine touches every model alike.

    The first task rotates from round to round, so no model always holds the same place in a round.
    """
    failed: set[int] = set()
    for r in range(warmup_rounds + rounds):
        keep = r >= warmup_rounds
        log(f"{what}: " + (f"round {r - warmup_rounds + 1} of {rounds}" if keep else "warm-up round"))
        start = r % len(tasks) if tasks else 0
        for i in (*range(start, len(tasks)), *range(start)):
            if i in failed:
                continue
            task = tasks[i]
            try:
                values = task.sample()
            except Exception as e:
                failed.add(i)
                fail(results, task.row, task.keys, e)
                continue
            if keep:
                for key, value in values.items():
                    results[(task.row.name, key)].samples.append(value)


def median_ms(call: Callable[[], object], iters: int) -> float:
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def pytorch_task(row: Row, model: DetectionModel, imgsz: int, iters: int) -> Task:
    key = f"pt_{imgsz}"
    image = torch.rand(1, 3, imgsz, imgsz)

    def sample() -> dict[str, float]:
        with torch.no_grad(), row.patched():
            return {key: median_ms(lambda: model(image), iters)}

    return Task(row, (key,), sample)


def ort_task(row: Row, session: Any, imgsz: int, batch: int, iters: int) -> Task:
    key = ort_key(imgsz, batch)
    feed = {session.get_inputs()[0].name: np.random.default_rng(0).random((batch, 3, imgsz, imgsz), np.float32)}
    return Task(row, (key,), lambda: {key: median_ms(lambda: session.run(None, feed), iters)})


def export_onnx(row: Row, imgsz: int, batch: int, folder: Path) -> Path:
    """Stock static export, renamed at once: both unit forwards of a config export under the same file name."""
    with row.patched(), working_dir(folder):
        written = Path(row.yolo.export(format="onnx", imgsz=imgsz, batch=batch, simplify=True)).resolve()
    return written.replace(folder / f"{row.slug}_{imgsz}_b{batch}.onnx")


def ort_session(path: Path, threads: int) -> Any:
    import onnxruntime as ort  # imported here so training subprocesses, which re-import this file, do not load it

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def peak_rss_mb() -> float:
    """This process's own peak RSS.

    On Linux, ``ru_maxrss`` of a spawned child starts at its parent's peak (fork copies the high-water mark and exec
    keeps it), so it would report this large benchmark process; ``VmHWM`` belongs to the child's own address space.
    """
    status = Path("/proc/self/status")
    found = re.search(r"^VmHWM:\s*(\d+) kB", status.read_text(), re.MULTILINE) if status.is_file() else None
    if found:
        return int(found.group(1)) / 2**10
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB elsewhere


def synthetic_batch(batch: int, imgsz: int, nc: int) -> dict[str, torch.Tensor]:
    """A training batch in the layout the stock collate gives the loss: normalised xywh boxes, one row per box."""
    gen = torch.Generator().manual_seed(0)
    n = batch * BOXES_PER_IMAGE
    centres = torch.rand(n, 2, generator=gen) * 0.6 + 0.2
    sizes = torch.rand(n, 2, generator=gen) * 0.25 + 0.05
    return {
        "img": torch.rand(batch, 3, imgsz, imgsz, generator=gen),
        "batch_idx": torch.arange(batch).repeat_interleave(BOXES_PER_IMAGE).float(),
        "cls": torch.randint(0, nc, (n, 1), generator=gen).float(),
        "bboxes": torch.cat((centres, sizes), 1),
    }


def train_worker(cfg: str, literal: bool, imgsz: int, batch: int, steps: int, threads: int, conn: Connection) -> None:
    """Runs in a fresh spawned interpreter, so its peak RSS is this model's training peak and nothing else's."""
    try:
        LOGGER.setLevel(logging.WARNING)
        torch.set_num_threads(threads)
        torch.manual_seed(0)  # both unit forwards of a config then train the same weights on the same batch
        baseline = peak_rss_mb()  # interpreter, torch and ultralytics, before any model exists
        model = DetectionModel(cfg, verbose=False)
        model.args = get_cfg()  # the loss reads its box/cls/dfl gains from here, as in a stock training run
        model.train()
        data = synthetic_batch(batch, imgsz, model.model[-1].nc)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.937, nesterov=True)

        def step() -> None:
            loss, _ = model.loss(data)
            optimizer.zero_grad()
            loss.sum().backward()
            optimizer.step()

        with unit_forward(literal):
            step()  # untimed: the first step builds the criterion and autograd's buffers
            start = time.perf_counter()
            for _ in range(steps):
                step()
            elapsed = time.perf_counter() - start
        peak = peak_rss_mb()
        conn.send({"train_ips": batch * steps / elapsed, "peak_rss": peak, "train_mem": peak - baseline})
    except Exception as e:
        conn.send(describe(e))
    finally:
        conn.close()


def training_task(row: Row, s: Settings, threads: int) -> Task:
    def sample() -> dict[str, float]:
        ctx = mp.get_context("spawn")
        receiver, sender = ctx.Pipe(duplex=False)
        args = (row.cfg, row.literal, s.train_imgsz, s.train_batch, s.train_steps, threads, sender)
        proc = ctx.Process(target=train_worker, args=args)
        proc.start()
        sender.close()  # so recv() sees end-of-file if the child dies without answering
        try:
            answer = receiver.recv()
        except EOFError:
            answer = "training process ended without a result"
        proc.join()
        if isinstance(answer, str):
            raise RuntimeError(f"{answer} (exit code {proc.exitcode})")
        return answer

    return Task(row, ("train_ips", "peak_rss", "train_mem"), sample)


def build_rows(rows: list[Row], results: Results, notes: list[str]) -> None:
    """Build each config once (the literal row shares its faithful model) and take the figures that do not vary."""
    built: dict[str, YOLO | str] = {}
    for row in rows:
        if row.cfg not in built:
            log(f"building {row.cfg}")
            try:
                built[row.cfg] = YOLO(row.cfg)
            except Exception as e:
                built[row.cfg] = describe(e)
        if isinstance(built[row.cfg], str):
            row.error = built[row.cfg]
            log(f"{row.name}: build failed: {row.error}")
            continue
        row.yolo = built[row.cfg]
        size_figures(row, results)
    check_literal_matches(rows, notes)


def size_figures(row: Row, results: Results) -> None:
    """Parameters and GFLOPs of the model as built, before fusing folds the BatchNorms away."""
    model = row.yolo.model
    record_once(results, row, "params", lambda: sum(p.numel() for p in model.parameters()) / 1e6)

    def flops() -> float:
        with row.patched():
            value = get_flops(model, FLOPS_IMGSZ)
        if not value:
            raise RuntimeError("get_flops returned 0 (thop missing or profiling failed)")
        return value

    record_once(results, row, "gflops", flops)


def check_literal_matches(rows: list[Row], notes: list[str]) -> None:
    """The before/after comparison is only fair if both unit forwards compute the same function."""
    for row in rows:
        if not (row.literal and row.yolo):
            continue
        image = torch.rand(1, 3, 128, 128)
        model = row.yolo.model.eval()
        try:
            with torch.no_grad():
                shipped = model(image)[0]
                with concat_then_shuffle():
                    literal = model(image)[0]
        except Exception as e:
            notes.append(f"{row.name}: output check failed: {describe(e)}")
            continue
        same = "identical" if torch.equal(shipped, literal) else f"max |diff| {(shipped - literal).abs().max():.3g}"
        notes.append(f"{row.name}: output against the shipped unit on the same weights: {same}.")


def latency_tasks(rows: list[Row], s: Settings, threads: int, folder: Path, results: Results) -> list[Task]:
    """ONNX Runtime sessions on the stock export of every shape, then the fused PyTorch models.

    Ordered by figure, so the models compared in one column run back to back within a round.
    """
    tasks: list[Task] = []
    for row in rows:
        if not row.yolo:
            continue
        for imgsz, batch in ort_shapes(s):
            key = ort_key(imgsz, batch)
            log(f"{row.name}: ONNX export {imgsz}x{imgsz} batch {batch}")
            try:
                session = ort_session(export_onnx(row, imgsz, batch, folder), threads)
            except Exception as e:
                fail(results, row, (key,), e)
                continue
            tasks.append(ort_task(row, session, imgsz, batch, s.iters))
    torch.set_num_threads(threads)  # the stock exporter's device selection resets it to cores - 1
    for row in rows:
        if not row.yolo:
            continue
        try:
            model = row.yolo.model.fuse(verbose=False).eval()
        except Exception as e:
            fail(results, row, tuple(f"pt_{size}" for size in s.pt_sizes), e)
            continue
        tasks.extend(pytorch_task(row, model, size, s.iters) for size in s.pt_sizes)
    return sorted(tasks, key=lambda task: task.keys)  # stable: stock first within each figure


def where_time_goes(s: Settings) -> list[str]:
    """Profile the faithful n model with both unit forwards, alternating forwards so drift hits both alike."""
    cfg = "yolov8n-shufflenetv2.yaml"
    variants = {"merged (shipped)": False, f"{LITERAL} (before)": True}
    lines = [
        f"## Where the time goes: {Path(cfg).stem}, PyTorch, eval, fused, batch 1, "
        f"{s.profile_imgsz}x{s.profile_imgsz}, torch.profiler, {s.profile_iters} forwards per unit forward",
        "",
    ]
    try:
        model = DetectionModel(cfg, verbose=False).fuse(verbose=False).eval()
        layers, shares = profile_layers(model, variants, s)
    except Exception as e:
        return [*lines, f"Profiling failed: {describe(e)}", ""]
    names = list(variants)
    lines += [f"| layer | module | {' ms | '.join(names)} ms |", "|---|---|" + "---|" * len(names)]
    for i, module in enumerate(model.model):
        cells = " | ".join(f"{layers[v][i]:.2f}" for v in names)
        lines.append(f"| {i} | {type(module).__name__} | {cells} |")
    totals = " | ".join(f"**{sum(layers[v].values()):.2f}**" for v in names)
    lines += [f"| all | | {totals} |", ""]
    lines += [
        "Backbone (layers 0-3), time per forward and share of backbone time:",
        "",
        "| unit forward | backbone ms | split | concat | shuffle | rest (convs, pooling, activations) |",
        "|---|---|---|---|---|---|",
    ]
    for v in names:
        total = sum(shares[v].values())
        cells = " | ".join(f"{shares[v][c]:.2f} ms ({100 * shares[v][c] / total:.1f}%)" for c in CATEGORIES)
        lines.append(f"| {v} | {total:.2f} | {cells} |")
    lines += [
        "",
        "How time was attributed: forward hooks open a `record_function` range around each top-level layer "
        "(`model.model[i]`); a layer's time is its range's CPU time. Every aten op called directly inside a backbone "
        "layer's range counts with its inclusive time (the ops it calls included) as split (`chunk`/`split`/"
        "`narrow`/`slice`), concat (`cat`/`stack`), shuffle (`unflatten`/`transpose`/`flatten`/`view`/`reshape`/"
        "`clone`/`copy_`) or rest. In the merged unit one `stack` copy does concat and shuffle at once and the "
        "`flatten` after it is a free view; in the concat+shuffle unit `cat` copies once and `flatten` of the "
        "transposed view copies again. Per-op profiler overhead inflates cheap ops; the latency tables are measured "
        "without the profiler.",
        "",
    ]
    return lines


def profile_layers(
    model: DetectionModel, variants: dict[str, bool], s: Settings
) -> tuple[dict[str, dict[int, float]], dict[str, dict[str, float]]]:
    """Milliseconds per forward for each top-level layer, and for each backbone op category, per unit forward."""
    image = torch.rand(1, 3, s.profile_imgsz, s.profile_imgsz)
    open_ranges: list[record_function] = []

    def enter(index: int) -> Callable[..., None]:
        def hook(module: torch.nn.Module, args: Any) -> None:
            open_ranges.append(record_function(f"layer {index}"))
            open_ranges[-1].__enter__()

        return hook

    def leave(module: torch.nn.Module, args: Any, output: Any) -> None:
        open_ranges.pop().__exit__(None, None, None)

    handles = []
    for i, module in enumerate(model.model):
        handles += [module.register_forward_pre_hook(enter(i)), module.register_forward_hook(leave)]
    try:
        with torch.no_grad():
            for literal in variants.values():
                with unit_forward(literal):
                    for _ in range(PROFILE_WARMUP):
                        model(image)
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(s.profile_iters):
                    for name, literal in variants.items():
                        with unit_forward(literal), record_function(f"variant {name}"):
                            model(image)
    finally:
        for handle in handles:
            handle.remove()

    layers: dict[str, dict[int, float]] = {v: defaultdict(float) for v in variants}
    shares: dict[str, dict[str, float]] = {v: dict.fromkeys(CATEGORIES, 0.0) for v in variants}
    per_forward_ms = 1e-3 / s.profile_iters  # profiler times are microseconds summed over all forwards
    for event in prof.events():
        if event.name.startswith("layer "):
            layers[variant_of(event)][int(event.name.split()[1])] += event.cpu_time_total * per_forward_ms
            continue
        parent = event.cpu_parent
        if parent is None or not parent.name.startswith("layer ") or int(parent.name.split()[1]) not in BACKBONE_LAYERS:
            continue
        shares[variant_of(parent)][category(event.name)] += event.cpu_time_total * per_forward_ms
    return layers, shares


def variant_of(event: Any) -> str:
    while event is not None and not event.name.startswith("variant "):
        event = event.cpu_parent
    if event is None:
        raise RuntimeError("profiler event outside any variant range")
    return event.name.removeprefix("variant ")


def category(op: str) -> str:
    if op in SPLIT_OPS:
        return "split"
    if op in CONCAT_OPS:
        return "concat"
    return "shuffle" if op in SHUFFLE_OPS else "rest"


def spread(figure: Figure, digits: int) -> str:
    if len(figure.samples) == 1:
        return f"{figure.median:,.{digits}f}"
    return f"{figure.median:,.{digits}f} [{min(figure.samples):,.{digits}f}-{max(figure.samples):,.{digits}f}]"


def ratio(results: Results, row: Row, stock: Row | None, key: str) -> float | None:
    mine = results.get((row.name, key))
    base = results.get((stock.name, key)) if stock else None
    if not (mine and base and mine.ok and base.ok and base.median):
        return None
    return mine.median / base.median


def cell(results: Results, row: Row, stock: Row | None, key: str, metric: Metric) -> str:
    figure = results.get((row.name, key))
    if row.error or not figure or not figure.ok:
        return "failed"
    r = ratio(results, row, stock, key)
    return spread(figure, metric.digits) + (f" ({r:.2f}x)" if r is not None else "")


def stock_of(rows: list[Row], row: Row) -> Row | None:
    return next((r for r in rows if r.is_stock and r.scale == row.scale), None)


def table(rows: list[Row], results: Results, catalog: dict[str, Metric], keys: list[str]) -> list[str]:
    lines = [f"| model | {' | '.join(catalog[k].label for k in keys)} |", "|---" * (len(keys) + 1) + "|"]
    for row in rows:
        name = f"{row.name} (FAILED: {row.error})".replace("|", "\\|") if row.error else row.name
        cells = " | ".join(cell(results, row, stock_of(rows, row), k, catalog[k]) for k in keys)
        lines.append(f"| {name} | {cells} |")
    return lines + [""]


def medians(results: Results, row: Row, *keys: str) -> list[float] | None:
    figures = [results.get((row.name, k)) for k in keys]
    return [f.median for f in figures] if all(f and f.ok for f in figures) else None


def growth_tables(rows: list[Row], results: Results, catalog: dict[str, Metric], s: Settings) -> list[str]:
    """Cost against image size and batch: a backbone can win at one shape and lose at another."""
    sizes = [ort_key(size, 1) for size in ORT_SIZES]
    lines = [
        "## Cost against image size (ONNX Runtime, batch 1)",
        "",
        f"| model | {' | '.join(catalog[k].label for k in sizes)} | {ORT_SIZES[-1]} / {ORT_SIZES[0]} |",
        "|---" * (len(sizes) + 2) + "|",
    ]
    for row in rows:
        ends = medians(results, row, sizes[-1], sizes[0])
        growth = f"{ends[0] / ends[1]:.2f}x" if ends else "failed"
        cells = " | ".join(cell(results, row, stock_of(rows, row), k, catalog[k]) for k in sizes)
        lines.append(f"| {row.name} | {cells} | {growth} |")
    first, last = s.batches[0], s.batches[-1]
    batch_keys = [ort_key(s.batch_imgsz, first), ort_key(s.batch_imgsz, last)]
    lines += [
        "",
        f"## Cost against batch (ONNX Runtime, {s.batch_imgsz}x{s.batch_imgsz})",
        "",
        f"| model | batch {first} (ms) | batch {last} (ms) | ms per image at batch {last} | "
        f"per-image cost at {last} / at {first} |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        pair = medians(results, row, *batch_keys)
        per_image = f"{pair[1] / last:.1f} | {pair[1] / last / (pair[0] / first):.2f}x" if pair else "failed | failed"
        cells = " | ".join(cell(results, row, stock_of(rows, row), k, catalog[k]) for k in batch_keys)
        lines.append(f"| {row.name} | {cells} | {per_image} |")
    return lines + [""]


def before_after(rows: list[Row], results: Results, catalog: dict[str, Metric]) -> list[str]:
    """The merged unit is the only difference between these two rows, so their ratio is that change's effect."""
    lines = [
        f"## Merged unit against {LITERAL} (same config, same weights)",
        "",
        f"| scale | figure | {LITERAL} (before) | merged (after) | after / before |",
        "|---|---|---|---|---|",
    ]
    keys = [k for k, m in catalog.items() if m.unit in ("ms", "images/s")]
    for before in (r for r in rows if r.literal):
        after = next(r for r in rows if r.cfg == before.cfg and not r.literal)
        for key in keys:
            pair = medians(results, before, key)
            mine = medians(results, after, key)
            change = f"{mine[0] / pair[0]:.2f}x" if pair and mine else "failed"
            digits = catalog[key].digits
            b = spread(results[(before.name, key)], digits) if pair else "failed"
            a = spread(results[(after.name, key)], digits) if mine else "failed"
            lines.append(f"| {before.scale} | {catalog[key].label} | {b} | {a} | {change} |")
    return lines + [""]


def machine_lines(s: Settings, quick: bool, threads: int) -> list[str]:
    import onnxruntime as ort  # see ort_session

    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = names[0].strip() if names else cpu
    command = shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    return [
        f"# ultralytics-shufflenet benchmark ({'quick' if quick else 'full'})",
        "",
        f"- Command: `{command}`",
        f"- Machine: {threads} CPU cores available ({cpu}), {platform.system()} {platform.machine()}",
        f"- Versions: Python {platform.python_version()}, torch {torch.__version__}, onnxruntime {ort.__version__}, "
        f"ultralytics {ultralytics.__version__}, ultralytics-shufflenet {ultralytics_shufflenet.__version__}",
        f"- Threads: PyTorch {torch.get_num_threads()}, ONNX Runtime intra-op {threads} (CPUExecutionProvider)",
        f"- Method: one discarded warm-up round, then {s.rounds} rounds; each round times every model once, "
        f"interleaved (median of {s.iters} calls). Training: {s.train_rounds} rounds, each a fresh subprocess per "
        f"model doing 1 untimed + {s.train_steps} timed SGD steps on a synthetic batch ({s.train_batch} images "
        f"of {s.train_imgsz}px, {BOXES_PER_IMAGE} random boxes each) through the stock `model.loss`.",
        "- Cells: median [min-max across rounds] (ratio of medians to stock YOLOv8 at the same scale: below 1 is "
        "smaller or faster, except train img/s, where above 1 is faster). ONNX: the "
        "stock static export (`export(format='onnx', simplify=True)`) of each shape. Peak RSS: the training "
        "subprocess's own high-water mark (`VmHWM`; `ru_maxrss` where /proc is missing), interpreter with torch and "
        "ultralytics included; 'over imports' subtracts the peak reached before the model was built.",
        "",
    ]


def write_csv(path: Path, rows: list[Row], results: Results, catalog: dict[str, Metric]) -> None:
    """One line per model and figure, failures included, so a spreadsheet can pivot it any way."""
    header = ["model", "config", "scale", "unit_forward", "metric", "label", "unit", "median", "min", "max", "rounds"]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*header, "ratio_vs_stock", "error"])
        for row in rows:
            stock = stock_of(rows, row)
            for key, metric in catalog.items():
                figure = results.get((row.name, key), Figure())
                ok = figure.ok and not row.error
                stats = [f"{v:.6g}" for v in (figure.median, min(figure.samples), max(figure.samples))] if ok else []
                r = ratio(results, row, stock, key) if ok else None
                writer.writerow(
                    [row.name, row.cfg, row.scale, LITERAL if row.literal else "merged", key, metric.label]
                    + [metric.unit, *(stats or ["", "", ""]), len(figure.samples)]
                    + ["" if r is None else f"{r:.4f}", row.error or figure.error or ("" if ok else "not measured")]
                )


def write_plot(path: Path, rows: list[Row], results: Results, threads: int) -> None:
    import matplotlib  # imported here so training subprocesses, which re-import this file, do not load it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key = ort_key(ORT_SIZES[-1], 1)
    fig, ax = plt.subplots(figsize=(9, 5.5))
    placed: list[float] = []
    for row in rows:
        params, latency = results.get((row.name, "params")), results.get((row.name, key))
        if row.error or not (params and params.ok and latency and latency.ok):
            continue
        x, y = params.median, latency.median
        yerr = [[y - min(latency.samples)], [max(latency.samples) - y]]
        marker = "s" if row.is_stock else ("x" if row.literal else "o")
        ax.errorbar(x, y, yerr=yerr, fmt=marker, capsize=3)
        neighbours = sum(abs(x - other) < 0.03 * max(x, other) for other in placed)  # variants share a size
        ax.annotate(row.name, (x, y), textcoords="offset points", xytext=(8, 4 - 12 * neighbours), fontsize=8)
        placed.append(x)
    ax.set_xlabel("parameters (M)")
    ax.set_ylabel(f"ONNX Runtime latency, {ORT_SIZES[-1]}x{ORT_SIZES[-1]} batch 1 (ms)")
    ax.set_title(f"CPU latency against size ({threads} cores; bars: min-max across rounds)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def failure_lines(rows: list[Row], results: Results) -> list[str]:
    lines = [f"- {row.name}: build: {row.error}" for row in rows if row.error]
    lines += [f"- {name}: {key}: {figure.error}" for (name, key), figure in results.items() if figure.error]
    return ["## Failures", "", *(line.replace("|", "\\|") for line in lines), ""] if lines else []


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: measure, then write Markdown, CSV and plot; a failing model becomes a failed row."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="n scale, fewer shapes, rounds and steps (minutes)")
    parser.add_argument("--out", default="runs/benchmark", help="output folder (default: runs/benchmark)")
    args = parser.parse_args(argv)
    s = QUICK if args.quick else FULL
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    LOGGER.setLevel(logging.WARNING)  # keep stdout for the report; progress goes to stderr

    started = time.perf_counter()
    rows = [row for scale in s.scales for row in rows_for(scale)]
    catalog = metric_catalog(s)
    results: Results = defaultdict(Figure)
    notes: list[str] = []
    build_rows(rows, results, notes)
    with tempfile.TemporaryDirectory(prefix="benchmark-onnx-") as folder:
        tasks = latency_tasks(rows, s, threads, Path(folder), results)
        run_rounds(tasks, s.rounds, 1, results, "inference latency")
    training = [training_task(row, s, threads) for row in rows if row.yolo]
    run_rounds(training, s.train_rounds, 0, results, "training")
    log("profiling")
    profile_section = where_time_goes(s)

    main_keys = ["params", "gflops", *(f"pt_{size}" for size in s.pt_sizes), ort_key(ORT_SIZES[-1], 1)]
    main_keys += ["train_ips", "peak_rss", "train_mem"]
    lines = machine_lines(s, args.quick, threads)
    lines += ["## Models", "", *table(rows, results, catalog, main_keys)]
    lines += [f"- {note}" for note in notes] + ([""] if notes else [])
    lines += growth_tables(rows, results, catalog, s)
    lines += before_after(rows, results, catalog)
    lines += profile_section
    lines += failure_lines(rows, results)
    lines.append(f"Wall time: {time.perf_counter() - started:.0f} s.")
    markdown = "\n".join(lines) + "\n"
    (out / "benchmark.md").write_text(markdown)
    write_csv(out / "benchmark.csv", rows, results, catalog)
    try:
        write_plot(out / "benchmark.png", rows, results, threads)
    except Exception as e:
        log(f"plot failed: {describe(e)}")
    print(markdown)
    log(f"wrote {out / 'benchmark.md'}, {out / 'benchmark.csv'} and {out / 'benchmark.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
