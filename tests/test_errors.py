"""Every mistake in a plugin row fails while the model is built, naming the layer, the module, the value and the fix."""

from __future__ import annotations

import pytest
import torch
import ultralytics
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ultralytics import YOLO
from ultralytics.nn.tasks import ClassificationModel, DetectionModel

from bench.models import with_scale
from ultralytics_shufflenet import PLUGIN_LAYERS, UnsupportedUltralyticsError
from ultralytics_shufflenet.configs import config_names, required_release


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
    ([-1, 1, "ShuffleNetV2", []], ValueError, r"layer 2 \(ShuffleNetV2\): arguments are \[oup, stride, extra_dw\] "),
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
    ([-1, 1, "ShuffleNetV2", ["wide", 1]], TypeError, r"layer 2 \(ShuffleNetV2\): oup must be an integer, got 'wide'"),
    ([-1, 1, "ShuffleNetV2", [0, 1]], ValueError, r"layer 2 \(ShuffleNetV2\): oup must be >= 1, got 0"),
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


def test_unknown_layer_name_lists_every_plugin_layer_with_its_arguments() -> None:
    with pytest.raises(ValueError, match=r"layer 2: unknown module 'ShufleNetV2'\. Did you mean ShuffleNetV2") as e:
        ClassificationModel(model_dict([-1, 1, "ShufleNetV2", [64, 2]]), verbose=False)
    assert all(f"{name} {layer.usage}" in str(e.value) for name, layer in PLUGIN_LAYERS.items())


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


# Every YOLO26-family config: each names the release it needs, and CI runs this on the oldest supported release too.
NEWER_CONFIGS = [name for name in config_names() if required_release(name)]


@pytest.mark.parametrize("name", NEWER_CONFIGS)
def test_a_config_for_a_newer_release_fails_naming_it(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    release = required_release(name)
    monkeypatch.setattr(ultralytics, "__version__", "8.3.100")  # the oldest supported release, real in CI's old run
    config = with_scale(name, "n")
    with pytest.raises(UnsupportedUltralyticsError) as e:
        YOLO(config)
    assert str(e.value) == (  # named as the stock loader looks it up: without the scale letter
        f"{name} needs Ultralytics {release} or newer; installed: 8.3.100. "
        f"Upgrade with: pip install -U 'ultralytics>={release}'"
    )


def test_the_yolo26_family_needs_8_4_and_its_semantic_and_depth_heads_the_releases_that_added_them() -> None:
    releases = {name: required_release(name) for name in NEWER_CONFIGS}
    assert {name.split("-shufflenetv2")[0] for name in releases} == {
        f"yolo26{infix}" for infix in ("", "-seg", "-pose", "-obb", "-cls", "-sem", "-depth")
    }
    later = {"-sem": "8.4.52", "-depth": "8.4.104"}
    for name, release in releases.items():
        assert release == later.get(name.split("-shufflenetv2")[0].removeprefix("yolo26"), "8.4.0"), name


@pytest.mark.parametrize(
    ("head", "release"), [("Segment26", "8.4.0"), ("SemanticSegment", "8.4.52"), ("Depth", "8.4.104")]
)
def test_a_stock_head_newer_than_the_installed_release_is_named_with_its_release(
    head: str, release: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's own YAML naming a later stock head: the release that added it, not a KeyError (real on 8.3.100)."""
    from ultralytics_shufflenet import compat

    if not compat.older_than(release):  # stand in for a release without the head
        monkeypatch.setattr(compat, "resolvable", lambda name, stock=compat.resolvable: name != head and stock(name))
    d = model_dict()
    d["head"] = [[[1], 1, head, ["nc"]]]
    with pytest.raises(UnsupportedUltralyticsError, match=rf"^layer 2: {head} needs Ultralytics {release} or newer"):
        DetectionModel(d, verbose=False)
