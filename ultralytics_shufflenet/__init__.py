"""ShuffleNet V2 backbones for Ultralytics YOLO. Importing the package registers its layers and model YAMLs."""

from .modules import Conv_maxpool, ShuffleNetV2, ShuffleNetV2Classifier, ShuffleNetV2Stage, channel_shuffle, interleave
from .registry import PLUGIN_LAYERS, is_registered, register, unregister

__version__ = "0.1.0"
__all__ = (
    "PLUGIN_LAYERS",
    "Conv_maxpool",
    "ShuffleNetV2",
    "ShuffleNetV2Classifier",
    "ShuffleNetV2Stage",
    "channel_shuffle",
    "interleave",
    "is_registered",
    "register",
    "unregister",
)

register()
