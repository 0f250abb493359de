"""The project's measuring tools: one command line, ``python -m bench <command>``, one module per command.

Not shipped in the wheel: a user of the plugin needs Ultralytics and torch, while these tools also need the edge
runtimes, the shared data sets and hours of CPU. They run from a clone (``python -m bench`` in its root, or
``python path/to/bench`` from anywhere), on any machine with the runtimes it can time.

The harness the commands share: ``yolo_env`` (throwaway offline Ultralytics settings, run before Ultralytics is
imported), ``models`` (every model compared: stock references, shipped configs, specs such as
``name.yaml+imagenet``), ``measure`` (one runner per runtime, interleaved timing) and ``render`` (tables and plots
from the CSVs).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# command -> (module, what it does); each module has main(argv) -> int
COMMANDS = {
    "latency": ("latency", "time models in every runtime installed, interleaved, against YOLO26n"),
    "accuracy": ("accuracy", "train and validate models with one recipe and several seeds"),
    "int8": ("int8", "INT8 against FP32 accuracy of trained models, per runtime"),
    "int8-options": ("int8_options", "INT8 accuracy of one model under each quantizer option"),
    "int8-sensitivity": ("int8_sensitivity", "which part of a model loses accuracy in INT8"),
    "deploy": ("deploy", "export, compare with PyTorch, predict and validate per edge format"),
    "parts": ("parts", "where a model's time goes, part by part, per runtime"),
    "unit": ("unit", "the ShuffleNet unit's implementation choices, timed"),
    "startup": ("startup", "what the start-up hook costs every Python process"),
    "render": ("render", "latency tables and plot from a latency run's CSV"),
    "tradeoff": ("tradeoff", "accuracy against latency: table and plot"),
    "table": ("table", "the model tables: params and GFLOPs per shipped config"),
    "predictions": ("predictions", "a picture of a trained model's predictions"),
    "configs": ("make_configs", "write every shipped model YAML"),
    "docs": ("docs", "regenerate every table of the README and docs/ from the CSVs under docs/"),
}


def python_module(module: str, *args: str) -> list[str]:
    """The command line of a fresh interpreter running ``python -m <module> <args>`` (a module of this package) from
    any directory: the clone's root joins PYTHONPATH, which the child inherits."""
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return [sys.executable, "-m", module, *args]
