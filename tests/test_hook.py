"""The start-up hook: fresh processes see the plugin without importing it, and start-up stays cheap and safe."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import ROOT, fresh_venv, run

HOOK_FILES = ("_ultralytics_shufflenet_hook.py", "ultralytics_shufflenet.pth")


def python(code: str, cwd: Path, **env: str) -> str:
    return run(sys.executable, "-c", code, cwd=cwd, env=env)


def test_hook_is_installed_in_site_packages() -> None:
    site = Path(sysconfig.get_paths()["purelib"])
    assert all((site / name).is_file() for name in HOOK_FILES)


def test_start_up_imports_neither_torch_nor_ultralytics(tmp_path: Path) -> None:
    out = python(
        "import sys; print(sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'ultralytics', "
        "'ultralytics_shufflenet', 'numpy', 'cv2'}))",
        tmp_path,
    )
    assert out.strip() == "[]"
    assert "_ultralytics_shufflenet_hook" in python("import sys; print(list(sys.modules))", tmp_path)


def test_fresh_process_builds_plugin_yaml_through_the_stock_api(tmp_path: Path) -> None:
    # What a multi-GPU DDP worker does: rebuild the model from its YAML, with no plugin import in sight.
    out = python(
        "import sys\n"
        "from ultralytics.nn.tasks import DetectionModel\n"
        "m = DetectionModel('yolov8n-shufflenetv2.yaml', verbose=False)\n"
        "print(type(m.model[1]).__name__, m.stride.tolist(), 'ultralytics_shufflenet' in sys.modules)",
        tmp_path,
    )
    assert out.strip().splitlines()[-1] == "ShuffleNetV2Stage [8.0, 16.0, 32.0] True"


@pytest.mark.parametrize("first", ["ultralytics", "ultralytics.nn.tasks", "ultralytics.engine.exporter"])
def test_plugin_loads_whole_whichever_ultralytics_module_comes_first(tmp_path: Path, first: str) -> None:
    # Ultralytics 8.3 imports the model builder from inside its half-initialised ultralytics.data, and a script may
    # start with the exporter: either way the plugin must load, builder and exporter wrapped, without a warning.
    out = python(
        f"import {first}\n"
        "from ultralytics.engine.exporter import Exporter\n"
        "from ultralytics.nn import tasks\n"
        "print(hasattr(tasks.parse_model, '__wrapped__'), hasattr(Exporter.__call__, '__wrapped__'))",
        tmp_path,
    )
    assert out.strip().splitlines()[-1] == "True True" and "was not loaded" not in out


def test_opt_out_leaves_ultralytics_stock(tmp_path: Path) -> None:
    out = python(
        "import sys\nfrom ultralytics.nn import tasks\n"
        "print('ultralytics_shufflenet' in sys.modules, hasattr(tasks.parse_model, '__wrapped__'))",
        tmp_path,
        ULTRALYTICS_SHUFFLENET_AUTOLOAD="0",
    )
    assert out.strip().splitlines()[-1] == "False False"


def test_broken_ultralytics_or_plugin_never_breaks_start_up(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    (broken / "ultralytics").mkdir(parents=True)
    (broken / "ultralytics" / "__init__.py").write_text("raise RuntimeError('broken ultralytics')\n")
    proc = subprocess.run(
        [sys.executable, "-c", "print('started')"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(broken), "PATH": ""},
    )
    assert proc.returncode == 0 and proc.stdout == "started\n" and proc.stderr == ""

    plugin = tmp_path / "broken_plugin"
    (plugin / "ultralytics_shufflenet").mkdir(parents=True)
    (plugin / "ultralytics_shufflenet" / "__init__.py").write_text("raise ImportError('broken plugin')\n")
    out = python("import ultralytics.nn.tasks; print('stock builder works')", tmp_path, PYTHONPATH=str(plugin))
    assert "stock builder works" in out and "ultralytics-shufflenet was not loaded: ImportError: broken plugin" in out


@pytest.mark.slow
@pytest.mark.core
def test_start_up_without_ultralytics_or_torch_installed(tmp_path: Path) -> None:
    bare_python, site = fresh_venv(tmp_path / "bare", borrow=False)
    for name in HOOK_FILES:
        (site / name).write_bytes((ROOT / name).read_bytes())
    out = run(str(bare_python), "-c", "import sys; print('_ultralytics_shufflenet_hook' in sys.modules)", cwd=tmp_path)
    assert out == "True\n"
