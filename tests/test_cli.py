"""The stock ``yolo`` CLI end to end on coco8: train, then predict / val / fine-tune / resume in fresh processes."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from conftest import IMAGENET_FILE, ROOT, builds_here, run, yolo

pytestmark = [pytest.mark.slow, pytest.mark.core]

COMMON = ("data=coco8.yaml", "imgsz=128", "batch=4", "workers=0", "device=cpu", "plots=False")


@pytest.fixture(scope="module")
def trained(datasets_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One smoke training through the stock CLI, from a directory that knows nothing of this project."""
    work = tmp_path_factory.mktemp("cli")
    out = run(
        yolo(),
        "train",
        "model=yolov8n-shufflenetv2.yaml",
        "epochs=2",
        *COMMON,
        f"project={work}",
        "name=smoke",
        cwd=work,
    )
    return work / "smoke" / "weights", out


def test_train_builds_the_shufflenet_model_and_saves_checkpoints(trained: tuple[Path, str]) -> None:
    weights, out = trained
    assert "ultralytics_shufflenet.modules.ShuffleNetV2Stage" in out and "[24, 48, 4]" in out  # true summary rows
    assert "YOLOv8n-shufflenetv2 summary" in out and "2 epochs completed" in out
    assert (weights / "best.pt").is_file() and (weights / "last.pt").is_file()
    losses = re.findall(r"\s2/2\s+\S+\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", out)
    assert losses and all(float(v) > 0 for v in losses[-1])


def test_predict_and_val_from_checkpoint_in_fresh_processes(trained: tuple[Path, str], datasets_dir: Path) -> None:
    weights, _ = trained
    image = next((datasets_dir / "coco8" / "images" / "val").glob("*.jpg"))
    out = run(
        yolo(),
        "predict",
        f"model={weights / 'best.pt'}",
        f"source={image}",
        "imgsz=128",
        "device=cpu",
        f"project={weights.parent}",
        "name=predict",
        "save=True",
        cwd=weights.parent,
    )
    assert "1/1" in out and (weights.parent / "predict" / image.name).is_file()
    out = run(
        yolo(),
        "val",
        f"model={weights / 'best.pt'}",
        *COMMON,
        f"project={weights.parent}",
        "name=val",
        cwd=weights.parent,
    )
    assert re.search(r"\s+all\s+4\s+17\s", out), out[-2000:]


def test_checkpoint_loads_without_the_start_up_hook(trained: tuple[Path, str]) -> None:
    # Unpickling names the plugin's classes, which imports (and so registers) the plugin by itself.
    weights, _ = trained
    code = (
        "import sys\nfrom ultralytics import YOLO\n"
        f"m = YOLO({str(weights / 'best.pt')!r})\n"
        "print(type(m.model.model[1]).__name__, 'ultralytics_shufflenet' in sys.modules)"
    )
    out = run(sys.executable, "-c", code, cwd=weights.parent, env={"ULTRALYTICS_SHUFFLENET_AUTOLOAD": "0"})
    assert out.strip().splitlines()[-1] == "ShuffleNetV2Stage True"


def test_fine_tune_from_checkpoint(trained: tuple[Path, str]) -> None:
    weights, _ = trained
    out = run(
        yolo(),
        "train",
        f"model={weights / 'best.pt'}",
        "epochs=1",
        *COMMON,
        f"project={weights.parent}",
        "name=finetune",
        cwd=weights.parent,
    )
    assert re.search(r"Transferred (\d+)/\1 items", out), out[-3000:]
    assert (weights.parent / "finetune" / "weights" / "best.pt").is_file()


def test_resume_an_interrupted_training(datasets_dir: Path, tmp_path: Path) -> None:
    # Stop after the first of two epochs, as a crash would, leaving last.pt with its optimizer state.
    code = (
        "from ultralytics import YOLO\n"
        "def stop(trainer):\n"
        "    raise KeyboardInterrupt\n"
        "model = YOLO('yolov8n-shufflenetv2.yaml')\n"
        "model.add_callback('on_fit_epoch_end', stop)\n"
        "try:\n"
        "    model.train(epochs=2, "
        f"data='coco8.yaml', imgsz=128, batch=4, workers=0, device='cpu', plots=False, project={str(tmp_path)!r}, "
        "name='run')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
    )
    assert "interrupted" in run(sys.executable, "-c", code, cwd=tmp_path)
    last = tmp_path / "run" / "weights" / "last.pt"
    out = run(yolo(), "train", "resume", f"model={last}", cwd=tmp_path)
    assert "Resuming training" in out and "2/2" in out


def test_classify_fine_tunes_a_converted_imagenet_classifier(datasets_dir: Path, tmp_path: Path) -> None:
    import torch
    import torchvision

    source = tmp_path / "shufflenetv2_x0.5.pth"
    torch.save(torchvision.models.shufflenet_v2_x0_5(weights=None).state_dict(), source)
    converted = tmp_path / "imagenet-cls.pt"
    run(
        sys.executable,
        "-m",
        "ultralytics_shufflenet.convert",
        str(source),
        "--model",
        "yolov8n-cls-shufflenetv2.yaml",
        "--out",
        str(converted),
        cwd=tmp_path,
    )
    log = run(
        yolo(),
        "classify",
        "train",
        f"model={converted}",
        f"data={datasets_dir / 'imagenet10'}",
        "epochs=1",
        "imgsz=32",
        "batch=4",
        "workers=0",
        "device=cpu",
        "plots=False",
        f"project={tmp_path}",
        "name=ft",
        cwd=tmp_path,
    )
    transferred, total = map(int, re.search(r"Transferred (\d+)/(\d+) items", log).groups())
    assert transferred == total - 2  # all but the 1000-way fc weight and bias
    from ultralytics import YOLO

    model = YOLO(tmp_path / "ft" / "weights" / "best.pt")  # ImageNet's 1000-way fc swapped for the 10 classes
    assert model.model.model[-1].linear.out_features == 10 and "goldfish" in model.names.values()


def readme_block(containing: str) -> list[list[str]]:
    """The commands of the README's bash block that contains ``containing``, continuation lines joined."""
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    block = next(b for b in blocks if containing in b)
    lines = block.replace("\\\n", " ").splitlines()
    return [line.split("#")[0].split() for line in lines if line.strip() and not line.startswith("#")]


def test_the_readme_coco_pretraining_commands_run_as_written(datasets_dir: Path, tmp_path: Path) -> None:
    """The COCO recipe of the README, run through the stock trainer on coco8 for one epoch at 64 px on the CPU."""
    import torch
    import torchvision

    convert, pretrain, fine_tune = readme_block("data=coco.yaml")
    config = next(a.split("=", 1)[1] for a in pretrain if a.startswith("model="))
    if not builds_here(re.sub(r"^(yolo(?:v8|11|26))[nslmx]", r"\1", config)):  # the shipped file has no scale letter
        pytest.skip(f"{config} needs a newer Ultralytics")

    source = IMAGENET_FILE
    if not source.is_file():  # the offline ImageNet file, else a stand-in of its shape
        source = tmp_path / "shufflenetv2_x1_0.pth"
        torch.save(torchvision.models.shufflenet_v2_x1_0(weights=None).state_dict(), source)
    small = {"data": "coco8.yaml", "epochs": "1", "imgsz": "64", "batch": "4", "device": "cpu", "workers": "0"}
    assert convert[:3] == ["python", "-m", "ultralytics_shufflenet.convert"] and "--imagenet" in convert
    args = [str(source) if a == "--imagenet" else a for a in convert[3:]]
    run(sys.executable, "-m", "ultralytics_shufflenet.convert", *args, cwd=tmp_path)

    def shrunk(command: list[str]) -> list[str]:
        kept = [a for a in command[1:] if a.split("=")[0] not in small]
        return [yolo(), *kept, *(f"{k}={v}" for k, v in small.items()), "plots=False", f"project={tmp_path}"]

    assert pretrain[0] == "yolo" and "data=coco.yaml" in pretrain
    out = run(*shrunk(pretrain), "name=train", cwd=tmp_path)
    assert re.search(r"Transferred (\d+)/\d+ items", out), out[-3000:]
    best = tmp_path / "train" / "weights" / "best.pt"
    assert best.is_file()
    assert fine_tune[:2] == ["yolo", "train"] and fine_tune[2] == "model=runs/detect/train/weights/best.pt"
    run(*shrunk([fine_tune[0], fine_tune[1], f"model={best}", *fine_tune[3:]]), "name=finetune", cwd=tmp_path)
    assert (tmp_path / "finetune" / "weights" / "best.pt").is_file()
