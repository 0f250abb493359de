"""Verify edge exports: every shipped config (or the ones named) x every edge format, through Ultralytics' own loader.

For each pair: the stock export (``model.export(format=...)``) of the n model with random weights; its raw outputs,
loaded back through Ultralytics' AutoBackend, against PyTorch's on a real image of the model's task (within
|d| <= 1e-3 + 1e-4 |x|, FP32 formats only); then ``yolo predict`` and ``yolo val`` on the export, each in a fresh
process. Writes a Markdown table (deploy_check.md) and a CSV to --out; exits 1 if anything failed.

    python -m bench deploy                                          # the whole matrix (an hour or more)
    python -m bench deploy --configs yolo11n-shufflenetv2-pan.yaml --formats ncnn mnn
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from . import models, yolo_env
from .render import write_csv

# Edge formats: name -> export arguments. INT8 exports are checked to export, predict and validate; their accuracy is
# measured on real data by int8_accuracy.py.
FORMATS = {
    "ncnn": {"format": "ncnn"},
    "mnn": {"format": "mnn"},
    "openvino": {"format": "openvino"},
    "tflite": {"format": "tflite"},
    "openvino-int8": {"format": "openvino", "int8": True},
    "mnn-int8": {"format": "mnn", "int8": True},
    "tflite-int8": {"format": "tflite", "int8": True},
}
TOLERANCE = {"atol": 1e-3, "rtol": 1e-4}


@dataclass
class Check:
    config: str
    format: str
    exported: bool = False
    max_abs_diff: float | None = None  # through Ultralytics' loader
    f32_max_abs_diff: float | None = None  # OpenVINO only: compiled with INFERENCE_PRECISION_HINT=f32
    within_tolerance: bool | None = None
    predict: bool = False
    val: bool | None = None  # None: not run (INT8 exports of random weights)
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.exported and self.within_tolerance is not False and self.predict and self.val is not False


def task_images(task: str, datasets: Path) -> list[Path]:
    folder = datasets / models.TASK_DATA[task][0]
    val = folder / "val" if (folder / "val").is_dir() else folder / "images" / "val"
    return sorted(p for p in val.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def load_images(files: list[Path], size: int) -> np.ndarray:
    import cv2

    images = [cv2.cvtColor(cv2.resize(cv2.imread(str(f)), (size, size)), cv2.COLOR_BGR2RGB) for f in files]
    return np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2), dtype=np.float32) / 255


def flat(output: object) -> list:
    if isinstance(output, torch.Tensor) or hasattr(output, "shape"):
        return [output]
    return [t for item in output for t in flat(item)] if isinstance(output, (list, tuple)) else []


def pytorch_outputs(
    checkpoint: str | Path, x: np.ndarray, end2end: bool = False, fmt: str = "onnx"
) -> list[np.ndarray]:
    """What an export computes, run in PyTorch: the head in export mode for format ``fmt``, as the exporter sets it
    (a semantic head returns class ids to ONNX, logits to TorchScript); ``end2end``: the one-to-one branch of a
    YOLO26 head, as ``nms=False`` exports it."""
    from ultralytics import YOLO

    model = YOLO(checkpoint).model.float().eval()
    if end2end:
        model.end2end = True
    head = model.model[-1]
    head.export, head.format = True, fmt
    with torch.no_grad():
        return [t.numpy() for t in flat(model(torch.from_numpy(x)))]


def backend_outputs(exported: str | Path, x: np.ndarray) -> list[np.ndarray]:
    """The export's raw outputs through Ultralytics' own loader, as predict and val see them."""
    from ultralytics.nn.autobackend import AutoBackend

    backend = AutoBackend(exported, device=torch.device("cpu"))
    return [np.asarray(t.numpy() if isinstance(t, torch.Tensor) else t) for t in flat(backend(torch.from_numpy(x)))]


def openvino_f32_outputs(exported: str | Path, x: np.ndarray) -> list[np.ndarray]:
    import openvino

    compiled = openvino.Core().compile_model(
        str(next(Path(exported).glob("*.xml"))), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )
    return [compiled({0: x})[output] for output in compiled.outputs]


def compare(outputs: list, reference: list) -> tuple[float | None, bool]:
    """Largest absolute difference, and whether every element is within the tolerance (shapes must match)."""

    if [o.shape for o in outputs] != [r.shape for r in reference]:
        return None, False
    worst = max(float(np.abs(o - r).max()) for o, r in zip(outputs, reference))
    return worst, all(np.allclose(o, r, **TOLERANCE) for o, r in zip(outputs, reference))


def run_cli(*args: str, cwd: Path) -> tuple[bool, str]:
    try:
        proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return False, f"{args[1:4]} timed out after 900 s"
    return proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]


def last_error(log: str) -> str:
    """The line of a failed command's output that says why: the last one naming an error, else the last one."""
    lines = [line for line in log.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return ((errors or lines or ["no output"])[-1]).strip()[:300]


def export(config: str, fmt: str, checkpoint: Path, datasets: Path, imgsz: int = 320) -> str:
    """Save the config with seeded random weights as ``checkpoint``, then export that with the stock exporter."""
    from ultralytics import YOLO

    torch.manual_seed(0)
    YOLO(config).save(checkpoint)
    args = dict(FORMATS[fmt])
    if args.get("int8") and args["format"] != "mnn":  # MNN's INT8 quantizes weights only, without data
        args.update(data=models.data_path(models.task_of(config), datasets), fraction=1.0)
    return YOLO(checkpoint).export(imgsz=imgsz, **args)


def check(config: str, fmt: str, datasets: Path, work: Path, imgsz: int = 320) -> Check:
    """Export, compare, predict and validate one config in one format; failures are recorded, not raised."""
    result, start = Check(config, fmt), time.perf_counter()
    task = models.task_of(config)
    folder = work / f"{Path(config).stem}-{fmt}"
    folder.mkdir(parents=True, exist_ok=True)
    checkpoint = folder / Path(config).with_suffix(".pt").name
    yolo = str(Path(sys.executable).with_name("yolo"))
    try:
        exported = export(config, fmt, checkpoint, datasets, imgsz)
        result.exported = True
        x = load_images(task_images(task, datasets)[:1], imgsz)
        if not FORMATS[fmt].get("int8"):
            reference = pytorch_outputs(checkpoint, x, fmt=FORMATS[fmt]["format"])
            result.max_abs_diff, result.within_tolerance = compare(backend_outputs(exported, x), reference)
            if fmt == "openvino":  # the loader keeps OpenVINO's default precision: bf16 on CPUs that have it
                result.f32_max_abs_diff, result.within_tolerance = compare(openvino_f32_outputs(exported, x), reference)
        image = task_images(task, datasets)[0]
        common = (f"model={exported}", f"imgsz={imgsz}", "device=cpu")
        result.predict, log = run_cli(yolo, task, "predict", *common, f"source={image}", "save=False", cwd=folder)
        # val of an INT8 export of random weights says nothing (and its flood of equal scores makes OBB's rotated NMS
        # crawl): int8_accuracy.py validates INT8 exports of trained models instead
        if result.predict and not FORMATS[fmt].get("int8"):
            data = f"data={models.data_path(task, datasets)}"
            result.val, log = run_cli(yolo, task, "val", *common, data, "batch=1", "plots=False", cwd=folder)
        if not result.predict or (result.val is False):
            result.error = last_error(log)
    except Exception as e:
        result.error = f"{type(e).__name__}: {e}".splitlines()[0][:300]
    result.seconds = time.perf_counter() - start
    return result


def markdown(results: list[Check]) -> str:
    lines = [
        "| config | format | export | max abs diff vs PyTorch (Ultralytics' loader; OpenVINO f32) | within tolerance "
        "| predict | val | error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    mark = {True: "ok", False: "FAILED", None: "-"}
    for r in results:
        diff = f"{r.max_abs_diff:.2e}" if r.max_abs_diff is not None else "-"
        diff += f"; {r.f32_max_abs_diff:.2e}" if r.f32_max_abs_diff is not None else ""
        lines.append(
            f"| {r.config} | {r.format} | {mark[r.exported]} | {diff} | {mark[r.within_tolerance]} | "
            f"{mark[r.predict]} | {mark[r.val]} | {r.error.replace('|', '/')} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", nargs="+", help="default: every shipped config at scale n")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=list(FORMATS))
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--datasets", type=Path, default=yolo_env.SHARED_DATASETS)
    parser.add_argument("--out", type=Path, default=Path("runs/deploy-check"))
    args = parser.parse_args(argv)
    out = args.out.resolve()
    yolo_env.isolate()
    folders = [folder for folder, _ in models.TASK_DATA.values()]
    datasets = yolo_env.writable_datasets(folders, out / "datasets", args.datasets)
    configs = args.configs or [
        models.with_scale(c, "n") for c in sorted(p.name for p in models.CONFIG_DIR.glob("*.yaml"))
    ]
    results = []
    for config in configs:
        for fmt in args.formats:
            result = check(config, fmt, datasets, out / "work", args.imgsz)
            print(
                f"{config} {fmt}: {'ok' if result.ok else 'FAILED ' + result.error} ({result.seconds:.0f} s)",
                flush=True,
            )
            results.append(result)
    (out / "deploy_check.md").write_text(markdown(results))
    write_csv(out / "deploy_check.csv", [asdict(r) for r in results], list(asdict(results[0])))
    print(markdown(results))
    return 0 if all(r.ok for r in results) else 1
