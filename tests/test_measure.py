"""bench/measure.py helpers that need no runtime: where exports are kept, which runtimes this machine has."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import measure


def test_trained_weights_with_the_same_file_name_get_their_own_exports(tmp_path: Path) -> None:
    # every trained model is called last.pt: sharing an export folder would time one model in place of the others
    a, b = tmp_path / "a" / "last.pt", tmp_path / "b" / "last.pt"
    for path in (a, b):
        path.parent.mkdir()
        path.write_bytes(b"")
    onnx = measure.RUNTIMES["onnxruntime"]
    folders = {measure.export_folder(str(p), onnx, 320, tmp_path / "exports") for p in (a, b)}
    assert len(folders) == 2
    assert measure.export_folder(str(a), onnx, 320, tmp_path) == measure.export_folder(str(a), onnx, 320, tmp_path)
    # a config name keeps a readable, stable folder, so benchmark reruns reuse their exports
    assert measure.export_folder("yolo11n.yaml", onnx, 640, tmp_path) == tmp_path / "yolo11n-yaml-onnxruntime-640"


def test_installed_runtimes_are_the_runtimes_whose_package_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    found = measure.installed_runtimes()
    assert "onnxruntime" in found and set(found) <= set(measure.RUNTIMES)  # the test extras install ONNX Runtime
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "ncnn" else real(name))
    assert "ncnn" not in measure.installed_runtimes()


@pytest.mark.slow
def test_a_config_given_by_relative_path_exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the export runs in its own working directory, where the user's relative path does not lead
    import ultralytics

    stock = Path(ultralytics.__file__).parent / "cfg" / "models" / "11" / "yolo11.yaml"
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "yolo11n-mine.yaml").write_text(stock.read_text())
    monkeypatch.chdir(tmp_path)
    onnx = measure.RUNTIMES["onnxruntime"]
    path = measure.exported("configs/yolo11n-mine.yaml", onnx, 64, tmp_path / "exports")
    assert path.is_file() and path.suffix == ".onnx" and path.is_relative_to(tmp_path / "exports")
