"""INT8 against FP32 accuracy per runtime, on the accuracy protocol's trained models and real validation images.

For each trained model (compare_accuracy.py's weights of each of ``--seeds``, default 0) and each runtime: the stock
FP32 export and the stock INT8 export (calibrated on the model's own training images: ``split=train``, ``--fraction``
of them), each validated through Ultralytics' own loader on the val split at the protocol's image size, batch 1, like
the PyTorch model it came from. Reports mAP50-95 per runtime and the INT8 drop (INT8 minus FP32 in the same runtime).
With ``--rounds``, also each export's latency (batch 1, median ms; a runtime's FP32 and INT8 exports interleaved in
one run, at each of ``--threads``). Writes int8.md and int8.csv next to the accuracy results.

    python -m bench int8 runs/accuracy [--models yolo11n.yaml@320 ...] [--seeds 0 1] [--rounds 5]
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Callable
from pathlib import Path

from . import yolo_env
from .render import write_csv

# runtime -> (FP32 export arguments, INT8 export arguments); MNN's INT8 quantizes weights only and takes no data
RUNTIMES = {
    "openvino": ({"format": "openvino"}, {"format": "openvino", "int8": True}),
    "tflite": ({"format": "tflite"}, {"format": "tflite", "int8": True}),
    "mnn": ({"format": "mnn"}, {"format": "mnn", "int8": True}),
}
NOT_RUN = "not run"  # in int8.csv: a runtime that call did not measure (an empty cell is a failed export)


def validate(weights: str, data: str, imgsz: int, **extra: object) -> float:
    from ultralytics import YOLO

    metrics = YOLO(weights).val(data=data, imgsz=imgsz, batch=1, device="cpu", plots=False, verbose=False, **extra)
    return float(metrics.box.map)


def data_path(data: str, datasets: Path, out: Path) -> str:
    """A data YAML by path; a stock name becomes a writable copy under ``out`` (its label caches are written)."""
    if Path(data).is_file():
        return data
    stem = Path(data).stem
    yolo_env.writable_datasets([stem], out / "datasets", datasets)
    return str(out / "datasets" / stem / f"{stem}.yaml")


def copied(weights: str, folder: Path) -> str:
    """The weights in their own folder: the exporter writes next to the checkpoint it exports."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    return shutil.copy(weights, folder / Path(weights).name)


def export(weights: str, args: dict, data: str, imgsz: int, fraction: float, folder: Path) -> str:
    from ultralytics import YOLO

    from . import measure

    args = dict(args)
    if args.get("int8") and args["format"] != "mnn":
        args.update(data=data, split="train", fraction=fraction)
    with measure.working_dir(folder):
        return str(Path(YOLO(weights).export(imgsz=imgsz, batch=1, **args)).resolve())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("accuracy", type=Path, help="compare_accuracy.py's --out folder (holds runs.csv)")
    parser.add_argument("--models", nargs="+", help="labels from runs.csv (default: all at the recipe's image size)")
    parser.add_argument("--runtimes", nargs="+", default=list(RUNTIMES), choices=list(RUNTIMES))
    parser.add_argument("--nms-free", action="store_true", help="YOLO26 heads: export and validate with nms=False")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="which seeds' trained weights")
    parser.add_argument("--fraction", type=float, default=0.3, help="share of the training images used to calibrate")
    parser.add_argument("--rounds", type=int, default=0, help="latency rounds per export (0: accuracy only)")
    parser.add_argument("--iters", type=int, default=20, help="timed calls per round (their median is the sample)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    folder = args.accuracy.resolve()
    yolo_env.isolate(folder / "yolo-config")
    import logging
    import shutil

    from ultralytics.utils import LOGGER

    from . import measure

    LOGGER.setLevel(logging.WARNING)
    recipe = json.loads((folder / "recipe.json").read_text())
    stem = Path(recipe["data"]).stem
    data = str(folder / "datasets" / stem / f"{stem}.yaml")  # by path: this process has read datasets_dir already
    with open(folder / "runs.csv", newline="") as f:
        trained = {(r["model"], int(r["seed"])): r for r in csv.DictReader(f) if int(r["seed"]) in args.seeds}
    labels = args.models or list(
        dict.fromkeys(m for (m, _), r in trained.items() if int(r["imgsz"]) == recipe["imgsz"])
    )
    measured = [key for key in trained if key[0] in labels]
    # --nms-free: YOLO26 heads' one-to-one branch, exported and validated with nms=False (rows named so)
    nms = {"nms": False} if args.nms_free else {}
    suffix = " NMS-free" if args.nms_free else ""
    earlier = {(r["model"], int(r.get("seed") or 0)): r for r in earlier_rows(folder)}  # kept unless re-measured
    remeasured = {(label + suffix, seed) for label, seed in measured}
    rows = [r for key, r in earlier.items() if key not in remeasured]
    for label, seed in measured:
        weights, imgsz = trained[label, seed]["weights"], int(trained[label, seed]["imgsz"])
        row = {
            **earlier.get((label + suffix, seed), {}),
            "model": label + suffix,
            "seed": seed,
            "pytorch": validate(weights, data, imgsz, **nms),
        }
        for runtime in args.runtimes:
            exports = {}
            for stale in [k for k in row if k.startswith(f"{runtime}_") and "_ms" in k]:  # timing of older exports
                del row[stale]
            for precision, export_args in zip(("fp32", "int8"), RUNTIMES[runtime]):
                work = folder / "int8" / measure.slug(f"{label}{suffix}-seed{seed}") / f"{runtime}-{precision}"
                key = f"{runtime}_{precision}"
                try:
                    shutil.rmtree(work, ignore_errors=True)
                    exports[key] = Path(export(weights, {**export_args, **nms}, data, imgsz, args.fraction, work))
                    row[key] = validate(str(exports[key]), data, imgsz, **nms)
                except Exception as e:
                    measure.log(f"{label} {key}: failed: {measure.describe(e)}")
                    row[key] = None
            measure.log(f"{label} {runtime}: fp32 {row[f'{runtime}_fp32']}, int8 {row[f'{runtime}_int8']}")
            if args.rounds:
                row.update(latency(exports, measure.RUNTIMES[runtime].load, imgsz, args, f"{label} {runtime}"))
        rows.append(row)
        write(folder, rows, recipe, args.fraction)
    print((folder / "int8.md").read_text())
    return 0


def latency(exports: dict[str, Path], load: Callable, imgsz: int, args: argparse.Namespace, what: str) -> dict:
    """Median latency (ms) of each export at each thread count, keyed like ``openvino_int8_ms1``."""
    from . import measure

    tasks = [
        measure.latency_task((f"{key}_ms{threads}",), load(path, threads), imgsz, args.iters)
        for key, path in exports.items()
        for threads in args.threads
    ]
    figures = {task.key: measure.Figure() for task in tasks}
    measure.run_rounds(tasks, args.rounds, figures, what)
    return {key: figure.median for (key,), figure in figures.items() if figure.ok}


def earlier_rows(folder: Path) -> list[dict]:
    """The rows an earlier call wrote, numbers parsed back ('' was a failed export, NOT_RUN a runtime not asked for)."""
    path = folder / "int8.csv"
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        {
            k: v if k == "model" else int(v) if k == "seed" else float(v) if v else None
            for k, v in r.items()
            if v != NOT_RUN
        }
        for r in rows
    ]


def write(folder: Path, rows: list[dict], recipe: dict, fraction: float) -> None:
    runtimes = [r for r in RUNTIMES if any(f"{r}_fp32" in row for row in rows)]

    def cell(row: dict, runtime: str) -> str:
        if f"{runtime}_fp32" not in row:
            return "not run"
        fp32, int8 = row.get(f"{runtime}_fp32"), row.get(f"{runtime}_int8")
        text = f"{fp32:.3f}" if fp32 is not None else "failed"
        if int8 is None:
            return f"{text} / failed"
        drop = f" ({100 * (int8 - fp32):+.1f})" if fp32 is not None else ""
        return f"{text} / {int8:.3f}{drop}"

    def speed(row: dict, runtime: str) -> str:
        """FP32 / INT8 ms at each thread count timed, e.g. '17.2 / 9.8 (1 thr); 11.0 / 6.9 (2 thr)'."""
        times = {k: v for k, v in row.items() if k.startswith(f"{runtime}_") and "_ms" in k and v is not None}
        counts = sorted({int(k.rsplit("_ms", 1)[1]) for k in times})
        ms = [[times.get(f"{runtime}_{p}_ms{t}", float("nan")) for p in ("fp32", "int8")] for t in counts]
        return "; ".join(f"{f:.1f} / {i:.1f} ({t} thr)" for t, (f, i) in zip(counts, ms)) or "not timed"

    lines = [
        f"mAP50-95 on {recipe['data']} val ({recipe['imgsz']}px, batch 1) of the protocol's trained models: FP32 "
        f"export / INT8 export (INT8 minus FP32 in points). INT8 calibrated on {fraction:.0%} of the training images; "
        "MNN's INT8 is weight-only. OpenVINO runs through Ultralytics' loader, which keeps OpenVINO's default "
        "precision (bf16 on CPUs with AVX512-BF16; f32 on others).",
        "",
        "| model | seed | PyTorch FP32 | " + " | ".join(f"{r} FP32 / INT8 (drop)" for r in runtimes) + " |",
        "|---|---|---|" + "---|" * len(runtimes),
    ]
    for row in rows:
        cells = " | ".join(cell(row, r) for r in runtimes)
        lines.append(f"| {row['model']} | {row.get('seed', 0)} | {row['pytorch']:.3f} | {cells} |")
    if any("_ms" in k for row in rows for k in row):
        lines += [
            "",
            "Latency of the same exports, batch 1, median ms, FP32 / INT8 (a runtime's two exports interleaved in one "
            "run):",
            "",
            "| model | seed | " + " | ".join(f"{r} FP32 / INT8 ms" for r in runtimes) + " |",
            "|---|---|" + "---|" * len(runtimes),
        ]
        lines += [
            f"| {row['model']} | {row.get('seed', 0)} | " + " | ".join(speed(row, r) for r in runtimes) + " |"
            for row in rows
        ]
    (folder / "int8.md").write_text("\n".join(lines) + "\n")
    write_csv(folder / "int8.csv", rows, list(dict.fromkeys(k for row in rows for k in row)), restval=NOT_RUN)
