"""Rank detectors by accuracy: every model trained with one recipe, on real photographs, several seeds.

Each run trains one model with one seed through the stock trainer, in a fresh process, then validates its final
weights on the val split with the stock validator. Every model gets the same data, schedule, image size, batch,
optimizer and augmentation (Ultralytics' defaults for everything not set below). A model starts from scratch, or,
written ``config+imagenet``, from torchvision's ImageNet weights of its backbone width: converted by this package's
converter and handed to the stock trainer as ``pretrained=``, which reports how many tensors it transferred. A
checkpoint file (``yolo11n.pt``, where it exists) is fine-tuned as the stock trainer does. The summary gives, per
model, the mean and the spread (min-max over seeds) of mAP50-95 and mAP50. Finished runs are kept under --out and
skipped when the command runs again, so an interrupted protocol resumes where it stopped (a run stopped while training
starts over, one stopped while validating is only validated), and seeds can be added later. The runs.csv of an
earlier --out (the copy kept under docs/) put into a new --out with its recipe.json goes on the same way: its rows stay
in the tables and are not trained again.

    python -m bench accuracy                          # the README protocol (hours on 2 CPU cores)
    python -m bench accuracy --models yolo11n.yaml yolo11n-shufflenetv2-wide.yaml+imagenet --seeds 0 1 2
    python -m bench accuracy --models yolo11n.yaml@256  # a model at its own image size
    python -m bench accuracy --models yolo11n-shufflenetv2-wide.yaml+imagenet \\
        --imagenet-weights shufflenetv2_x1-5666bf0f80.pth       # the ImageNet file given, not fetched

Writes ``runs.csv`` (one line per run), ``accuracy.csv`` and ``accuracy.md`` (one line per model) to --out.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import re
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from . import models, python_module, yolo_env
from .render import replace_text, write_csv

RUN_FIELDS = (
    "model",
    "config",
    "start",
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
    "transferred",
    "imagenet_tensors",
    "source",
    "weights",
    "mAP50-95_one2one",
    "mAP50-95_one2one_square",
    "mAP50-95_one2one_onnx",
)
SCRATCH, IMAGENET, CHECKPOINT = "scratch", "imagenet", "checkpoint"
LOSSES = ("box", "cls", "dfl")
# YOLO26 heads' NMS-free scores: PyTorch as validated by default (rectangular batches), PyTorch on the export's square
# batch-1 input, and the nms=False ONNX export
ONE_TO_ONE = ("mAP50-95_one2one", "mAP50-95_one2one_square", "mAP50-95_one2one_onnx")


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
            "pretrained": False,  # from scratch unless the run says otherwise: nothing is downloaded
            "val": False,  # validated once, after the last epoch: the runs are long enough already
            "plots": False,
        }


def run_folder(out: Path, model: str, seed: int | str) -> Path:
    """Where one run of a model label (``x.yaml+imagenet@320``) and seed is kept under --out."""
    return out / "runs" / model.replace("@", "-") / f"seed{seed}"


@dataclass(frozen=True)
class Run:
    config: str
    imgsz: int
    seed: int
    start: str = SCRATCH

    @property
    def model(self) -> str:
        """The label of the model in the tables: its config's file name, start and image size (a YAML given by path
        is labelled, and its runs kept under --out, by its name)."""
        start = f"+{self.start}" if self.start == IMAGENET else ""
        return f"{Path(self.config).name}{start}@{self.imgsz}"

    def folder(self, out: Path) -> Path:
        return run_folder(out, self.model, self.seed)


def parse_model(spec: str, default_imgsz: int) -> tuple[str, int, str]:
    """``yolo11n.yaml``, ``yolo11n.yaml@256``, ``x.yaml+imagenet@256`` or ``yolo11n.pt`` -> (config, image size,
    start)."""
    config, _, size = spec.partition("@")
    config, plus, start = config.partition("+")
    if plus and start != IMAGENET:
        raise SystemExit(f"{spec}: the only start a model spec can name is '+{IMAGENET}'")
    if config.endswith(".pt"):
        if plus:
            raise SystemExit(f"{spec}: a checkpoint brings its own weights; '+{IMAGENET}' is for YAML configs")
        if not Path(config).is_file():
            raise SystemExit(f"{config}: no such file (checkpoints are used, never downloaded)")
        start = CHECKPOINT
    return config, int(size) if size else default_imgsz, start or SCRATCH


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


def imagenet_start(config: str, imagenet_weights: str, seed: int, folder: Path) -> tuple[dict, dict]:
    """How a model starts from torchvision's ImageNet weights of its backbone: the training arguments to add, and
    what went into it (source, number of ImageNet tensors).

    A plugin backbone gets a checkpoint from this package's converter, handed to the trainer as ``pretrained=``; the
    layers ImageNet lacks (neck, head) are initialised under the run's seed, as the trainer's own build would be,
    since the trainer takes them from the checkpoint too. A stock ``TorchVision`` layer loads torchvision's weights
    itself whenever the model is built, from ``$TORCH_HOME``: given ``imagenet_weights``, a ``TORCH_HOME`` of the
    run's own holds that file under torchvision's name. Without ``imagenet_weights``, torchvision's own file is
    fetched (and cached) as the converter's ``--imagenet`` does.
    """
    import torch
    from ultralytics import YOLO
    from ultralytics.nn.modules import TorchVision

    from ultralytics_shufflenet import ShuffleNetV2Stage
    from ultralytics_shufflenet.weights import (
        backbone_width,
        convert_state_dict,
        fetch_imagenet_state_dict,
        load_torchvision_state_dict,
        save_checkpoint,
        state_dict_width,
        torchvision_names,
    )

    given = load_torchvision_state_dict(imagenet_weights) if imagenet_weights else None
    if given is not None:
        cache = folder / "torch-home" / "hub" / "checkpoints" / state_dict_width(given).weights_file
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.unlink(missing_ok=True)
        cache.symlink_to(Path(imagenet_weights).resolve())
        os.environ["TORCH_HOME"] = str(folder / "torch-home")  # the trainer's own builds read it too
    torch.manual_seed(seed)
    model = YOLO(config).model
    if any(isinstance(m, ShuffleNetV2Stage) for m in model.modules()):
        width = backbone_width(model)
        state_dict = given if given is not None else fetch_imagenet_state_dict(width)
        model.load_state_dict(convert_state_dict(model, state_dict))
        path = folder / "imagenet.pt"
        source = imagenet_weights or width.weights_url
        save_checkpoint(model, path, source=source)
        return {"pretrained": str(path)}, {"source": source, "imagenet_tensors": len(torchvision_names(model))}
    layers = [m for m in model.modules() if isinstance(m, TorchVision)]
    if not layers:
        raise SystemExit(f"{config}: neither ShuffleNetV2Stage nor TorchVision layers, so no ImageNet start")
    loaded = layers[0].m.state_dict()
    if given is not None and not torch.equal(next(iter(loaded.values())), given["conv1.0.weight"]):
        raise RuntimeError(f"{config}: its TorchVision layer did not load {imagenet_weights}")
    source = f"TorchVision layer ({imagenet_weights or 'torchvision cache'})"
    return {}, {"source": source, "imagenet_tensors": len(loaded)}


@contextmanager
def transfer_count() -> Iterator[list[str]]:
    """What the stock trainer reports of the pretrained weights it loaded ('330/350' tensors), as it logs it."""
    from ultralytics.utils import LOGGER

    found: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: found.extend(re.findall(r"Transferred (\d+/\d+) items", record.getMessage()))
    LOGGER.addHandler(handler)
    try:
        yield found
    finally:
        LOGGER.removeHandler(handler)


def train_one(run: Run, recipe: Recipe, folder: Path, imagenet_weights: str = "") -> dict:
    """Worker: one training and one validation, in this (fresh) process. Returns the result row."""
    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import get_flops

    import ultralytics_shufflenet  # noqa: F401 - registers the plugin layers (the start-up hook does it too)

    start = time.perf_counter()
    weights = folder / "weights" / "last.pt"
    transferred = folder / "transferred.json"  # what the trainer loaded, and from where
    if not (weights.is_file() and len(epoch_rows(folder)) == recipe.epochs):  # else: stopped while validating
        (folder / "results.csv").unlink(missing_ok=True)  # the trainer appends to it; an unfinished run starts over
        args, origin = {**recipe.train_args(), "imgsz": run.imgsz}, {}
        if run.start == IMAGENET:
            extra, origin = imagenet_start(run.config, imagenet_weights, run.seed, folder)
            args.update(extra)
        elif run.start == CHECKPOINT:
            del args["pretrained"]  # the stock fine-tuning path: the checkpoint's own weights
            origin = {"source": str(Path(run.config).resolve())}
        with transfer_count() as counts:
            YOLO(run.config).train(**args, seed=run.seed, project=str(folder.parent), name=folder.name, exist_ok=True)
        if isinstance(args.get("pretrained"), str) and not counts:  # 8.3's Python API drops pretrained= for YAMLs
            raise RuntimeError(f"the trainer did not load {args['pretrained']}: this run would be from scratch")
        transferred.write_text(json.dumps({"transferred": counts[-1] if counts else "", **origin}))
    last = epoch_rows(folder)[-1]
    # the trainer's own clock (seconds since the start of training); older releases lack the column
    minutes = last.get("time", time.perf_counter() - start) / 60
    trained = YOLO(weights)
    settings = dict(data=recipe.data, imgsz=run.imgsz, batch=recipe.batch, device="cpu", plots=False, exist_ok=True)
    metrics = trained.val(**settings, project=str(folder), name="val")
    # YOLO26 heads: the default validation scores the one-to-many branch (with NMS); the NMS-free one-to-one branch
    # is scored too, in PyTorch and as the nms=False ONNX export a user would deploy
    one2one = {}
    if getattr(trained.model.model[-1], "one2one_cv2", None) is not None:
        one2one["mAP50-95_one2one"] = trained.val(
            **settings, nms=False, project=str(folder), name="val-one2one"
        ).box.map
        # the export's own input: square letterbox, batch 1 (PyTorch validates in rectangular batches by default)
        square = {**settings, "batch": 1, "rect": False}
        one2one["mAP50-95_one2one_square"] = trained.val(
            **square, nms=False, project=str(folder), name="val-one2one-square"
        ).box.map
        onnx = trained.export(format="onnx", imgsz=run.imgsz, nms=False)
        exported = YOLO(onnx, task="detect").val(**square, nms=False, project=str(folder), name="val-onnx")
        one2one["mAP50-95_one2one_onnx"] = exported.box.map
    return {
        "model": run.model,
        "config": run.config,
        "start": run.start,
        "imgsz": run.imgsz,
        "seed": run.seed,
        "mAP50-95": metrics.box.map,
        "mAP50": metrics.box.map50,
        "precision": metrics.box.mp,
        "recall": metrics.box.mr,
        **{f"{k}_loss": last.get(f"train/{k}_loss", "") for k in ("box", "cls", "dfl")},  # YOLO26: no DFL loss
        "params": sum(p.numel() for p in trained.model.parameters()),
        "gflops": get_flops(trained.model, run.imgsz),
        "train_minutes": minutes,
        **dict.fromkeys(("transferred", "imagenet_tensors", "source"), ""),
        **(json.loads(transferred.read_text()) if transferred.is_file() else {}),
        "weights": str(weights),
        **one2one,
    }


def run_in_fresh_process(run: Run, recipe: Recipe, out: Path, imagenet_weights: str = "") -> dict:
    """One run in its own interpreter, logging to its folder; the result file marks it finished."""
    folder = run.folder(out)
    result = folder / "result.json"
    if result.is_file():
        return json.loads(result.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    job = {"run": asdict(run), "recipe": asdict(recipe), "folder": str(folder), "imagenet_weights": imagenet_weights}
    job = json.dumps(job)
    with open(folder / "train.log", "a") as log:
        proc = subprocess.run(python_module("bench", "accuracy", "--worker", job), stdout=log, stderr=subprocess.STDOUT)
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
        start = runs[0].get("start") or SCRATCH  # runs from before the start was recorded were all from scratch
        line = {"model": model, "config": runs[0]["config"], "start": start, "imgsz": runs[0]["imgsz"]}
        line["seeds"] = len(runs)
        for key in ("mAP50-95", "mAP50", "mAP50-95_one2one", "box_loss", "cls_loss", "dfl_loss", "train_minutes"):
            values = [float(r[key]) for r in runs if r.get(key) not in (None, "")]
            spread_of = (statistics.mean(values), min(values), max(values)) if values else ("", "", "")
            line.update(zip((key, f"{key}_min", f"{key}_max"), spread_of))
        line.update(params=runs[0]["params"], gflops=runs[0]["gflops"])
        summary.append(line)
    return summary


def markdown(rows: list[dict], summary: list[dict], recipe: Recipe) -> str:
    seeds = sorted({r["seed"] for r in rows})
    optimizer = recipe.optimizer + (f" lr0={recipe.lr0}" if recipe.optimizer != "auto" else "")
    lines = [
        f"Accuracy after identical training, each model from the start its row names: {recipe.data}, "
        f"{recipe.epochs} epochs, batch {recipe.batch}, optimizer {optimizer}, image size {recipe.imgsz} unless the "
        f"model says @size, seeds {', '.join(map(str, seeds))}, CPU. Cells: mean [min-max] over seeds, validation "
        "of the final weights. Transferred: what the trainer reported loading from the start's weights.",
        "",
        "| model | start | seeds | mAP50-95 | mAP50 | mAP50-95 NMS-free (PyTorch / PyTorch square / ONNX) | final "
        "train loss box / cls "
        "/ dfl | transferred | params | GFLOPs | train min |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for line in summary:
        runs = [r for r in rows if r["model"] == line["model"]]
        losses = " / ".join(
            f"{line[f'{k}_loss']:.3f}" if line[f"{k}_loss"] != "" else "-" for k in ("box", "cls", "dfl")
        )
        free = [r for r in runs if r.get("mAP50-95_one2one") not in (None, "")]
        nms_free = " / ".join(spread([float(r[key]) for r in free]) for key in ONE_TO_ONE) if free else "-"
        transferred = ", ".join(sorted({str(r.get("transferred") or "") for r in runs} - {""})) or "-"
        lines.append(
            f"| {line['model']} | {line['start']} | {line['seeds']} | {spread([float(r['mAP50-95']) for r in runs])} | "
            f"{spread([float(r['mAP50']) for r in runs])} | {nms_free} | {losses} | {transferred} | "
            f"{int(line['params']):,} | {float(line['gflops']):.2f} | {line['train_minutes']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def carried_rows(out: Path) -> list[dict]:
    """Rows of --out's runs.csv whose run folder is not under --out: the CSV kept under docs/, copied into --out on a
    fresh machine (run folders do not travel), keeps its runs in the tables and out of the queue. A run whose folder
    is here is resumed as before, a result or not."""
    if not (out / "runs.csv").is_file():
        return []
    with open(out / "runs.csv", newline="") as f:
        rows = [{**r, "seed": int(r["seed"])} for r in csv.DictReader(f)]
    return [r for r in rows if not run_folder(out, r["model"], r["seed"]).exists()]


def write_tables(out: Path, recipe: Recipe, order: list[str]) -> None:
    """Tables of every finished run under --out, not only this call's: a protocol run in pieces reads as one."""
    rows = [
        {**dict.fromkeys(RUN_FIELDS, ""), **json.loads(p.read_text())}
        for p in (out / "runs").glob("*/seed*/result.json")
    ]
    rows += carried_rows(out)
    order = order + sorted({r["model"] for r in rows} - set(order))
    rows.sort(key=lambda r: (r["seed"], order.index(r["model"])))
    summary = summarise(rows, order)
    write_csv(out / "runs.csv", rows, list(RUN_FIELDS))
    write_csv(out / "accuracy.csv", summary, list(summary[0]))
    replace_text(out / "accuracy.md", markdown(rows, summary, recipe))


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
    parser.add_argument(
        "--imagenet-weights",
        type=Path,
        help="torchvision ShuffleNet V2 state dict for '+imagenet' models (default: torchvision's file of the "
        "backbone's width, fetched once into TORCH_HOME)",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/accuracy"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:  # a child started by run_in_fresh_process
        job = json.loads(args.worker)
        yolo_env.isolate()
        folder = Path(job["folder"])
        result = train_one(Run(**job["run"]), Recipe(**job["recipe"]), folder, job["imagenet_weights"])
        (folder / "result.json").write_text(json.dumps(result, indent=1))
        return 0

    out = args.out.resolve()
    yolo_env.isolate(out / "yolo-config")
    if not Path(args.data).is_file():  # a stock name: its folder comes from --datasets
        yolo_env.writable_datasets([Path(args.data).stem], out / "datasets", args.datasets)
    recipe = Recipe(args.data, args.epochs, args.imgsz, args.batch, args.optimizer, args.lr0, args.workers, args.cache)
    specs = [parse_model(spec, args.imgsz) for spec in (args.models or default_models())]
    runs = [Run(config, imgsz, seed, start) for seed in args.seeds for config, imgsz, start in specs]
    known = [parse_model(spec, args.imgsz) for spec in default_models()] + specs  # a stable table order
    order = list(dict.fromkeys(Run(c, i, 0, s).model for c, i, s in known))
    recipe_file = out / "recipe.json"
    written = json.loads(recipe_file.read_text()) if recipe_file.is_file() else asdict(recipe)
    if {k: written.get(k) for k in asdict(recipe)} != asdict(recipe):
        raise SystemExit(f"{out} holds runs of another recipe ({recipe_file.read_text()}); use another --out")
    replace_text(recipe_file, json.dumps(asdict(recipe), indent=1))

    imagenet_weights = str(args.imagenet_weights.resolve()) if args.imagenet_weights else ""
    started = time.perf_counter()
    carried = {(r["model"], r["seed"]) for r in carried_rows(out)}
    if any((run.model, run.seed) in carried for run in runs):
        print(f"runs in {out / 'runs.csv'} without their folders are kept as they are, not trained again")
        runs = [run for run in runs if (run.model, run.seed) not in carried]
        write_tables(out, recipe, order)
    for k, run in enumerate(runs, 1):
        print(f"[{k}/{len(runs)}] {run.model} seed {run.seed}: {run.folder(out)}", flush=True)
        row = run_in_fresh_process(run, recipe, out, imagenet_weights)
        done = f"mAP50-95 {row['mAP50-95']:.4f}, mAP50 {row['mAP50']:.4f}, {row['train_minutes']:.1f} min"
        print(f"    {done}", flush=True)
        write_tables(out, recipe, order)  # after every run, so a long protocol can be read as it goes
    print((out / "accuracy.md").read_text())
    print(f"{len(runs)} runs, {(time.perf_counter() - started) / 60:.1f} min; tables in {out}")
    return 0
