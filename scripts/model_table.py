"""Print a Markdown table of every shipped config at every scale: layers, parameters and FLOPs.

Detectors: GFLOPs at 640x640 as Ultralytics reports them (2 x multiply-adds). Classifiers: also the paper's measure,
MFLOPs = multiply-adds at 224x224, counted by torch's FlopCounterMode. V2* rows give their cost over plain V2.

    python scripts/model_table.py
"""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode
from ultralytics.nn.tasks import ClassificationModel, DetectionModel
from ultralytics.utils.torch_utils import model_info

import ultralytics_shufflenet  # noqa: F401 - registers the layers
from ultralytics_shufflenet.configs import config_names


def multiply_adds(model: torch.nn.Module, imgsz: int) -> float:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model.eval()(torch.zeros(1, 3, imgsz, imgsz))
    return counter.get_total_flops() / 2


def main() -> None:
    print("| model | layers | params | GFLOPs (640) | MFLOPs (224, multiply-adds) | vs plain V2 |")
    print("|---|---|---|---|---|---|")
    plain: dict[str, tuple[int, float]] = {}
    for name in sorted(config_names(), key=lambda n: n.endswith("-star.yaml")):  # plain V2 before V2*
        for scale in "nsmlx":
            cfg = name.replace("yolov8", f"yolov8{scale}", 1)
            classify = "-cls-" in name
            model = (ClassificationModel if classify else DetectionModel)(cfg, verbose=False)
            layers, params, _, gflops = model_info(model, imgsz=640)  # also logs the summary line
            mflops = f"{multiply_adds(model, 224) / 1e6:.0f}" if classify else ""
            delta = ""
            if name.endswith("-star.yaml"):
                base_params, base_gflops = plain[scale]
                delta = f"+{params - base_params:,} params, +{gflops - base_gflops:.2f} GFLOPs"
            elif not classify:
                plain[scale] = (params, gflops)
            print(f"| {cfg} | {layers} | {params:,} | {gflops:.1f} | {mflops} | {delta} |")


if __name__ == "__main__":
    main()
