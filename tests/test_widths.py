"""The one width table agrees with torchvision's networks and with every shipped YAML."""

from __future__ import annotations

import pytest
import torchvision
import yaml

from bench import make_configs
from ultralytics_shufflenet.configs import CONFIG_DIR, config_names
from ultralytics_shufflenet.widths import SCALES, WIDE_SCALES, WIDTHS, scale_letters, width_of_scale, width_of_stage2

TORCHVISION = {
    "0.5x": (torchvision.models.shufflenet_v2_x0_5, "ShuffleNet_V2_X0_5_Weights"),
    "1.0x": (torchvision.models.shufflenet_v2_x1_0, "ShuffleNet_V2_X1_0_Weights"),
    "1.5x": (torchvision.models.shufflenet_v2_x1_5, "ShuffleNet_V2_X1_5_Weights"),
    "2.0x": (torchvision.models.shufflenet_v2_x2_0, "ShuffleNet_V2_X2_0_Weights"),
}


@pytest.mark.parametrize("name", WIDTHS)
def test_each_width_is_torchvisions_network_and_weights(name: str) -> None:
    width = WIDTHS[name]
    build, weights_enum = TORCHVISION[name]
    model = build(weights=None)  # builds the architecture; nothing is downloaded
    assert model.conv1[0].out_channels == width.stem
    assert [stage[-1].branch2[-3].out_channels * 2 for stage in (model.stage2, model.stage3, model.stage4)] == list(
        width.stages
    )
    assert model.conv5[0].out_channels == width.conv5
    assert sum(p.numel() for p in model.parameters()) == width.params
    weights = getattr(torchvision.models, weights_enum).IMAGENET1K_V1
    assert torchvision.models.get_weight(width.weights_enum) is weights  # the name fetching uses
    assert weights.url == width.weights_url and width.weights_file in weights.url
    assert weights.meta["_metrics"]["ImageNet-1K"]["acc@1"] == pytest.approx(width.top1)


def test_scales_map_to_widths_smallest_first() -> None:
    assert [SCALES[s].name for s in "nsmlx"] == ["0.5x", "1.0x", "1.5x", "2.0x", "2.0x"]
    assert width_of_scale("s") is WIDTHS["1.0x"] and width_of_stage2(116) is WIDTHS["1.0x"]
    assert width_of_stage2(117) is None and scale_letters() == "n: 0.5x, s: 1.0x, m: 1.5x, l/x: 2.0x"
    with pytest.raises(ValueError, match="unknown scale 'q'"):
        width_of_scale("q")


def test_the_wide_scales_are_one_published_width_up() -> None:
    widths = list(WIDTHS.values())
    assert [WIDE_SCALES[s] for s in "nsm"] == [widths[widths.index(SCALES[s]) + 1] for s in "nsm"]
    assert WIDE_SCALES["l"] is WIDE_SCALES["x"] is WIDTHS["2.0x"]


@pytest.mark.parametrize("name", config_names())
def test_every_shipped_yaml_uses_the_table(name: str) -> None:
    table = yaml.safe_load((CONFIG_DIR / name).read_text())["shufflenet_channels"]
    scales = make_configs.backbone_widths(name)
    variant = make_configs.variant_of(name) if "-cls-" not in name else None
    assert scales is (WIDE_SCALES if variant and variant.wide else SCALES) and set(table) == set(scales)
    for scale, channels in table.items():
        assert channels == {key: scales[scale].channels[key] for key in channels}
        assert (
            set(channels)
            >= {"stem", "stage2", "stage3"} | ({"stage4"} if not variant or variant.stage4 else set())
            <= set(channels)
        )
