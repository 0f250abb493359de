"""Shared fixtures: offline Ultralytics in a throwaway settings folder, real data sets, fresh processes and venvs.

Markers: ``slow`` (trains, exports, builds environments or runs scripts; the fast loop is ``pytest -m "not slow"``)
and ``core`` (slow tests that also run against the oldest supported Ultralytics in CI).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the measuring package, bench

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from bench import yolo_env  # noqa: E402 - must run before anything imports Ultralytics
from bench.deploy import TOLERANCE  # noqa: E402
from bench.models import TASK_DATA  # noqa: E402

CONFIG_DIR = yolo_env.isolate()
# torchvision's ShuffleNet V2 1.0x ImageNet weights, offline (never committed; CI has the shared folder too)
IMAGENET_FILE = ROOT.parent / "shared" / "weights" / "shufflenetv2_x1_0-onnxzoo-imagenet.pth"
# tests that need it skip without it, except in CI, where its absence is a failure
needs_imagenet_file = pytest.mark.skipif(
    not IMAGENET_FILE.is_file() and not os.environ.get("CI"), reason="no offline ImageNet file"
)
SMOKE_LOSSES = "smoke_losses"  # a test property: the final training losses of a smoke run (test_tasks.py)
os.environ.pop("ULTRALYTICS_SHUFFLENET_AUTOLOAD", None)


def with_trained_statistics(model: nn.Module) -> nn.Module:
    """Random BatchNorm statistics and affine terms, so fused convs get real biases (a YAML build has zeros) and
    features do not fade away through the layers as they do with the builder's initial ones."""
    generator = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=generator) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
            m.bias.data.copy_(torch.rand(m.num_features, generator=generator) - 0.5)
    return model.eval()


def one_to_one_checkpoint(config: str, path: Path) -> Path:
    """A random-weight YOLO26-head model saved for NMS-free checks: features that do not fade away and class scores
    of its one-to-one branch spread by anchor and class (at the builder's prior they are all but equal, and which
    300 of them a runtime keeps would be a coin toss)."""
    from ultralytics import YOLO

    torch.manual_seed(0)
    model = YOLO(config)
    with_trained_statistics(model.model)
    for branch in model.model.model[-1].one2one_cv3:
        nn.init.normal_(branch[-1].weight, std=0.05)
        branch[-1].bias.data.zero_()
    model.save(path)
    return path


def assert_same_detections(exported: np.ndarray, reference: np.ndarray) -> None:
    """One-to-one outputs (B, max_det, 6 + task values), rows by falling score: the same rows where scores stand
    clear of the last one kept (by a tenth of the kept scores' range: near-equal scores may trade places or the last
    slots in another runtime's float sums); compared in one order."""
    assert exported.shape == reference.shape
    first, last = reference[0, 0, 4], reference[0, -1, 4]
    cut = last + 0.1 * (first - last)
    rows = [a[0][a[0][:, 4] > cut] for a in (exported, reference)]
    rows = [r[np.lexsort((np.round(r[:, 1]), np.round(r[:, 0]), r[:, 5]))] for r in rows]  # whole pixels: a
    # float sum's last digit must not decide the order of two boxes of a class that share a corner's x
    assert len(rows[1]) >= 20, f"only {len(rows[1])} detections stand clear of the cut: the check would be empty"
    np.testing.assert_allclose(rows[0], rows[1], **TOLERANCE)


def builds_here(config: str) -> bool:
    """Whether the installed Ultralytics is recent enough for a shipped config (YOLO26 family: 8.4.0 and later)."""
    from ultralytics_shufflenet import compat
    from ultralytics_shufflenet.configs import required_release

    release = required_release(config)
    return release is None or not compat.older_than(release)


@pytest.fixture(scope="session")
def datasets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Writable copies of every task's sample data (Ultralytics writes label caches), set as ``datasets_dir``."""
    names = [folder for folder, _ in TASK_DATA.values()]
    missing = [n for n in names if not (yolo_env.SHARED_DATASETS / n).is_dir()]
    if missing:
        message = f"{missing} not found in {yolo_env.SHARED_DATASETS}; set ULTRALYTICS_SHUFFLENET_DATASETS"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Named exactly 'datasets': older stock coco8.yaml files say 'path: ../datasets/coco8'.
    return yolo_env.writable_datasets(names, tmp_path_factory.mktemp("datasets", numbered=False))


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 900) -> str:
    """Run a command in a fresh process; fail the test with its output when it fails."""
    proc = subprocess.run(
        args, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(args)} exited {proc.returncode}:\n{output[-6000:]}"
    return output


def yolo() -> str:
    """The stock ``yolo`` console script of this environment."""
    return str(Path(sys.executable).with_name("yolo"))


def fresh_venv(folder: Path, borrow: bool = True) -> tuple[str, Path]:
    """A new virtual environment without pip: its python and its site-packages. With ``borrow``, this environment's
    packages (torch, Ultralytics) are importable in it as a plain path, without their start-up hooks."""
    venv.create(folder, with_pip=False)
    python = str(folder / "bin" / "python")
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=folder).strip())
    if borrow:
        (site / "zz_borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python, site


@contextmanager
def captured_log() -> Iterator[list[str]]:
    """The messages Ultralytics' LOGGER emits during the block."""
    from ultralytics.utils import LOGGER

    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    LOGGER.addHandler(handler)
    try:
        yield lines
    finally:
        LOGGER.removeHandler(handler)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The final training losses of the smoke runs, so CI's log keeps them (read from the test reports, which
    pytest-xdist carries back from its workers)."""
    reports = terminalreporter.getreports("passed") + terminalreporter.getreports("failed")
    smoke = sorted(value for r in reports for name, value in r.user_properties if name == SMOKE_LOSSES)
    if smoke:
        terminalreporter.section("smoke-run final training losses (1 epoch, imgsz 64)")
        for line in smoke:
            terminalreporter.write_line(line)
