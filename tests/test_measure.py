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
