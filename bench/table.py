"""The model tables: every shipped config per task and head family, next to the stock model, as params.csv and
params.md in --out (docs/models by default; ``python -m bench docs`` renders the Markdown again from the CSV).

Parameters and GFLOPs (at 640, as Ultralytics reports them) come from each shipped YAML's scale comments, which
tests/test_configs.py checks against the built models; the stock models' are measured here by building them.

    python -m bench table [--scales n s] [--out docs/models]
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

from . import models, yolo_env
from .render import write_csv

VARIANT_ORDER = (
    "-shufflenetv2",
    "-star",
    "-lite",
    "-pan",
    "-wide",
    "-wide-nms",
    "-fast",
    "-slim",
    "-slim-nms",
)  # file name endings, as the tables list them
SUMMARY = re.compile(r"([\d,]+) parameters, [\d,]+ gradients, ([\d.]+) GFLOPs")
FIELDS = ["task", "config", "scale", "params", "gflops"]


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


def measured_rows(scales: list[str]) -> list[dict]:
    """One row per task, config (stock first, then the shipped ones of its family) and scale."""
    configs = sorted(p.name for p in models.CONFIG_DIR.glob("*.yaml"))
    rows = []
    for task, infix in models.TASK_INFIX.items():
        families = models.STOCK_FAMILIES if task != "classify" else ("yolov8",)
        for family in families:
            if task != "classify" and not (task in models.YOLO26_ONLY_TASKS and family != "yolo26"):
                stock = f"{family}{infix}.yaml"
                for scale in scales:
                    params, gflops = stock_figures(models.with_scale(stock, scale))
                    rows.append(
                        dict(zip(FIELDS, (task, f"stock {models.with_scale(stock, '*')}", scale, params, gflops)))
                    )
            ours = [c for c in configs if c.startswith(f"{family}{infix}-shufflenetv2")]
            for config in sorted(ours, key=lambda c: [c.endswith(f"{v}.yaml") for v in VARIANT_ORDER].index(True)):
                figures = written(config)
                for scale in scales:
                    rows.append(dict(zip(FIELDS, (task, models.with_scale(config, "*"), scale, *figures[scale]))))
    return rows


def markdown(rows: list[dict]) -> str:
    from ultralytics_shufflenet.widths import SCALES, WIDE_SCALES

    scales = list(dict.fromkeys(r["scale"] for r in rows))
    lines = ["Parameters / GFLOPs at 640, by task (`python -m bench table`; every scale is in each YAML's comments)."]
    for task in dict.fromkeys(r["task"] for r in rows):
        lines += ["", f"#### {task}", "", "| config | " + " | ".join(f"{s}: params / GFLOPs" for s in scales) + " |"]
        lines.append("|---" * (len(scales) + 1) + "|")
        for config in dict.fromkeys(r["config"] for r in rows if r["task"] == task):
            found = {r["scale"]: r for r in rows if r["task"] == task and r["config"] == config}
            cells = [f"{int(found[s]['params']):,} / {float(found[s]['gflops']):.1f}" for s in scales]
            lines.append(f"| {config} | {' | '.join(cells)} |")
    for name, table in (("", SCALES), (" of the -wide, -fast and -slim configs", WIDE_SCALES)):
        widths = ", ".join(f"{s}: {w.name} ({'/'.join(map(str, w.stages))})" for s, w in table.items())
        lines += ["", f"Backbone widths by scale{name} (stage 2/3/4 channels): {widths}."]
    return "\n".join(lines) + "\n"


def render_folder(folder: Path) -> None:
    """params.md again from params.csv."""
    with open(folder / "params.csv", newline="") as f:
        (folder / "params.md").write_text(markdown(list(csv.DictReader(f))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", nargs="+", default=["n", "s"])
    parser.add_argument("--out", type=Path, default=Path("docs/models"))
    args = parser.parse_args(argv)
    yolo_env.isolate()
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "params.csv", measured_rows(args.scales), FIELDS)
    render_folder(args.out)
    print((args.out / "params.md").read_text())
    return 0
