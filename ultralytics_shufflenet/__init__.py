"""ShuffleNet V2 backbones for Ultralytics YOLO. Importing the package registers its layers and model YAMLs."""

from . import modules
from .compat import UnsupportedUltralyticsError
from .modules import PLUGIN_LAYERS, channel_shuffle, interleave
from .registry import is_registered, register, unregister

__version__ = "0.2.0"

# Every class a YAML name builds is part of the public API, as listed in the layer table.
_LAYER_CLASSES = {layer.module.__name__: layer.module for layer in PLUGIN_LAYERS.values()}
globals().update(_LAYER_CLASSES)
__all__ = (
    "PLUGIN_LAYERS",
    *sorted(_LAYER_CLASSES),
    "UnsupportedUltralyticsError",
    "channel_shuffle",
    "interleave",
    "is_registered",
    "modules",
    "register",
    "unregister",
)

register()
