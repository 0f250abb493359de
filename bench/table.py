"""Print the README's model tables: every shipped config per task and head family, next to the stock model.

Parameters and GFLOPs (at 640, as Ultralytics reports them) come from each shipped YAML's scale comments, which
tests/test_configs.py checks against the built models; the stock models' are measured here by building them.

    python -m bench table [--scales n s]
"""

from __future__ import annotations

import argparse
import re

from . import models, yolo_env

VARIANT_ORDER = (
    "-shufflenetv2",
    "-star",
    "-lite",
    "-pan",
    "-wide",
    "-fast",
)  # file name endings, as the README lists them
SUMMARY = re.compile(r"([\d,]+) parameters, [\d,]+ gradients, ([\d.]+) GFLOPs")


def written(config: str) -> dict[str, tuple[int, float]]:
    """Scale -> (parameters, GFLOPs) from a shipped YAML's scale comments."""
    text = (models.CONFIG_DIR / config).read_text()
    out = {}
    for scale, comment in re.findall(r"^  ([nslmx]): \[[^\]]*\] # (.+)$", text, re.MULTILINE):
        params, gflops = SUMMARY.search(comment).groups()
        out[scale] = (int(params.replace(",", "")), float(gflops))
    return out


def stock_figures(config: str) -> tuple[int, float]:
    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import get_flops

    model = YOLO(config).model
    return sum(p.numel() for p in model.parameters()), get_flops(model, 640)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", nargs="+", default=["n", "s"])
    args = parser.parse_args(argv)
    yolo_env.isolate()
    from ultralytics_shufflenet.widths import SCALES, WIDE_SCALES

    configs = sorted(p.name for p in models.CONFIG_DIR.glob("*.yaml"))
    for task, infix in models.TASK_INFIX.items():
        print(f"\n#### {task}\n")
        print("| config | " + " | ".join(f"{s}: params / GFLOPs" for s in args.scales) + " |")
        print("|---" * (len(args.scales) + 1) + "|")
        families = models.STOCK_FAMILIES if task != "classify" else ("yolov8",)
        for family in families:
            stock = f"{family}{infix}.yaml"
            cells = []
            for scale in args.scales:
                if task == "classify":
                    break
                params, gflops = stock_figures(models.with_scale(stock, scale))
                cells.append(f"{params:,} / {gflops:.1f}")
            if cells:
                print(f"| stock {models.with_scale(stock, '*')} | {' | '.join(cells)} |")
            ours = [c for c in configs if c.startswith(f"{family}{infix}-shufflenetv2")]
            for config in sorted(ours, key=lambda c: [c.endswith(f"{v}.yaml") for v in VARIANT_ORDER].index(True)):
                figures = written(config)
                cells = [f"{figures[s][0]:,} / {figures[s][1]:.1f}" for s in args.scales]
                print(f"| {models.with_scale(config, '*')} | {' | '.join(cells)} |")
    for name, table in (("", SCALES), (" of the -wide and -fast configs", WIDE_SCALES)):
        widths = ", ".join(f"{s}: {w.name} ({'/'.join(map(str, w.stages))})" for s, w in table.items())
        print(f"\nBackbone widths by scale{name} (stage 2/3/4 channels): {widths}.")
    return 0
