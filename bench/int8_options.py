"""INT8 accuracy of one trained model under each quantizer option: the measurement behind the plugin's INT8 rules.

Each variant changes one thing in the stock INT8 call of its runtime, with the plugin's own INT8 rules switched off
(``ULTRALYTICS_SHUFFLENET_INT8_RULES=0``), so ``stock`` is what the quantizer does by itself:

- openvino: NNCF's activation range estimator (a ``RangeEstimatorParametersSet`` name: ``HISTOGRAM`` is the shipped
  rule), ``full-bias-correction`` (``fast_bias_correction=False``), or a part of the Detect head left in float:
  ``outputs`` (its output convs and the ops after them, as TFLite's shipped rule does), ``box-branch`` or
  ``class-branch``;
- tflite: parts of the Detect head left in float: ``decoding`` (the ops after its output convs), ``outputs`` (those
  and the output convs: the shipped rule), ``head`` (all of it).

Variants joined by ``+`` apply together (``HISTOGRAM+outputs``). Every export is validated through Ultralytics'
loader on the val split, batch 1, like int8_accuracy.py.

    python -m bench int8-options <last.pt> --runtime openvino --variants stock HISTOGRAM MINMAX HISTOGRAM+outputs

Writes options.md and options.csv to --out.
"""

from __future__ import annotations

import argparse
import os
from contextlib import ExitStack, contextmanager
from pathlib import Path

from . import yolo_env
from .render import write_csv

VARIANTS = {
    "openvino": [
        *("stock", "full-bias-correction", "HISTOGRAM", "MINMAX", "MEAN_MINMAX", "MEAN_QUANTILE"),
        *("outputs", "box-branch", "class-branch"),
    ],
    "tflite": ["stock", "decoding", "outputs", "head"],
}


@contextmanager
def nncf_option(variant: str, head):
    """During the block, Ultralytics' ``nncf.quantize`` call gets the variant's keyword (or leaves the variant's part
    of ``head`` in float); a variant of several joined by ``+`` gets them all."""
    with ExitStack() as stack:
        for option in variant.split("+"):
            stack.enter_context(_nncf_single_option(option, head))
        yield


@contextmanager
def _nncf_single_option(variant: str, head):
    import nncf
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters
    from nncf.quantization.range_estimator import RangeEstimatorParametersSet

    from ultralytics_shufflenet import compat

    parts = compat.openvino_detect_parts(head)
    if variant in parts:
        with compat.nncf_int8_kept_in_float(parts[variant]):
            yield
        return
    if variant == "stock":
        extra = {}
    elif variant == "full-bias-correction":
        extra = {"fast_bias_correction": False}
    else:
        ranges = getattr(RangeEstimatorParametersSet, variant)
        extra = {"advanced_parameters": AdvancedQuantizationParameters(activations_range_estimator_params=ranges)}
    stock = nncf.quantize
    nncf.quantize = lambda *args, **kwargs: stock(*args, **{**kwargs, **extra})
    try:
        yield
    finally:
        nncf.quantize = stock


def litert_float_part(variant: str, head) -> list[str]:
    """LiteRT op-name patterns of the variant's part of the Detect head."""
    from ultralytics_shufflenet import compat

    outputs = compat.litert_detect_outputs(head)
    return {
        "stock": [],
        "decoding": [p for p in outputs if "Conv2d" not in p],
        "outputs": outputs,
        "head": [rf"\.{type(head).__name__}_{head.i}[;/]", *[p for p in outputs if "Coords" in p]],
    }[variant]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights", type=Path, help="a trained checkpoint")
    parser.add_argument("--runtime", required=True, choices=list(VARIANTS))
    parser.add_argument("--variants", nargs="+", help="default: every variant of the runtime")
    parser.add_argument("--data", default="african-wildlife.yaml", help="stock data name or YAML path")
    parser.add_argument("--datasets", type=Path, default=yolo_env.SHARED_DATASETS, help="folder holding the data")
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--fraction", type=float, default=0.3, help="share of the training images used to calibrate")
    parser.add_argument("--out", type=Path, default=Path("runs/int8-options"))
    args = parser.parse_args(argv)
    variants = args.variants or VARIANTS[args.runtime]
    unknown = [v for v in variants if any(part not in VARIANTS[args.runtime] for part in v.split("+"))]
    if unknown:
        parser.error(f"{unknown} are not {args.runtime} variants; choose from {VARIANTS[args.runtime]}")
    out = args.out.resolve()
    yolo_env.isolate(out / "yolo-config")
    os.environ["ULTRALYTICS_SHUFFLENET_INT8_RULES"] = "0"
    import logging

    from ultralytics import YOLO
    from ultralytics.utils import LOGGER

    from ultralytics_shufflenet import compat

    from . import measure
    from .int8 import copied, data_path, validate

    LOGGER.setLevel(logging.WARNING)
    data = data_path(args.data, args.datasets, out)
    weights = str(args.weights.resolve())
    fp32 = YOLO(copied(weights, out / "fp32")).export(format=args.runtime, imgsz=args.imgsz)
    fp32 = validate(str(fp32), data, args.imgsz)
    rows = []
    head = YOLO(weights).model.model[-1]
    for variant in variants:
        if args.runtime == "openvino":
            option = nncf_option(variant, head)
        else:
            parts = variant.split("+")
            option = compat.litert_int8_kept_in_float([p for part in parts for p in litert_float_part(part, head)])
        with option:
            exported = YOLO(copied(weights, out / measure.slug(variant))).export(
                format=args.runtime, int8=True, data=data, split="train", fraction=args.fraction, imgsz=args.imgsz
            )
        int8 = validate(str(exported), data, args.imgsz)
        measure.log(f"{args.runtime} {variant}: FP32 {fp32:.4f}, INT8 {int8:.4f}")
        rows.append({"runtime": args.runtime, "variant": variant, "fp32": fp32, "int8": int8})
    write_csv(out / "options.csv", rows, list(rows[0]))
    lines = [
        f"INT8 options for {weights}: mAP50-95 on {args.data} val ({args.imgsz}px, batch 1), the plugin's INT8 rules "
        f"off, calibrated on {args.fraction:.0%} of the training images; FP32 {args.runtime} export: {fp32:.3f}.",
        "",
        f"| {args.runtime} variant | INT8 (drop) |",
        "|---|---|",
        *[f"| {r['variant']} | {r['int8']:.3f} ({100 * (r['int8'] - fp32):+.1f}) |" for r in rows],
    ]
    (out / "options.md").write_text("\n".join(lines) + "\n")
    print((out / "options.md").read_text())
    return 0
