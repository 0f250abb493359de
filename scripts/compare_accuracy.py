"""Rank detectors by accuracy: every model trained from scratch with one recipe, on real photographs, several seeds.

Each run trains one model with one seed through the stock trainer, in a fresh process, then validates its final
weights on the val split with the stock validator. Every model gets the same data, schedule, image size, batch,
optimizer and augmentation (Ultralytics' defaults for everything not set below). The summary gives, per model, the
mean and the spread (min-max over seeds) of mAP50-95 and mAP50. Finished runs are kept under --out and skipped when
the command runs again, so an interrupted protocol resumes where it stopped (a run stopped while training starts
over, one stopped while validating is only validated), and seeds can be added later.

    python scripts/compare_accuracy.py                          # the README protocol (hours on 2 CPU cores)
    python scripts/compare_accuracy.py --models yolo11n.yaml yolo11n-shufflenetv2-pan.yaml --seeds 0 1 2
    python scripts/compare_accuracy.py --models yolo11n.yaml@256  # a model at its own image size

Writes ``runs.csv`` (one line per run), ``accuracy.csv`` and ``accuracy.md`` (one line per model) to --out.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import models
import yolo_env

RUN_FIELDS = (
    "model",
    "config",
    "imgsz",
    "seed",
    "mAP50-95",
    "mAP50",
    "precision",
    "recall",
    "box_loss",
    "cls_loss",
    "dfl_loss",
    "params",
    "gflops",
    "train_minutes",
    "weights",
)


@dataclass(frozen=True)
class Recipe:
    """What every model of one comparison shares."""

    data: str
    epochs: int
    imgsz: int
    batch: int
    optimizer: str
    lr0: float
    workers: int
    cache: str

    def train_args(self) -> dict:
        return {
            "data": self.data,
            "epochs": self.epochs,
            "imgsz": self.imgsz,
            "batch": self.batch,
            "optimizer": self.optimizer,
            "lr0": self.lr0,
            "workers": self.workers,
            "cache": self.cache or False,
            "deterministic": True,
            "device": "cpu",
            "pretrained": False,  # from scratch: nothing to download, and no model starts ahead
            "val": False,  # validated once, after the last epoch: the runs are long enough already
            "plots": False,
        }


@dataclass(frozen=True)
class Run:
    config: str
    imgsz: int
    seed: int

    @property
    def model(self) -> str:
        """The label of the model in the tables: its config's file name and image size (a YAML given by path is
        labelled, and its runs kept under --out, by its name)."""
        return f"{Path(self.config).name}@{self.imgsz}"

    def folder(self, out: Path) -> Path:
        return out / "runs" / self.model.replace("@", "-") / f"seed{self.seed}"


def parse_model(spec: str, default_imgsz: int) -> tuple[str, int]:
    """``yolo11n.yaml`` or ``yolo11n.yaml@256`` -> (config, image size)."""
    config, _, size = spec.partition("@")
    return config, int(size) if size else default_imgsz


def default_models() -> list[str]:
    """Stock YOLOv8n and YOLO11n, YOLO11n at a smaller input (a user's own way to go faster), every shipped n config."""
    return [*models.stock("n"), "yolo11n.yaml@256", *models.shipped("n")]


def epoch_rows(folder: Path) -> list[dict[str, float]]:
    """The trainer's results.csv, one dict per finished epoch."""
    path = folder / "results.csv"
    if not path.is_file():
        return []
    with open(path) as f:
        return [{k.strip(): float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def train_one(run: Run, recipe: Recipe, folder: Path) -> dict:
    """Worker: one training and one validation, in this (fresh) process. Returns the result row."""
    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import get_flops

    import ultralytics_shufflenet  # noqa: F401 - registers the plugin layers (the start-up hook does it too)

    start = time.perf_counter()
    weights = folder / "weights" / "last.pt"
    if not (weights.is_file() and len(epoch_rows(folder)) == recipe.epochs):  # else: stopped while validating
        (folder / "results.csv").unlink(missing_ok=True)  # the trainer appends to it; an unfinished run starts over
        model = YOLO(run.config)
        args = {**recipe.train_args(), "imgsz": run.imgsz}
        model.train(**args, seed=run.seed, project=str(folder.parent), name=folder.name, exist_ok=True)
    last = epoch_rows(folder)[-1]
    # the trainer's own clock (seconds since the start of training); older releases lack the column
    minutes = last.get("time", time.perf_counter() - start) / 60
    trained = YOLO(weights)
    metrics = trained.val(
        data=recipe.data,
        imgsz=run.imgsz,
        batch=recipe.batch,
        device="cpu",
        plots=False,
        project=str(folder),
        name="val",
        exist_ok=True,
    )
    return {
        "model": run.model,
        "config": run.config,
        "imgsz": run.imgsz,
        "seed": run.seed,
        "mAP50-95": metrics.box.map,
        "mAP50": metrics.box.map50,
        "precision": metrics.box.mp,
        "recall": metrics.box.mr,
        **{f"{k}_loss": last[f"train/{k}_loss"] for k in ("box", "cls", "dfl")},
        "params": sum(p.numel() for p in trained.model.parameters()),
        "gflops": get_flops(trained.model, run.imgsz),
        "train_minutes": minutes,
        "weights": str(weights),
    }


def run_in_fresh_process(run: Run, recipe: Recipe, out: Path) -> dict:
    """One run in its own interpreter, logging to its folder; the result file marks it finished."""
    folder = run.folder(out)
    result = folder / "result.json"
    if result.is_file():
        return json.loads(result.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    job = json.dumps({"run": asdict(run), "recipe": asdict(recipe), "folder": str(folder)})
    with open(folder / "train.log", "a") as log:
        proc = subprocess.run([sys.executable, __file__, "--worker", job], stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode:
        raise RuntimeError(f"{run.model} seed {run.seed} failed (exit {proc.returncode}); see {folder / 'train.log'}")
    return json.loads(result.read_text())


def spread(values: list[float], digits: int = 3) -> str:
    mean = statistics.mean(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{min(values):.{digits}f}-{max(values):.{digits}f}]"


def summarise(rows: list[dict], order: list[str]) -> list[dict]:
    """Per model: seeds, mean and min/max of each metric, mean training time."""
    summary = []
    for model in order:
        runs = [r for r in rows if r["model"] == model]
        if not runs:
            continue
        line = {"model": model, "config": runs[0]["config"], "imgsz": runs[0]["imgsz"], "seeds": len(runs)}
        for key in ("mAP50-95", "mAP50", "box_loss", "cls_loss", "dfl_loss", "train_minutes"):
            values = [float(r[key]) for r in runs]
            line.update({key: statistics.mean(values), f"{key}_min": min(values), f"{key}_max": max(values)})
        line.update(params=runs[0]["params"], gflops=runs[0]["gflops"])
        summary.append(line)
    return summary


def markdown(rows: list[dict], summary: list[dict], recipe: Recipe) -> str:
    seeds = sorted({r["seed"] for r in rows})
    lines = [
        f"Accuracy after identical training from scratch: {recipe.data}, {recipe.epochs} epochs, batch {recipe.batch}, "
        f"{recipe.optimizer} lr0={recipe.lr0}, image size {recipe.imgsz} unless the model says @size, seeds "
        f"{', '.join(map(str, seeds))}, CPU. Cells: mean [min-max] over seeds, validation of the final weights.",
        "",
        "| model | seeds | mAP50-95 | mAP50 | final train loss box / cls / dfl | params | GFLOPs | train min |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for line in summary:
        runs = [r for r in rows if r["model"] == line["model"]]
        losses = " / ".join(f"{line[f'{k}_loss']:.3f}" for k in ("box", "cls", "dfl"))
        lines.append(
            f"| {line['model']} | {line['seeds']} | {spread([float(r['mAP50-95']) for r in runs])} | "
            f"{spread([float(r['mAP50']) for r in runs])} | {losses} | {int(line['params']):,} | "
            f"{float(line['gflops']):.2f} | {line['train_minutes']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def write_tables(out: Path, recipe: Recipe, order: list[str]) -> None:
    """Tables of every finished run under --out, not only this call's: a protocol run in pieces reads as one."""
    rows = [json.loads(p.read_text()) for p in (out / "runs").glob("*/seed*/result.json")]
    order = order + sorted({r["model"] for r in rows} - set(order))
    rows.sort(key=lambda r: (r["seed"], order.index(r["model"])))
    summary = summarise(rows, order)
    write_csv(out / "runs.csv", rows, list(RUN_FIELDS))
    write_csv(out / "accuracy.csv", summary, list(summary[0]))
    (out / "accuracy.md").write_text(markdown(rows, summary, recipe))


def write_csv(path: Path, rows: list[dict], fields: list[str]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="african-wildlife.yaml", help="stock data name or YAML path")
    parser.add_argument("--models", nargs="+", help="configs, each optionally @imgsz (default: see default_models)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--batch", type=int, default=16)
    # From scratch, SGD at 0.01 (Ultralytics' choice for long runs); 'auto' would pick AdamW at a fine-tuning rate
    # for runs this short. Every model gets the same.
    parser.add_argument("--optimizer", default="SGD")
    parser.add_argument("--lr0", type=float, default=0.01)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", default="disk", help="'disk' (decoded images, deterministic), 'ram' or ''")
    parser.add_argument("--datasets", type=Path, default=yolo_env.SHARED_DATASETS, help="folder holding the data")
    parser.add_argument("--out", type=Path, default=Path("runs/accuracy"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:  # a child started by run_in_fresh_process
        job = json.loads(args.worker)
        yolo_env.isolate()
        folder = Path(job["folder"])
        result = train_one(Run(**job["run"]), Recipe(**job["recipe"]), folder)
        (folder / "result.json").write_text(json.dumps(result, indent=1))
        return 0

    out = args.out.resolve()
    yolo_env.isolate(out / "yolo-config")
    if not Path(args.data).is_file():  # a stock name: its folder comes from --datasets
        yolo_env.writable_datasets([Path(args.data).stem], out / "datasets", args.datasets)
    recipe = Recipe(args.data, args.epochs, args.imgsz, args.batch, args.optimizer, args.lr0, args.workers, args.cache)
    specs = [parse_model(spec, args.imgsz) for spec in (args.models or default_models())]
    runs = [Run(config, imgsz, seed) for seed in args.seeds for config, imgsz in specs]  # every model once per seed
    known = [parse_model(spec, args.imgsz) for spec in default_models()] + specs  # a stable table order
    order = list(dict.fromkeys(Run(c, i, 0).model for c, i in known))
    recipe_file = out / "recipe.json"
    written = json.loads(recipe_file.read_text()) if recipe_file.is_file() else asdict(recipe)
    if {k: written.get(k) for k in asdict(recipe)} != asdict(recipe):
        raise SystemExit(f"{out} holds runs of another recipe ({recipe_file.read_text()}); use another --out")
    recipe_file.write_text(json.dumps(asdict(recipe), indent=1))

    started = time.perf_counter()
    for k, run in enumerate(runs, 1):
        print(f"[{k}/{len(runs)}] {run.model} seed {run.seed}: {run.folder(out)}", flush=True)
        row = run_in_fresh_process(run, recipe, out)
        done = f"mAP50-95 {row['mAP50-95']:.4f}, mAP50 {row['mAP50']:.4f}, {row['train_minutes']:.1f} min"
        print(f"    {done}", flush=True)
        write_tables(out, recipe, order)  # after every run, so a long protocol can be read as it goes
    print((out / "accuracy.md").read_text())
    print(f"{len(runs)} runs, {(time.perf_counter() - started) / 60:.1f} min; tables in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
