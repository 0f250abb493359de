"""Faithful to the paper: torchvision's ShuffleNet V2 weights give torchvision's features in our models."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from ultralytics import YOLO
from ultralytics.nn.tasks import ClassificationModel, DetectionModel

from bench.models import task_of
from conftest import TASK_DATA, run, yolo
from ultralytics_shufflenet import ShuffleNetV2Stage
from ultralytics_shufflenet.convert import main as convert
from ultralytics_shufflenet.weights import convert_state_dict, torchvision_names
from ultralytics_shufflenet.widths import SCALES, WIDE_SCALES

SCALE_OF_EACH_WIDTH = ("n", "s", "m", "l")  # one model scale per published width


def torchvision_builder(scale: str) -> Callable[..., nn.Module]:
    """torchvision's constructor for the scale's width, e.g. shufflenet_v2_x1_0 for 1.0x."""
    return getattr(torchvision.models, f"shufflenet_v2_x{SCALES[scale].name[:-1].replace('.', '_')}")


def torchvision_model(scale: str, seed: int = 0) -> nn.Module:
    """Random weights (nothing is downloaded) with BatchNorm statistics measured on data, as trained ones are:
    activations stay at a realistic scale, and a wrong epsilon or a swapped tensor shows."""
    torch.manual_seed(seed)
    model = torchvision_builder(scale)(weights=None)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(8, 3, 64, 64))
    return model.eval()


def torchvision_features(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    x = model.maxpool(model.conv1(x))
    out = []
    for stage in (model.stage2, model.stage3, model.stage4):
        x = stage(x)
        out.append(x)
    return out


def converted_detector(scale: str, tv: nn.Module, cfg: str = "yolov8{}-shufflenetv2.yaml") -> DetectionModel:
    model = DetectionModel(cfg.format(scale), verbose=False)
    model.load_state_dict(convert_state_dict(model, tv.state_dict()))
    return model.eval()


def our_features(model: DetectionModel, x: torch.Tensor) -> list[torch.Tensor]:
    x = model.model[0](x)
    out = []
    for i in (1, 2, 3):
        x = model.model[i](x)
        out.append(x)
    return out


@pytest.mark.parametrize("scale", SCALE_OF_EACH_WIDTH)
def test_backbone_reproduces_torchvision_stages(scale: str) -> None:
    tv = torchvision_model(scale)
    ours = converted_detector(scale, tv)
    backbone_bn = [m for i in range(4) for m in ours.model[i].modules() if isinstance(m, nn.BatchNorm2d)]
    head_bn = [m for m in ours.model[4:].modules() if isinstance(m, nn.BatchNorm2d)]
    assert {m.eps for m in backbone_bn} == {1e-5} and {m.eps for m in head_bn} == {1e-3}  # survives Ultralytics' reset
    with torch.no_grad():
        for shape in ((2, 3, 224, 224), (3, 3, 160, 288)):
            x = torch.randn(shape)
            for a, b in zip(our_features(ours, x), torchvision_features(tv, x)):
                assert a.shape == b.shape
                assert (a - b).abs().max().item() <= 1e-5
    backbone = sum(p.numel() for i in range(4) for p in ours.model[i].parameters())
    reference = sum(p.numel() for part in (tv.conv1, tv.stage2, tv.stage3, tv.stage4) for p in part.parameters())
    assert backbone == reference


def test_a_backbone_that_stops_after_stage_3_takes_torchvisions_first_two_stages() -> None:
    import yaml

    from ultralytics_shufflenet.configs import CONFIG_DIR

    cfg = yaml.safe_load((CONFIG_DIR / "yolo11-shufflenetv2-wide.yaml").read_text())
    cfg["backbone"][3] = [-1, 1, "Conv", [256, 3, 2]]  # P5 from a stride-2 conv on stage 3, instead of stage 4
    model = DetectionModel(cfg, verbose=False)
    tv = torchvision_model("s")
    model.load_state_dict(convert_state_dict(model, tv.state_dict()))
    names = torchvision_names(model)
    assert {k.split(".")[0] for k in names.values()} == {"conv1", "stage2", "stage3"} and len(names) == 246
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        ours = model.eval().model[2](model.model[1](model.model[0](x)))
        assert (ours - tv.stage3(tv.stage2(tv.maxpool(tv.conv1(x))))).abs().max().item() <= 1e-5


def test_ultralytics_epsilon_would_change_the_imagenet_features() -> None:
    # Why the backbone keeps eps=1e-5: with the 1e-3 Ultralytics gives plain BatchNorms, features drift.
    tv = torchvision_model("n")
    ours = converted_detector("n", tv)
    for m in ours.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps = 1e-3
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        assert (our_features(ours, x)[-1] - torchvision_features(tv, x)[-1]).abs().max().item() > 1e-3


@pytest.mark.parametrize("scale", SCALE_OF_EACH_WIDTH)
def test_classifier_reproduces_torchvision_logits_and_paper_flops(scale: str) -> None:
    tv = torchvision_model(scale)
    ours = ClassificationModel(f"yolov8{scale}-cls-shufflenetv2.yaml", verbose=False)
    ours.load_state_dict(convert_state_dict(ours, tv.state_dict()))
    ours.eval()
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in tv.parameters())
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        probabilities, logits = ours(x)
        expected = tv(x)
    assert (logits - expected).abs().max().item() <= 1e-4
    torch.testing.assert_close(probabilities, expected.softmax(1))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        ours(torch.zeros(1, 3, 224, 224))
    mflops = counter.get_total_flops() / 2 / 1e6  # multiply-adds, as the paper counts
    assert mflops == pytest.approx(SCALES[scale].mflops, rel=0.05)


def test_v2_star_adds_one_depthwise_conv_per_branch_and_shares_every_other_layer() -> None:
    plain = DetectionModel("yolov8s-shufflenetv2.yaml", verbose=False)
    star = DetectionModel("yolov8s-shufflenetv2-star.yaml", verbose=False)
    extra = [n for n, _ in star.named_modules() if n.endswith("extra_dw")]
    units = sum(len(m) for m in star.modules() if isinstance(m, ShuffleNetV2Stage))
    assert len(extra) == units + 3  # one per branch: two in each stride-2 unit, one in each stride-1 unit
    tv = torchvision_model("s")
    converted = converted_detector("s", tv)
    names = torchvision_names(converted)
    star_converted = converted_detector("s", tv, "yolov8{}-shufflenetv2-star.yaml")
    assert torchvision_names(star_converted) == names  # every layer the two share loads from the same tensor
    star.load(converted)  # what pretrained=OUT.pt does
    for key in names:
        assert torch.equal(star.state_dict()[key], converted.state_dict()[key])
    delta = sum(p.numel() for p in star.parameters()) - sum(p.numel() for p in plain.parameters())
    assert delta == sum(p.numel() for n in extra for p in star.get_submodule(n).parameters()) > 0


@pytest.fixture(scope="module")
def torchvision_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tv") / "shufflenetv2_x0.5-f707e7126e.pth"
    torch.save(torchvision_model("n").state_dict(), path)
    return path


def bad_file(tmp_path: Path, torchvision_file: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.pth"
    if kind == "resnet":
        torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    elif kind == "truncated":
        data = torchvision_file.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "missing":
        state_dict = torch.load(torchvision_file, weights_only=True)
        del state_dict["stage3.2.branch2.3.weight"]
        torch.save(state_dict, path)
    return path


@pytest.mark.parametrize(
    ("kind", "model", "message"),
    [
        ("resnet", "yolov8n-shufflenetv2.yaml", r"not a torchvision ShuffleNet V2 state dict: expected keys like"),
        ("truncated", "yolov8n-shufflenetv2.yaml", r"cannot be read as a torch file, is it truncated\?"),
        ("missing", "yolov8n-shufflenetv2.yaml", r"lacks 1 tensor\(s\) the model needs: stage3\.2\.branch2\.3\.weight"),
        (
            None,
            "yolov8s-shufflenetv2.yaml",
            r"needs ShuffleNet V2 1\.0x \(stage 2/3/4 channels 116/232/464\), "
            r"the file holds 0\.5x \(48/96/192\)",
        ),
    ],
)
def test_converter_errors_name_the_problem_and_write_nothing(
    tmp_path: Path, torchvision_file: Path, capsys: pytest.CaptureFixture, kind: str | None, model: str, message: str
) -> None:
    source = bad_file(tmp_path, torchvision_file, kind) if kind else torchvision_file
    out = tmp_path / "out.pt"
    assert convert([str(source), "--model", model, "--out", str(out)]) == 1
    assert re.search(message, capsys.readouterr().err)
    assert list(tmp_path.glob("out.pt*")) == []


def test_imagenet_flag_fetches_through_torchvision_and_reads_its_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    width = WIDE_SCALES["n"]  # the -wide n config has the 1.0x backbone
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    out = tmp_path / "out.pt"
    args = ["--imagenet", "--model", "yolo11n-shufflenetv2-wide.yaml", "--out", str(out)]
    # offline, nothing cached: the error names the URL, where the file would be cached and the manual path
    assert convert(args) == 1
    err = capsys.readouterr().err
    cached = tmp_path / "torch" / "hub" / "checkpoints" / width.weights_file
    assert f"cannot fetch torchvision's ShuffleNet V2 1.0x ImageNet weights from {width.weights_url}" in err
    assert f"place it at {cached}" in err and "python -m ultralytics_shufflenet.convert shufflenetv2_x1" in err
    assert not out.exists()
    # torchvision's file in torch's cache (as a first download leaves it) is what --imagenet converts
    cached.parent.mkdir(parents=True, exist_ok=True)
    tv = torchvision_model("s")
    torch.save(tv.state_dict(), cached)
    assert convert(args) == 0 and "with 330 tensors from https://download.pytorch.org" in capsys.readouterr().out
    model = YOLO(out).model.float().eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(our_features(model, x), torchvision_features(tv, x)):
            assert (a - b).abs().max().item() <= 1e-5


def test_imagenet_flag_and_a_file_are_one_or_the_other(capsys: pytest.CaptureFixture) -> None:
    for args, message in (
        ([], "one of the arguments weights --imagenet is required"),
        (["x.pth", "--imagenet"], "not allowed with argument"),
    ):
        with pytest.raises(SystemExit):
            convert([*args, "--model", "yolo11n-shufflenetv2-wide.yaml", "--out", "out.pt"])
        assert message in capsys.readouterr().err


def convert_for(config: str, torchvision_file: Path, folder: Path) -> Path:
    out = folder / f"{Path(config).stem}-imagenet.pt"
    run(
        sys.executable, "-m", "ultralytics_shufflenet.convert", str(torchvision_file), "--model", config,
        "--out", str(out), cwd=folder,
    )  # fmt: skip
    return out


# One config per task and head family (the variants share the backbone, so they convert the same way).
TRANSFER_CONFIGS = [
    "yolov8n-seg-shufflenetv2.yaml",
    "yolov8n-pose-shufflenetv2.yaml",
    "yolov8n-obb-shufflenetv2.yaml",
    "yolo11n-shufflenetv2.yaml",
    "yolo11n-seg-shufflenetv2.yaml",
    "yolo11n-pose-shufflenetv2.yaml",
    "yolo11n-obb-shufflenetv2-pan.yaml",
    "yolo26n-seg-shufflenetv2.yaml",  # YOLO26: both head branches transfer too
]


@pytest.mark.slow
@pytest.mark.parametrize("config", TRANSFER_CONFIGS)
def test_converter_serves_every_task_and_head_family_through_the_stock_trainer(
    config: str, tmp_path: Path, torchvision_file: Path, datasets_dir: Path
) -> None:
    task = task_of(config)
    out = convert_for(config, torchvision_file, tmp_path)
    log = run(
        yolo(), task, "train", f"model={config}", f"pretrained={out}", f"data={TASK_DATA[task][1]}", "epochs=1",
        "imgsz=64", "batch=4", "workers=0", "device=cpu", "plots=False", "val=False", f"project={tmp_path}",
        "name=pre", cwd=tmp_path,
    )  # fmt: skip
    transferred, total = map(int, re.search(r"Transferred (\d+)/(\d+) items", log).groups())
    assert transferred >= 330  # the whole backbone
    # ... and every other tensor, but the class outputs (weight and bias at 3 levels) if the data set's class count
    # differs from the YAML's (dota8: 15, coco8-pose: 1, coco8 and coco8-seg: 80)
    classes_differ = YOLO(config).model.yaml["nc"] != {"detect": 80, "segment": 80, "pose": 1, "obb": 15}[task]
    assert total - transferred == (6 if classes_differ else 0)


@pytest.mark.slow
def test_converted_checkpoint_transfers_the_whole_backbone_in_stock_training(
    tmp_path: Path, torchvision_file: Path, datasets_dir: Path
) -> None:
    out = convert_for("yolov8n-shufflenetv2.yaml", torchvision_file, tmp_path)
    log = run(
        yolo(), "train", "model=yolov8n-shufflenetv2.yaml", f"pretrained={out}", "data=coco8.yaml", "epochs=1",
        "imgsz=64", "batch=4", "workers=0", "device=cpu", "plots=False", "val=False", f"project={tmp_path}",
        "name=pre", cwd=tmp_path,
    )  # fmt: skip
    transferred, total = map(int, re.search(r"Transferred (\d+)/(\d+) items", log).groups())
    backbone = len(torchvision_names(DetectionModel("yolov8n-shufflenetv2.yaml", verbose=False)))
    assert transferred == total and transferred >= backbone == 330

    # The transferred backbone is torchvision's network, features and all, before any training step. (Checked through
    # the Python API, which passes pretrained= on to the trainer from Ultralytics 8.4; 8.3.100 ignores it there.)

    seen = {}
    model = YOLO("yolov8n-shufflenetv2.yaml")
    model.add_callback("on_pretrain_routine_end", lambda trainer: seen.update(model=trainer.model))
    model.add_callback("on_train_batch_start", lambda trainer: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        model.train(
            data=str(datasets_dir / "coco8" / "coco8.yaml"),
            pretrained=str(out),
            epochs=1,
            imgsz=64,
            batch=4,
            workers=0,
            device="cpu",
            plots=False,
            project=str(tmp_path),
            name="check",
        )
    tv = torchvision_model("n")
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        ours = our_features(seen["model"].float().eval(), x)
        for a, b in zip(ours, torchvision_features(tv, x)):
            assert (a - b).abs().max().item() <= 1e-5
