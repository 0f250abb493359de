"""The measuring harness: one runner per runtime, interleaved rounds, training throughput in a fresh process.

A runner turns a model (a YAML name or a checkpoint) into a callable that runs one batch-1 inference in that
runtime's own API, with a given number of threads, on the stock export of the model (``model.export(format=...)``).
Ultralytics' pre- and post-processing are left out, so the figures compare networks, not pipelines. Nothing here
prints tables: callers store raw samples (see benchmark.py) and render.py turns them into tables and plots.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import python_module

BOXES_PER_IMAGE = 3  # synthetic training targets per image


@dataclass
class Figure:
    """Samples of one figure (one per round) or the error that stopped it."""

    samples: list[float] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.samples) and not self.error

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def describe(error: BaseException) -> str:
    """One line per failure, so a broken model reads as a table cell, not a traceback."""
    text = f"{type(error).__name__}: {error}".strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]


def log(message: str) -> None:
    print(f"[measure {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def median_ms(call: Callable[[], object], iters: int) -> float:
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


@dataclass
class Task:
    """One figure source: a round calls ``sample`` once and records what it returns under ``key``."""

    key: tuple
    sample: Callable[[], float]


def run_rounds(
    tasks: list[Task], rounds: int, results: dict[tuple, Figure], what: str, warmup: int = 1, settle: float = 0.05
) -> None:
    """Interleave tasks within each round, so slow drift of the machine touches every model alike.

    The first task rotates from round to round, so no task always holds the same place in a round. A task that
    fails once is dropped, and its figure keeps the error. Between tasks the process sleeps ``settle`` seconds:
    runtimes keep their worker threads spinning for a while after a call (ONNX Runtime, OpenMP), and those threads
    would otherwise take cores from the next model's.
    """
    failed: set[int] = set()
    for r in range(warmup + rounds):
        log(f"{what}: " + (f"round {r - warmup + 1} of {rounds}" if r >= warmup else "warm-up round"))
        start = r % len(tasks) if tasks else 0
        for i in (*range(start, len(tasks)), *range(start)):
            if i in failed:
                continue
            time.sleep(settle)
            try:
                value = tasks[i].sample()
            except Exception as e:
                failed.add(i)
                results[tasks[i].key].error = describe(e)
                log(f"{tasks[i].key}: failed: {describe(e)}")
                continue
            if r >= warmup:
                results[tasks[i].key].samples.append(value)


@contextmanager
def working_dir(path: Path) -> Iterator[None]:
    """The stock exporter writes a YAML-built model's files into the working directory: keep them in ``path``."""
    previous = os.getcwd()
    path.mkdir(parents=True, exist_ok=True)
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


# --- Runtimes -------------------------------------------------------------------------------------------------------
Predict = Callable[[np.ndarray], Any]


@dataclass(frozen=True)
class Runtime:
    """How to export a model for one runtime and run the export there.

    ``load(path, threads)`` returns a callable taking a (1, 3, H, W) float32 array in 0..1.
    """

    name: str
    export_format: str | None  # None: the PyTorch model itself
    load: Callable[[Path, int], Predict]
    export_args: tuple[tuple[str, Any], ...] = ()


def _onnxruntime(path: Path, threads: int) -> Predict:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})


def _openvino(path: Path, threads: int) -> Predict:
    import openvino

    xml = next(Path(path).glob("*.xml"))
    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1}
    compiled = openvino.Core().compile_model(str(xml), "CPU", config)
    request = compiled.create_infer_request()
    return lambda x: request.infer({0: x})


def _ncnn(path: Path, threads: int) -> Predict:
    import ncnn

    net = ncnn.Net()
    net.opt.num_threads, net.opt.use_vulkan_compute = threads, False
    param = next(Path(path).glob("*.param"))
    net.load_param(str(param))
    net.load_model(str(param.with_suffix(".bin")))
    name, outputs = net.input_names()[0], sorted(net.output_names())

    def predict(x: np.ndarray) -> Any:
        with net.create_extractor() as extractor:
            extractor.input(name, ncnn.Mat(x[0]))
            return [np.array(extractor.extract(o)[1]) for o in outputs]

    return predict


def _mnn(path: Path, threads: int) -> Predict:
    import MNN

    runtime = MNN.nn.create_runtime_manager(({"precision": "normal", "backend": "CPU", "numThread": threads},))
    net = MNN.nn.load_module_from_file(str(path), [], [], runtime_manager=runtime, rearrange=True)

    def predict(x: np.ndarray) -> Any:
        outputs = net.onForward([MNN.expr.const(x, list(x.shape), MNN.expr.NCHW)])
        return [o.read() for o in outputs]

    return predict


def _litert(path: Path, threads: int) -> Predict:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(str(path), num_threads=threads)
    interpreter.allocate_tensors()
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()

    def predict(x: np.ndarray) -> Any:
        interpreter.set_tensor(inputs[0]["index"], x)  # Ultralytics' LiteRT exports keep float, NCHW input
        interpreter.invoke()
        return [interpreter.get_tensor(o["index"]) for o in outputs]

    return predict


# The Python module each runtime needs, to tell which are installed on this machine
RUNTIME_MODULES = {
    "onnxruntime": "onnxruntime",
    "openvino": "openvino",
    "ncnn": "ncnn",
    "mnn": "MNN",
    "tflite": "ai_edge_litert",
}


def installed_runtimes() -> list[str]:
    """The FP32 runtimes whose Python package this environment has (an ARM board may have only one or two)."""
    import importlib.util

    return [name for name, module in RUNTIME_MODULES.items() if importlib.util.find_spec(module) is not None]


# Each INT8 export calibrates on the model's training images (``split=train``), 30% of them at most.
INT8 = (("int8", True), ("split", "train"), ("fraction", 0.3))
RUNTIMES: dict[str, Runtime] = {
    r.name: r
    for r in (
        Runtime("onnxruntime", "onnx", _onnxruntime, (("simplify", True),)),
        Runtime("openvino", "openvino", _openvino),
        Runtime("openvino-int8", "openvino", _openvino, INT8),
        Runtime("ncnn", "ncnn", _ncnn),
        Runtime("mnn", "mnn", _mnn),
        Runtime("mnn-int8", "mnn", _mnn, (("int8", True),)),  # weights only: MNN quantizes no activations here
        Runtime("tflite", "tflite", _litert),
        Runtime("tflite-int8", "tflite", _litert, INT8),
    )
}


def export_folder(model: str, runtime: Runtime, imgsz: int, folder: Path, classes: int | None = None) -> Path:
    """Where the export of ``model`` is kept: one folder per config name (and class count), or per weights file
    (trained weights are all called last.pt or best.pt, so a file is told apart by its full path)."""
    name = slug(Path(model).name) + (f"-{classes}cls" if classes else "")
    if Path(model).is_file():
        name += "-" + hashlib.sha1(str(Path(model).resolve()).encode()).hexdigest()[:10]
    return folder / f"{name}-{runtime.name}-{imgsz}"


def built(model: str, classes: int | None = None) -> Any:  # -> ultralytics.YOLO
    """``YOLO(model)``, its network rebuilt for ``classes`` classes when a config is named with another count: the
    head's width follows the class count (YOLO26's class branch is max(P3 width, min(classes, 100)) wide)."""
    from ultralytics import YOLO

    yolo = YOLO(model)
    net = yolo.model
    if classes and Path(model).suffix in (".yaml", ".yml") and net.yaml["nc"] != classes:
        other = type(net)(dict(net.yaml), nc=classes, verbose=False)
        other.args, other.task = net.args, net.task
        yolo.model = other
    return yolo


def exported(
    model: str, runtime: Runtime, imgsz: int, folder: Path, data: str | None = None, classes: int | None = None
) -> Path:
    """The stock export of ``model`` for ``runtime`` at ``imgsz``, batch 1; made once and kept in ``folder``."""
    args = dict(runtime.export_args)
    target = export_folder(model, runtime, imgsz, folder, classes)
    marker = target / "exported.json"
    if marker.is_file():
        return Path(json.loads(marker.read_text())["path"])
    if "split" in args:  # calibrated: the model's own training images when known
        args["data"] = data or "coco8.yaml"
    if Path(model).is_file():  # a relative path would not resolve from the export's working directory
        model = str(Path(model).resolve())
    with working_dir(target):
        path = Path(built(model, classes).export(format=runtime.export_format, imgsz=imgsz, batch=1, **args)).resolve()
    marker.write_text(json.dumps({"path": str(path)}))
    return path


def pytorch_predictor(model: str, threads: int, classes: int | None = None) -> Predict:
    """The fused eval model, called under no_grad with ``threads`` intra-op threads (torch's setting is global)."""
    import torch

    net = built(model, classes).model.fuse(verbose=False).float().eval()

    def predict(x: np.ndarray) -> Any:
        torch.set_num_threads(threads)
        with torch.no_grad():
            return net(torch.from_numpy(x))

    return predict


def predictor(
    model: str,
    runtime: str,
    imgsz: int,
    threads: int,
    folder: Path,
    data: str | None = None,
    classes: int | None = None,
) -> Predict:
    if runtime == "pytorch":
        return pytorch_predictor(model, threads, classes)
    spec = RUNTIMES[runtime]
    return spec.load(exported(model, spec, imgsz, folder, data, classes), threads)


def first_output(outputs: Any) -> np.ndarray:
    """The detections tensor of any runner's result: a list or tuple, OpenVINO's dict of outputs, or one array."""
    if hasattr(outputs, "values"):
        outputs = list(outputs.values())
    while isinstance(outputs, (list, tuple)):
        outputs = outputs[0]
    return outputs.numpy() if hasattr(outputs, "numpy") else np.asarray(outputs)


def per_image(predict: Predict, runtime: str, imgsz: int, threads: int) -> Callable[[np.ndarray], Any]:
    """A detector's whole pipeline on one BGR photo, with Ultralytics' own steps for an exported static-shape model:
    LetterBox to the export's size, BGR to RGB, CHW, /255; the network; then ``non_max_suppression``, which only
    filters by confidence for an end-to-end (one-to-one) output and runs NMS otherwise (YOLO26's NCNN export falls back
    to the one-to-many branch), and the boxes scaled back to the photo."""
    import torch
    from ultralytics.data.augment import LetterBox
    from ultralytics.utils import ops

    try:
        from ultralytics.utils.nms import non_max_suppression
    except ImportError:  # before 8.3.190 it lived in ops
        non_max_suppression = ops.non_max_suppression
    letterbox = LetterBox((imgsz, imgsz), auto=False)

    def run(image: np.ndarray) -> Any:
        torch.set_num_threads(threads)  # NMS and the box scaling run in torch, as in the predictor
        x = letterbox(image=image)[..., ::-1].transpose(2, 0, 1)[None]
        x = np.ascontiguousarray(x, dtype=np.float32) / 255
        out = torch.from_numpy(first_output(predict(x)).copy())
        out = out[None] if out.ndim == 2 else out  # NCNN's Mat drops the batch axis
        end2end = out.ndim == 3 and out.shape[-1] == 6  # (1, max_det, xyxy + score + class)
        if runtime.startswith("tflite") and not end2end:  # LiteRT's one-to-many boxes are in 0..1 (see AutoBackend)
            out[:, :4] *= imgsz
        det = non_max_suppression(out, 0.25, 0.7, max_det=300, end2end=end2end)[0]
        det[:, :4] = ops.scale_boxes((imgsz, imgsz), det[:, :4], image.shape)
        return det

    return run


def latency_task(key: tuple, predict: Predict, imgsz: int, iters: int, photo: np.ndarray | None = None) -> Task:
    """The network alone on a random input, or with ``photo`` (BGR) the whole pipeline of ``per_image`` on it."""
    if photo is not None:
        run = per_image(predict, key[1], imgsz, key[3])
        return Task(key, lambda: median_ms(lambda: run(photo), iters))
    x = np.random.default_rng(0).random((1, 3, imgsz, imgsz), dtype=np.float32)
    return Task(key, lambda: median_ms(lambda: predict(x), iters))


# --- Training throughput and memory, each sample in a fresh process ----------------------------------------------
def peak_rss_mb() -> float:
    """This process's own peak RSS.

    On Linux, ``ru_maxrss`` of a child started by a large parent can start at the parent's peak; ``VmHWM`` belongs to
    the child's own address space.
    """
    status = Path("/proc/self/status")
    found = re.search(r"^VmHWM:\s*(\d+) kB", status.read_text(), re.MULTILINE) if status.is_file() else None
    if found:
        return int(found.group(1)) / 2**10
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB elsewhere


def synthetic_batch(batch: int, imgsz: int, nc: int) -> dict:
    """A training batch in the layout the stock collate gives the loss: normalised xywh boxes, one row per box."""
    import torch

    gen = torch.Generator().manual_seed(0)
    n = batch * BOXES_PER_IMAGE
    return {
        "img": torch.rand(batch, 3, imgsz, imgsz, generator=gen),
        "batch_idx": torch.arange(batch).repeat_interleave(BOXES_PER_IMAGE).float(),
        "cls": torch.randint(0, nc, (n, 1), generator=gen).float(),
        "bboxes": torch.cat(
            (torch.rand(n, 2, generator=gen) * 0.6 + 0.2, torch.rand(n, 2, generator=gen) * 0.25 + 0.05), 1
        ),
    }


def train_worker(model: str, imgsz: int, batch: int, steps: int, threads: int) -> dict[str, float]:
    """SGD steps through the stock loss on a synthetic batch; run by ``training_sample`` in a fresh interpreter."""
    import logging

    import torch
    from ultralytics.cfg import get_cfg
    from ultralytics.nn.tasks import DetectionModel
    from ultralytics.utils import LOGGER

    import ultralytics_shufflenet  # noqa: F401 - registers the plugin layers

    LOGGER.setLevel(logging.WARNING)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    baseline = peak_rss_mb()  # interpreter, torch and Ultralytics, before any model exists
    net = DetectionModel(model, verbose=False)
    net.args = get_cfg()  # the loss reads its box/cls/dfl gains from here, as in a stock training run
    net.train()
    data = synthetic_batch(batch, imgsz, net.model[-1].nc)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.937, nesterov=True)

    def step() -> None:
        loss, _ = net.loss(data)
        optimizer.zero_grad()
        loss.sum().backward()
        optimizer.step()

    step()  # untimed: the first step builds the criterion and autograd's buffers
    start = time.perf_counter()
    for _ in range(steps):
        step()
    elapsed = time.perf_counter() - start
    peak = peak_rss_mb()
    return {"train_ips": batch * steps / elapsed, "peak_rss": peak, "train_mem": peak - baseline}


def training_sample(model: str, imgsz: int, batch: int, steps: int, threads: int) -> dict[str, float]:
    """One training measurement in a fresh interpreter that imports only this module, so its memory is the model's."""
    job = json.dumps({"model": model, "imgsz": imgsz, "batch": batch, "steps": steps, "threads": threads})
    proc = subprocess.run(python_module("bench.measure", job), capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"training process exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":  # the training worker
    from . import yolo_env

    yolo_env.isolate()
    print(json.dumps(train_worker(**json.loads(sys.argv[1]))))
