"""Registration with Ultralytics' model builder: stock treatment of plugin rows, no trace on stock models, threads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import yaml
from torch import nn
from ultralytics import YOLO
from ultralytics.nn import tasks
from ultralytics.nn.modules import Conv
from ultralytics.nn.tasks import ClassificationModel, DetectionModel, yaml_model_load
from ultralytics.utils import LOGGER
from ultralytics.utils.ops import make_divisible

import ultralytics_shufflenet
from conftest import captured_log
from ultralytics_shufflenet import PLUGIN_LAYERS, Conv_maxpool, ShuffleNetV2, compat, register, unregister

STOCK_PARSE_MODEL = tasks.parse_model.__wrapped__

# The YAML shape copied around in blog posts: Conv-like widths, one row per unit or per run of stride-1 units.
BLOG_YAML = """
nc: 80
scales:
  n: [0.33, 0.25, 1024]
  s: [0.33, 0.50, 1024]
  l: [1.00, 1.00, 512]
backbone:
  - [-1, 1, {stem}, [24]] # 0-P2/4
  - [-1, 1, {unit}, [116, 2]] # 1-P3/8
  - [-1, 3, {unit}, [116, 1]] # 2
  - [-1, 1, {unit}, [232, 2]] # 3-P4/16
  - [-1, 7, {unit}, [232, 1]] # 4
  - [-1, 1, {unit}, [1024, 2]] # 5-P5/32
  - [-1, 1, SPPF, [1024, 5]] # 6
head:
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 4], 1, Concat, [1]]
  - [-1, 1, C2f, [256]] # 9
  - [[2, 9, 6], 1, Detect, [nc]]
"""


TINY_CLASSIFIER = {
    "nc": 10,
    "scales": {"n": [1.0, 1.0, 1024]},
    "backbone": [[-1, 1, "Conv_maxpool", [32]], [-1, 1, "ShuffleNetV2", [64, 2]]],
    "head": [[-1, 1, "Classify", ["nc"]]],
}


def blog_yaml(tmp_path: Path, stem: str = "Conv_maxpool", unit: str = "ShuffleNetV2", scale: str = "n") -> str:
    path = tmp_path / f"yolov8{scale}-blog-{stem}.yaml"
    path.write_text(BLOG_YAML.format(stem=stem, unit=unit))
    return str(path)


@pytest.fixture
def registered() -> Iterator[None]:
    register()
    yield
    register()  # leave the session as the package import left it


def build(cfg: str | dict, seed: int = 0) -> DetectionModel:
    torch.manual_seed(seed)
    return DetectionModel(cfg, verbose=False)


def test_import_registers_and_register_is_idempotent(registered: None) -> None:
    assert ultralytics_shufflenet.is_registered()
    wrapper = tasks.parse_model
    register()
    register()
    assert tasks.parse_model is wrapper and tasks.parse_model.__wrapped__ is STOCK_PARSE_MODEL
    assert LOGGER.filters.count(compat.SUMMARY) == 1


def test_unregister_restores_the_stock_builder_exactly(registered: None) -> None:
    filters = [f for f in LOGGER.filters if f is not compat.SUMMARY]
    unregister()
    unregister()
    assert tasks.parse_model is STOCK_PARSE_MODEL
    assert tasks.check_yaml is compat.STOCK_CHECK_YAML
    assert LOGGER.filters == filters
    with pytest.raises(FileNotFoundError):
        build("yolov8n-shufflenetv2.yaml")
    register()
    assert build("yolov8n-shufflenetv2.yaml").stride.tolist() == [8, 16, 32]


def test_concurrent_registration_wraps_once(registered: None) -> None:
    unregister()
    threads = [threading.Thread(target=register) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tasks.parse_model.__wrapped__ is STOCK_PARSE_MODEL
    assert LOGGER.filters.count(compat.SUMMARY) == 1


@pytest.mark.parametrize("cfg", ["yolov8n.yaml", "yolov8s.yaml", "yolo11n.yaml"])
def test_stock_yamls_are_bit_identical_with_and_without_the_plugin(cfg: str, registered: None) -> None:
    with captured_log() as with_plugin_log:
        torch.manual_seed(0)
        with_plugin = DetectionModel(cfg, verbose=True)
    unregister()
    with captured_log() as stock_log:
        torch.manual_seed(0)
        stock = DetectionModel(cfg, verbose=True)
    register()
    assert with_plugin_log == stock_log  # same summary, row by row
    assert [type(m) for m in with_plugin.modules()] == [type(m) for m in stock.modules()]
    a, b = with_plugin.state_dict(), stock.state_dict()
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        torch.testing.assert_close(with_plugin.eval()(x)[0], stock.eval()(x)[0], rtol=0, atol=0)


def test_summary_rows_name_the_real_layers_and_resolved_arguments(registered: None) -> None:
    with captured_log() as lines:
        DetectionModel("yolov8s-shufflenetv2.yaml", verbose=True)
    rows = [line for line in lines if line[:3].strip().isdigit()]
    assert len(rows) == 18 and not any("HGStem" in r for r in rows)
    assert "ultralytics_shufflenet.modules.Conv_maxpool" in rows[0] and rows[0].endswith("[3, 24]".ljust(30))
    assert "ultralytics_shufflenet.modules.ShuffleNetV2Stage" in rows[1] and "[24, 116, 4]" in rows[1]
    assert "[116, 232, 8]" in rows[2] and "[232, 464, 4]" in rows[3] and "[464, 512, 5]" in rows[4]
    model = DetectionModel("yolov8s-shufflenetv2.yaml", verbose=False)
    assert int(rows[1].split()[3]) == model.model[1].np == sum(p.numel() for p in model.model[1].parameters())


@pytest.mark.parametrize("scale", ["n", "s", "l"])
def test_blog_names_scale_like_a_stock_conv(tmp_path: Path, scale: str, registered: None) -> None:
    depth, width, max_channels = yaml.safe_load(BLOG_YAML.format(stem="x", unit="y"))["scales"][scale]
    model = build(blog_yaml(tmp_path, scale=scale)).model

    def c2(c: int) -> int:
        return make_divisible(min(c, max_channels) * width, 8)

    assert isinstance(model[0], Conv_maxpool) and model[0].conv.conv.out_channels == c2(24)
    assert isinstance(model[1], ShuffleNetV2) and model[1].branch1[0].conv.in_channels == c2(24)
    assert model[5].branch2[2].conv.out_channels * 2 == c2(1024)
    for i, n in ((2, 3), (4, 7)):  # depth gain as for stock layers: n = max(round(n * depth), 1)
        copies = max(round(n * depth), 1)
        assert (len(model[i]) if isinstance(model[i], nn.Sequential) else 1) == copies
        assert model[i].i == i and model[i].f == -1
    assert model[0].type == "ultralytics_shufflenet.modules.Conv_maxpool"


def test_other_fork_spelling_builds_the_same_model(tmp_path: Path, registered: None) -> None:
    ours = build(blog_yaml(tmp_path))
    fork = build(blog_yaml(tmp_path, stem="CBRM", unit="Shuffle_Block"))
    a, b = ours.state_dict(), fork.state_dict()
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    assert {PLUGIN_LAYERS[n].module for n in ("CBRM", "Shuffle_Block")} == {Conv_maxpool, ShuffleNetV2}


def test_from_indices_reach_plugin_layers_anywhere(registered: None) -> None:
    d = yaml.safe_load(BLOG_YAML.format(stem="Conv_maxpool", unit="ShuffleNetV2"))
    d["scale"] = "s"
    d["head"].insert(3, [0, 1, "ShuffleNetV2", [64, 2]])  # layer 10 reads layer 0, not its predecessor
    d["head"][-1] = [[2, 9, 10], 1, "Detect", ["nc"]]
    model = build(d)
    assert model.model[10].f == 0 and model.model[10].branch1[0].conv.in_channels == 16  # layer 0: 24 x 0.5 -> 16
    assert model.model[11].f == [2, 9, 10]
    assert model(torch.zeros(1, 3, 64, 64))


def test_activation_override_never_outlives_its_build() -> None:
    stock_act = Conv.default_act
    ClassificationModel(TINY_CLASSIFIER | {"activation": "nn.ReLU()"}, verbose=False)
    assert Conv.default_act is stock_act
    with pytest.raises(ValueError):
        bad = [*TINY_CLASSIFIER["backbone"], [-1, 1, "ShuffleNetV2", [64, 3]]]
        ClassificationModel(TINY_CLASSIFIER | {"activation": "nn.ReLU()", "backbone": bad}, verbose=False)
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
    LOGGER.addHandler(handler)
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
        LOGGER.removeHandler(handler)
        threading.current_thread().name = "MainThread"
    assert not errors, errors
    assert len(results) == len(threads)
    for thread, signature in results.items():
        cfg = thread.split(" ", 1)[1]
        assert signature == sequential[cfg][0]
        assert rows[thread] == sequential[cfg][1]


# Configs whose heads differ in reg_max and end2end; YOLO26's need Ultralytics 8.4 (CI's oldest release is 8.3).
yolo26_head = pytest.mark.skipif(compat.older_than("8.4.0"), reason="the YOLO26 head came with Ultralytics 8.4.0")
BOX_CONFIGS = [
    pytest.param("yolo26n-shufflenetv2-slim.yaml", 64, marks=yolo26_head),  # end2end, reg_max 1: 16 -> 64
    pytest.param("yolo26n.yaml", 64, marks=yolo26_head),
    pytest.param("yolo11n-shufflenetv2-pan.yaml", 128),  # reg_max 16: 64 -> 128
]


def with_box_channels(cfg: str, channels: object) -> dict:
    d = yaml_model_load(cfg)
    d["box_channels"] = channels
    return d


def box_widths(branches: nn.ModuleList) -> list[int]:
    """Output widths of the two 3x3 convs of each level's box branch."""
    return [branch[i].conv.out_channels for branch in branches for i in (0, 1)]


@pytest.mark.parametrize("cfg, channels", BOX_CONFIGS)
def test_box_channels_widens_every_box_branch_and_keeps_the_dfl(cfg: str, channels: int, registered: None) -> None:
    stock_head = build(cfg).model[-1]
    assert max(box_widths(stock_head.cv2)) < channels
    model = build(with_box_channels(cfg, channels))
    head = model.model[-1]
    assert box_widths(head.cv2) == [channels] * 6
    assert [b[0].conv.in_channels for b in head.cv2] == [b[0].conv.in_channels for b in stock_head.cv2]
    assert [b[-1].out_channels for b in head.cv2] == [4 * stock_head.reg_max] * 3 and head.reg_max == stock_head.reg_max
    assert type(head.dfl) is type(stock_head.dfl)
    assert head.cv3[0][0][1].conv.out_channels == stock_head.cv3[0][0][1].conv.out_channels  # class branch untouched
    one_to_one = getattr(stock_head, "one2one_cv2", None) is not None
    assert (getattr(head, "one2one_cv2", None) is not None) == one_to_one
    if one_to_one:  # its own copy of the new branch, as stock's deep copy gives
        assert box_widths(head.one2one_cv2) == [channels] * 6 and head.one2one_cv2[0][0] is not head.cv2[0][0]
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        assert model.eval()(x)[0].shape == build(cfg).eval()(x)[0].shape


@pytest.mark.parametrize(
    "cfg",
    [
        "yolo11n-seg-shufflenetv2-pan.yaml",
        "yolo11n-pose-shufflenetv2-pan.yaml",
        "yolo11n-obb-shufflenetv2-pan.yaml",
        pytest.param("yolo26n-pose-shufflenetv2-slim.yaml", marks=yolo26_head),
    ],
)
def test_box_channels_widens_the_box_branch_of_every_task_head(cfg: str, registered: None) -> None:
    from ultralytics.nn.tasks import OBBModel, PoseModel, SegmentationModel

    model_class = {"-seg-": SegmentationModel, "-pose-": PoseModel, "-obb-": OBBModel}
    cls = next(c for infix, c in model_class.items() if infix in cfg)
    torch.manual_seed(0)
    head = cls(with_box_channels(cfg, 128), verbose=False).model[-1]
    assert box_widths(head.cv2) == [128] * 6 and type(head).__module__.startswith("ultralytics.")
    one_to_one = getattr(head, "one2one_cv2", None)
    assert one_to_one is None or box_widths(one_to_one) == [128] * 6


def test_box_channels_at_the_stock_width_changes_nothing(registered: None) -> None:
    cfg = "yolo11n-shufflenetv2-pan.yaml"  # reg_max 16: the branch is 4 x 16 = 64 wide already
    same, stock = build(with_box_channels(cfg, 64)), build(cfg)
    assert box_widths(same.model[-1].cv2) == box_widths(stock.model[-1].cv2) == [64] * 6
    a, b = same.state_dict(), stock.state_dict()
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)


def test_box_channels_below_the_stock_width_narrows_the_branch_and_keeps_the_dfl(registered: None) -> None:
    cfg = "yolo11n-shufflenetv2-pan.yaml"  # reg_max 16: stock's floor is 4 x 16 = 64 channels
    head = build(with_box_channels(cfg, 16)).model[-1]
    assert box_widths(head.cv2) == [16] * 6 and [b[-1].out_channels for b in head.cv2] == [64] * 3
    assert head.reg_max == 16


@pytest.mark.parametrize("cfg, channels", BOX_CONFIGS[::2])
def test_box_channels_trains_every_box_branch(cfg: str, channels: int, registered: None) -> None:
    from ultralytics.cfg import get_cfg

    model = build(with_box_channels(cfg, channels)).train()
    model.args = get_cfg()
    batch = {
        "img": torch.rand(2, 3, 128, 128),
        "cls": torch.tensor([[0.0], [3.0]]),
        "bboxes": torch.tensor([[0.5, 0.5, 0.4, 0.3], [0.3, 0.6, 0.2, 0.2]]),
        "batch_idx": torch.tensor([0.0, 1.0]),
    }
    loss, _ = model.loss(batch)
    loss.sum().backward()
    head = model.model[-1]
    for branches in (head.cv2, getattr(head, "one2one_cv2", None) or head.cv2):
        assert branches[0][1].conv.weight.grad is not None and branches[0][1].conv.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("cfg", [pytest.param("yolo26n.yaml", marks=yolo26_head), "yolo11n.yaml"])
def test_a_stock_model_with_box_channels_loads_in_stock_ultralytics(cfg: str, tmp_path: Path, registered: None) -> None:
    model = build(with_box_channels(cfg, 128))
    assert all(type(m).__module__.split(".")[0] in ("ultralytics", "torch") for m in model.modules())
    path = tmp_path / "box128.pt"
    torch.save(compat.checkpoint(model), path)
    unregister()
    loaded = YOLO(str(path)).model
    assert box_widths(loaded.model[-1].cv2) == [128] * 6
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        torch.testing.assert_close(loaded.eval()(x)[0], model.eval()(x)[0])


def test_box_channels_shows_in_the_head_summary_row(registered: None) -> None:
    with captured_log() as lines:
        model = DetectionModel(with_box_channels("yolo11n-shufflenetv2-pan.yaml", 128), verbose=True)
    row = next(line for line in lines if line[:3].strip() == str(len(model.model) - 1))
    assert "box_channels=128" in row and int(row[26:36]) == sum(p.numel() for p in model.model[-1].parameters())


@pytest.mark.parametrize("value", [0, "64", 1.5])
def test_box_channels_must_be_a_positive_integer(value: object, registered: None) -> None:
    with pytest.raises(ValueError, match=f"'box_channels: {value!r}'.*integer >= 1"):
        build(with_box_channels("yolo11n-shufflenetv2-pan.yaml", value))


def test_box_channels_on_a_classifier_names_the_key_and_the_fix(registered: None) -> None:
    with pytest.raises(ValueError, match="'box_channels' sets the box branch.*Classify.*remove the key"):
        ClassificationModel({**TINY_CLASSIFIER, "box_channels": 64}, verbose=False)
