"""``pip install .`` and ``pip install -e .`` both ship the YAMLs and the start-up hook, usable from any directory."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, fresh_venv, run

pytestmark = pytest.mark.slow


def test_wheel_carries_package_configs_and_hook(tmp_path: Path) -> None:
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        str(tmp_path),
        str(ROOT),
        cwd=tmp_path,
    )
    names = zipfile.ZipFile(next(tmp_path.glob("ultralytics_shufflenet-*.whl"))).namelist()
    for name in (
        "ultralytics_shufflenet/__init__.py",
        "ultralytics_shufflenet/cfg/models/yolov8-shufflenetv2.yaml",
        "_ultralytics_shufflenet_hook.py",
        "ultralytics_shufflenet.pth",
    ):
        assert name in names
    assert not any(name.startswith(("tests/", "scripts/", "bench/", "cfg/")) for name in names)


@pytest.mark.parametrize("editable", [False, True], ids=["install", "editable"])
def test_install_then_build_by_bare_name_elsewhere(tmp_path: Path, editable: bool) -> None:
    # A fresh environment that borrows this one's packages (torch, ultralytics) as plain paths, so this
    # environment's own plugin install and start-up hook stay out of it.
    env_dir = tmp_path / "env"
    env_python, _ = fresh_venv(env_dir)
    source = [str(ROOT)] if not editable else ["-e", str(ROOT)]
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        env_python,
        "install",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        *source,
        cwd=tmp_path,
    )
    code = (
        "from ultralytics import YOLO\n"
        "import ultralytics_shufflenet as p\n"
        "from ultralytics_shufflenet.configs import CONFIG_DIR\n"
        "m = YOLO('yolov8s-shufflenetv2.yaml')\n"
        "print(m.model.model[1][0].branch2[0].conv.out_channels, p.__file__, CONFIG_DIR)"
    )
    width, package, configs = run(env_python, "-c", code, cwd=tmp_path).strip().splitlines()[-1].split()
    home = ROOT if editable else env_dir
    assert width == "58" and Path(package).is_relative_to(home) and Path(configs).is_relative_to(home)
