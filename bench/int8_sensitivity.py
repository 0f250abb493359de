"""Which part of a trained detector loses its accuracy in INT8: each part kept in float in turn, the rest quantized.

The stock exporter's own INT8 path does the quantizing (``model.export(format=..., int8=True, data=...)``: NNCF for
OpenVINO, ai-edge-quantizer for TFLite); this script only widens the set of operations that path leaves in float, by
the part's layer indices (NNCF ``ignored_scope`` patterns on OpenVINO's node names; ai-edge-quantizer
``NO_QUANTIZE`` rules on LiteRT's tensor names). Parts are the YAML rows as profile_parts.py cuts them (stem, stages,
neck, head). Every export is validated through Ultralytics' loader on the val split, batch 1, like int8_accuracy.py.
The part whose float copy recovers most of the drop is where the accuracy goes.

    python -m bench int8-sensitivity runs/accuracy/runs/<model>/seed0/weights/last.pt --data african-wildlife.yaml

Writes sensitivity.md and sensitivity.csv to --out.
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from pathlib import Path

from . import yolo_env
from .render import write_csv

RUNTIMES = ("openvino", "tflite")


@contextmanager
def kept_in_float(runtime: str, layers: list[int]):
    """During the block, the stock INT8 export leaves the given top-level layers in float as well."""
    if not layers:
        yield
        return
    alternatives = "|".join(map(str, layers))
    from ultralytics_shufflenet import compat

    if runtime == "openvino":
        with compat.nncf_int8_kept_in_float([rf"__module\.model\.({alternatives})[./].*"]):
            yield
        return
    with compat.litert_int8_kept_in_float([rf".*DetectionModel_model/[^/;]+_({alternatives})[/;].*"]):
        yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights", type=Path, help="a trained checkpoint")
    parser.add_argument("--data", default="african-wildlife.yaml", help="stock data name or YAML path")
    parser.add_argument("--datasets", type=Path, default=yolo_env.SHARED_DATASETS, help="folder holding the data")
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--runtimes", nargs="+", default=list(RUNTIMES), choices=RUNTIMES)
    parser.add_argument("--fraction", type=float, default=0.3, help="share of the training images used to calibrate")
    parser.add_argument("--parts", nargs="+", help="the parts to keep in float, by name (default: every part)")
    parser.add_argument("--out", type=Path, default=Path("runs/int8-sensitivity"))
    args = parser.parse_args(argv)
    out = args.out.resolve()
    yolo_env.isolate(out / "yolo-config")
    import logging

    from ultralytics import YOLO
    from ultralytics.utils import LOGGER

    from . import measure
    from .int8 import copied, data_path, validate
    from .parts import cut

    LOGGER.setLevel(logging.WARNING)
    data = data_path(args.data, args.datasets, out)
    weights = str(args.weights.resolve())
    parts = [(name, indices) for name, indices in cut(YOLO(weights).model) if not args.parts or name in args.parts]
    scopes = [("nothing (the stock call)", []), *parts]

    rows = []
    for runtime in args.runtimes:
        folder = out / runtime
        fp32 = YOLO(copied(weights, folder / "fp32")).export(format=runtime, imgsz=args.imgsz, batch=1)
        fp32 = validate(str(fp32), data, args.imgsz)
        for name, layers in scopes:
            work = folder / measure.slug(name)
            try:
                with kept_in_float(runtime, layers):
                    exported = YOLO(copied(weights, work)).export(
                        format=runtime, int8=True, data=data, split="train", fraction=args.fraction, imgsz=args.imgsz
                    )
                int8 = validate(str(exported), data, args.imgsz)
            except Exception as e:
                measure.log(f"{runtime} {name}: failed: {measure.describe(e)}")
                int8 = None
            rows.append({"runtime": runtime, "kept in float": name, "layers": layers, "fp32": fp32, "int8": int8})
            measure.log(f"{runtime}, {name} in float: FP32 {fp32:.4f}, INT8 {int8}")
    write(out, rows, weights, args)
    print((out / "sensitivity.md").read_text())
    return 0


def write(out: Path, rows: list[dict], weights: str, args: argparse.Namespace) -> None:
    write_csv(out / "sensitivity.csv", rows, list(rows[0]))
    lines = [
        f"INT8 sensitivity of {weights}: mAP50-95 on {args.data} val ({args.imgsz}px, batch 1) of the stock INT8 "
        f"export (calibrated on {args.fraction:.0%} of the training images) with one part kept in float; drop = INT8 "
        "minus the FP32 export of the same runtime, in points.",
        "",
        "| kept in float | " + " | ".join(f"{r} INT8 (drop)" for r in args.runtimes) + " |",
        "|---|" + "---|" * len(args.runtimes),
    ]
    for scope in dict.fromkeys(r["kept in float"] for r in rows):
        cells = []
        for runtime in args.runtimes:
            row = next(r for r in rows if r["runtime"] == runtime and r["kept in float"] == scope)
            int8 = row["int8"]
            cells.append("failed" if int8 is None else f"{int8:.3f} ({100 * (int8 - row['fp32']):+.1f})")
        lines.append(f"| {scope} | " + " | ".join(cells) + " |")
    fp32 = {r["runtime"]: r["fp32"] for r in rows}
    lines += ["", "FP32 exports: " + ", ".join(f"{k} {v:.3f}" for k, v in fp32.items())]
    (out / "sensitivity.md").write_text("\n".join(lines) + "\n")
