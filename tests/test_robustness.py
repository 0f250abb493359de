"""Mistakes fail clearly at build time, checkpoints load safely, stock models are untouched, builds are thread-safe."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import sysconfig
import threading
import venv
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from ultralytics import YOLO
from ultralytics.nn import tasks
from ultralytics.nn.modules import Conv
from ultralytics.nn.tasks import ClassificationModel, DetectionModel

from conftest import run
from ultralytics_shufflenet import register, unregister
from ultralytics_shufflenet.registry import PLUGIN_LAYERS

pytestmark = pytest.mark.core


def model_dict(row: list | None = None, **extra: object) -> dict:
    """A small classifier whose layer 2 is the row under test: stem (32) and a stride-2 unit (64) before it."""
    rows = [[-1, 1, "Conv_maxpool", [32]], [-1, 1, "ShuffleNetV2", [64, 2]]]
    return {
        "nc": 10,
        "scales": {"n": [1.0, 1.0, 1024]},
        "shufflenet_channels": {"n": {"stem": 24, "stage2": 48}},
        "backbone": rows + ([row] if row is not None else []),
        "head": [[-1, 1, "Classify", ["nc"]]],
        **extra,
    }


BAD_ROWS = [
    ([-1, 1, "ShufleNetV2", [64, 1]], ValueError, r"layer 2: unknown module 'ShufleNetV2'\. Did you mean ShuffleNetV2"),
    ([-1, 1, "nn.Conv3x3", [64]], ValueError, r"layer 2: unknown module 'nn\.Conv3x3'"),
    ([-1, 1, "ShuffleNetV2", []], ValueError, r"layer 2 \(ShuffleNetV2\): arguments are \[c2, stride, extra_dw\] "),
    ([-1, 1, "ShuffleNetV2", [64, 1, False, 7]], ValueError, r"layer 2 \(ShuffleNetV2\): .*1 to 3 values.*\(4\)"),
    ([-1, 1, "ShuffleNetV2", 64], ValueError, r"layer 2 \(ShuffleNetV2\): arguments are .*not a list"),
    ([-1, 1, "ShuffleNetV2"], ValueError, r"layer 2: a row is \[from, repeats, module, args\]"),
    (
        [-1, 1, "ShuffleNetV2", [64, 3]],
        ValueError,
        r"layer 2 \(ShuffleNetV2 \[64, 64, 3\]\).*stride must be 1 or 2, got 3",
    ),
    ([-1, 1, "ShuffleNetV2", [128, 1]], ValueError, r"layer 2 .*input must have 2 x 64 = 128 channels.*got 64"),
    ([-1, 1, "ShuffleNetV2Stage", [117, 2]], ValueError, r"layer 2 \(ShuffleNetV2Stage .*even integer.*got 117"),
    ([-1, 1, "ShuffleNetV2", ["wide", 1]], TypeError, r"layer 2 \(ShuffleNetV2\): c2 must be an integer, got 'wide'"),
    ([-1, 1, "ShuffleNetV2", [0, 1]], ValueError, r"layer 2 \(ShuffleNetV2\): c2 must be >= 1, got 0"),
    ([-1, 1, "ShuffleNetV2", [64, "two"]], ValueError, r"layer 2 .*stride must be 1 or 2, got 'two'"),
    ([-1, 1, "ShuffleNetV2", [64, 1, "maybe"]], ValueError, r"layer 2 .*extra_dw must be True or False, got 'maybe'"),
    (
        [5, 1, "ShuffleNetV2", [64, 1]],
        ValueError,
        r"layer 2 \(ShuffleNetV2\): 'from' must be one index of an earlier "
        r"layer, -2\.\.1; got 5",
    ),
    ([-3, 1, "ShuffleNetV2", [64, 1]], ValueError, r"layer 2 \(ShuffleNetV2\): 'from' must be .*got -3"),
    ([[0, 1], 1, "ShuffleNetV2", [64, 1]], ValueError, r"layer 2 \(ShuffleNetV2\): 'from' must be one index"),
    ([-1, 0, "ShuffleNetV2", [64, 1]], ValueError, r"layer 2 \(ShuffleNetV2\): repeats must be an integer >= 1, got 0"),
    ([-1, 2, "ShuffleNetV2", [128, 2]], ValueError, r"layer 2 \(ShuffleNetV2\): n=2 chains 2 identical copies"),
    (
        [-1, 1, "ShuffleNetV2Stage", ["stage9", 2]],
        ValueError,
        r"layer 2 \(ShuffleNetV2Stage\): 'stage9' is not "
        r"defined for scale 'n'.*defined there: \['stage2', 'stem'\]",
    ),
    ([-1, 1, "ShuffleNetV2Stage", [128, 0]], ValueError, r"layer 2 .*number of units must be an integer >= 1, got 0"),
    ([-1, 1, "Classifier", ["nc", -5]], ValueError, r"layer 2 \(Classifier .*must be a positive integer, got -5"),
]


@pytest.mark.parametrize(("row", "error", "message"), BAD_ROWS, ids=[str(r[0]) for r in BAD_ROWS])
def test_each_mistake_in_a_plugin_row_names_layer_module_value_and_fix(row: list, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        ClassificationModel(model_dict(row), verbose=False)


def test_a_row_that_is_right_builds_and_runs() -> None:
    model = ClassificationModel(model_dict([-1, 1, "ShuffleNetV2Stage", ["stage2", 2, True]]), verbose=False)
    assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 10)


widths = st.one_of(
    st.integers(-4, 130),
    st.sampled_from(["stem", "stage2", "nope", "nc"]),
    st.booleans(),
    st.floats(0.5, 64),
    st.none(),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from([*PLUGIN_LAYERS, "ShuffleNetV3", "nn.Shuffle"]),
    f=st.one_of(st.integers(-4, 4), st.lists(st.integers(-2, 1), min_size=1, max_size=2)),
    n=st.one_of(st.integers(-1, 3), st.just("2")),
    args=st.one_of(st.lists(widths, max_size=4), widths),
)
def test_any_generated_row_builds_and_runs_or_fails_clearly(name: str, f: object, n: object, args: object) -> None:
    try:
        model = ClassificationModel(model_dict([f, n, name, args]), verbose=False)
    except (ValueError, TypeError) as e:
        assert "layer 2" in str(e), e
        return
    with torch.no_grad():
        assert model.eval()(torch.zeros(1, 3, 64, 64))[0].shape == (1, 10)


def test_activation_override_never_outlives_its_build() -> None:
    stock_act = Conv.default_act
    ClassificationModel(model_dict(activation="nn.ReLU()"), verbose=False)
    assert Conv.default_act is stock_act
    with pytest.raises(ValueError):
        ClassificationModel(model_dict([-1, 1, "ShuffleNetV2", [64, 3]], activation="nn.ReLU()"), verbose=False)
    assert Conv.default_act is stock_act
    assert isinstance(DetectionModel("yolov8n.yaml", verbose=False).model[0].act, nn.SiLU)


def stock_yamls() -> list[str]:
    """Every YOLOv8 / YOLO11 YAML of the installed Ultralytics for detect, segment, pose, obb and classify."""
    root = Path(tasks.__file__).parents[1] / "cfg" / "models"
    paths = sorted((p for d in ("v8", "11") for p in (root / d).glob("yolo*.yaml")), key=lambda p: p.name)
    skip = ("world", "rtdetr", "yoloe")  # other model families: text encoders to download, or not YOLO heads
    # TorchVision layers download their ImageNet weights when built, which cannot happen offline
    return [p.name for p in paths if not any(s in p.name for s in skip) and "TorchVision" not in p.read_text()]


def flat(output: object) -> list[torch.Tensor]:
    if isinstance(output, torch.Tensor):
        return [output]
    if isinstance(output, dict):
        return [t for v in output.values() for t in flat(v)]
    return [t for v in output for t in flat(v)] if isinstance(output, (list, tuple)) else []


@pytest.mark.parametrize("name", stock_yamls())
def test_every_stock_yaml_is_identical_with_the_plugin(name: str) -> None:
    cfg = name.replace("yolov8", "yolov8n", 1).replace("yolo11", "yolo11n", 1)

    def build() -> nn.Module:
        torch.manual_seed(0)
        return YOLO(cfg).model.eval()

    with_plugin = build()
    unregister()
    try:
        stock = build()
    finally:
        register()
    assert [type(m) for m in with_plugin.modules()] == [type(m) for m in stock.modules()]
    a, b = with_plugin.state_dict(), stock.state_dict()
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        for p, q in zip(flat(with_plugin(x)), flat(stock(x))):
            assert torch.equal(p, q)
    assert {"detect", "segment", "pose", "obb", "classify"} >= {YOLO(cfg).task}


def test_stock_yamls_cover_every_task() -> None:
    assert {YOLO(n.replace("yolov8", "yolov8n", 1).replace("yolo11", "yolo11n", 1)).task for n in stock_yamls()} == {
        "detect",
        "segment",
        "pose",
        "obb",
        "classify",
    }


def test_concurrent_builds_and_registration_give_the_sequential_models() -> None:
    cfgs = [
        "yolov8n-shufflenetv2.yaml",
        "yolov8s-shufflenetv2-star.yaml",
        "yolov8n.yaml",
        "yolov8n-cls-shufflenetv2.yaml",
    ]
    rows: dict[str, list[str]] = {}  # summary rows by thread name

    def build(cfg: str) -> list:
        model = (ClassificationModel if "-cls" in cfg else DetectionModel)(cfg, verbose=True)
        return [(n, type(m), [p.shape for p in m.parameters(recurse=False)]) for n, m in model.named_modules()]

    def keep(record: logging.LogRecord) -> None:
        if record.getMessage()[:3].strip().isdigit():
            rows.setdefault(record.threadName, []).append(record.getMessage())

    handler = logging.Handler()
    handler.emit = keep
    tasks.LOGGER.addHandler(handler)
    try:
        sequential = {}
        for cfg in cfgs:
            threading.current_thread().name = f"sequential {cfg}"
            sequential[cfg] = (build(cfg), rows[f"sequential {cfg}"])
        results: dict[str, list] = {}
        errors: list[BaseException] = []

        def work(cfg: str) -> None:
            try:
                register()  # registration racing with builds in other threads
                results[threading.current_thread().name] = build(cfg)
            except BaseException as e:  # noqa: BLE001 - collected and reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=work, args=(cfg,), name=f"{k} {cfg}") for k in range(3) for cfg in cfgs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        tasks.LOGGER.removeHandler(handler)
        threading.current_thread().name = "MainThread"
    assert not errors, errors
    assert len(results) == len(threads)
    for thread, signature in results.items():
        cfg = thread.split(" ", 1)[1]
        assert signature == sequential[cfg][0]
        assert rows[thread] == sequential[cfg][1]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "yolov8n-shufflenetv2.pt"
    YOLO("yolov8n-shufflenetv2.yaml").save(path)
    return path


def test_checkpoint_loads_under_ultralytics_safe_load(checkpoint: Path, tmp_path: Path) -> None:
    code = (
        "import numpy as np\nfrom ultralytics import YOLO\n"
        f"m = YOLO({str(checkpoint)!r})\n"
        "m.predict(np.zeros((64, 64, 3), np.uint8), imgsz=64, verbose=False)\n"
        "print('loaded', type(m.model.model[1]).__name__)"
    )
    out = run(sys.executable, "-c", code, cwd=tmp_path, env={"ULTRALYTICS_SAFE_LOAD": "1"})
    assert out.strip().splitlines()[-1] == "loaded ShuffleNetV2Stage"
    if hasattr(tasks, "_SafeLoad"):  # releases with restricted loading refuse classes nobody allow-listed
        proc = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**os.environ, "ULTRALYTICS_SAFE_LOAD": "1", "ULTRALYTICS_SHUFFLENET_AUTOLOAD": "0"},
        )
        assert proc.returncode != 0 and "outside the supported Ultralytics checkpoint format" in proc.stderr


def test_truncated_checkpoint_gives_a_clear_error(checkpoint: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.pt"
    data = checkpoint.read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    with pytest.raises(Exception, match=r"corrupted") as e:
        YOLO(truncated)
    assert isinstance(e.value, (TypeError, RuntimeError))


def test_checkpoint_without_the_plugin_installed_names_the_package(checkpoint: Path, tmp_path: Path) -> None:
    # An environment with torch and Ultralytics (borrowed as a plain path) but without this plugin.
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=False)
    env_python = str(env_dir / "bin" / "python")
    site = run(env_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).strip()
    (Path(site) / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    code = f"from ultralytics import YOLO\nYOLO({str(checkpoint)!r})"
    proc = subprocess.run([env_python, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    # The import name is the distribution name, so what Ultralytics reports is what to pip install.
    assert proc.returncode != 0 and "No module named 'ultralytics_shufflenet'" in output
    assert "appears to require 'ultralytics_shufflenet'" in output
