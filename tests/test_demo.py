"""README's main job (scripts/demo.sh) on a shortened schedule, in the suite's .venv: ImageNet start from the
offline file, or a clear message and a from-scratch run when no ImageNet weights can be had; a picture of its
predictions either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import IMAGENET_FILE, ROOT, needs_imagenet_file, run

pytestmark = pytest.mark.slow


def demo(tmp_path: Path, **env: str) -> str:
    environment = {
        "RUNS_DIR": str(tmp_path / "runs"),
        "TORCH_HOME": str(tmp_path / "torch"),  # torchvision's file is not in this cache, and cannot be fetched here
        "DEMO_EPOCHS": "1",
        "DEMO_FRACTION": "0.03",
        "YOLO_CONFIG_DIR": str(tmp_path / "config"),
        "SKIP_SETUP": "1",  # scripts/test.sh ran setup.sh before the suite; other tests use .venv meanwhile
        **env,
    }
    return run("bash", str(ROOT / "scripts" / "demo.sh"), cwd=tmp_path, env=environment, timeout=1200)


@needs_imagenet_file
def test_demo_starts_from_imagenet_and_saves_a_picture_of_its_predictions(tmp_path: Path) -> None:
    out = demo(tmp_path, IMAGENET_WEIGHTS=str(IMAGENET_FILE))
    assert "with 246 tensors from" in out and "Transferred 480/486 items from pretrained weights" in out
    assert (tmp_path / "runs" / "demo" / "weights" / "best.pt").is_file()
    assert (tmp_path / "runs" / "demo-predictions.jpg").stat().st_size > 10_000
    assert out.count(".jpg: ") == 4 and out.count("labels: ") == 4  # what it found on each photo, against its labels


def test_demo_without_imagenet_weights_says_so_and_trains_from_scratch(tmp_path: Path) -> None:
    out = demo(tmp_path, IMAGENET_WEIGHTS=str(tmp_path / "missing.pth"))
    assert "cannot fetch torchvision's ShuffleNet V2 1.0x ImageNet weights" in out
    assert "No ImageNet weights" in out and "Training from scratch" in out and "Transferred" not in out
    assert (tmp_path / "runs" / "demo-predictions.jpg").is_file()
