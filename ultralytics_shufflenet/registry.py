"""Teach Ultralytics' YAML model builder the plugin layers, without editing or copying Ultralytics.

Design: Ultralytics' ``parse_model`` is replaced by a wrapper. A YAML without plugin layers goes straight to the
stock builder, untouched. In a YAML with plugin layers, each plugin row is handed to the stock builder as a stock
*stand-in* row with the same channel semantics, so the stock code does all bookkeeping (``from`` indices, depth gain,
width scaling, ``max_channels``, the save list). The stand-in reveals the resolved input and output widths; the real
layer is then built with them and swapped in, and its summary row is rewritten to show the real module and arguments.
A top-level ``box_channels: C`` rebuilds the head's box branch C wide after the stock build (stock ``Detect`` ties
that width to ``reg_max``), so the DFL and the width can be measured apart. The exporter is
wrapped too, so that it traces plugin models in their export form (``export``). How each step reaches
into Ultralytics is in ``compat``.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import threading
from pathlib import Path
from typing import Any

from torch import nn

from . import compat, configs, modules
from .export import export_form, int8_rules
from .modules import PLUGIN_LAYERS, is_int

__all__ = ("CHECKPOINT_CLASSES", "is_registered", "register", "unregister")

# YAML key holding the exact widths per scale that exact-width layers refer to by name, e.g. ``[stage2, 4]``.
CHANNELS_KEY = "shufflenet_channels"
# YAML key giving the head's box branch a width of its own: stock Detect ties it to reg_max (see compat).
BOX_CHANNELS_KEY = "box_channels"

# Everything a plugin checkpoint pickles besides Ultralytics' and torch's own classes: every module class of the
# plugin, whether or not it has a YAML name (ImageNetBatchNorm2d has none).
CHECKPOINT_CLASSES: tuple[type[nn.Module], ...] = tuple(
    cls
    for cls in vars(modules).values()
    if inspect.isclass(cls) and issubclass(cls, nn.Module) and cls.__module__ == modules.__name__
)

_lock = threading.Lock()
# Builds run one at a time: the stock builder sets the process-wide Conv.default_act from a YAML 'activation:', so
# two concurrent builds could otherwise leak one's activation into the other.
_build_lock = threading.RLock()


def _available() -> str:
    return ", ".join(f"{name} {layer.usage}" for name, layer in PLUGIN_LAYERS.items())


def _check_row(i: int, row: object) -> None:
    """Shape of a plugin row: [from, repeats, module, args], one input that exists, a sensible argument count."""
    if not isinstance(row, (list, tuple)) or len(row) != 4:
        raise ValueError(f"layer {i}: a row is [from, repeats, module, args], got {row!r}")
    f, n, name, args = row
    layer = PLUGIN_LAYERS[name]
    earliest = -1 if i == 0 else -i  # negative indices count back from this layer; layer 0 reads the image
    if not is_int(f) or not earliest <= f <= max(i - 1, 0):
        valid = "-1 (the image)" if i == 0 else f"an earlier layer, {earliest}..{i - 1}"
        raise ValueError(f"layer {i} ({name}): 'from' must be one index of {valid}; got {f!r}")
    if not is_int(n) or n < 1:
        raise ValueError(f"layer {i} ({name}): repeats must be an integer >= 1, got {n!r}")
    if not isinstance(args, list) or not 1 <= len(args) <= len(layer.arguments):
        count = len(args) if isinstance(args, list) else "not a list"
        raise ValueError(
            f"layer {i} ({name}): arguments are {layer.usage} (1 to {len(layer.arguments)} values), "
            f"got {args!r} ({count})"
        )


def _needs_newer(what: str, release: str) -> compat.UnsupportedUltralyticsError:
    return compat.UnsupportedUltralyticsError(
        f"{what} needs Ultralytics {release} or newer; installed: {compat.installed_release()}. "
        f"Upgrade with: pip install -U 'ultralytics>={release}'"
    )


def _check_release(name: str, release: object) -> None:
    """A model YAML's ``min_ultralytics`` against the installed release."""
    if release is not None and compat.older_than(str(release)):
        raise _needs_newer(Path(name).name, str(release))


def _check_name(i: int, name: object) -> None:
    """Replace the stock builder's bare KeyError for an unknown layer name with one that says what exists, or which
    release added it."""
    if not isinstance(name, str) or name in PLUGIN_LAYERS or compat.resolvable(name):
        return
    if name in compat.LATER_LAYERS:
        raise _needs_newer(f"layer {i}: {name}", compat.LATER_LAYERS[name])
    close = difflib.get_close_matches(name, [*PLUGIN_LAYERS, *compat.stock_layer_names()], n=3)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    raise ValueError(
        f"layer {i}: unknown module '{name}'.{hint} ShuffleNet plugin layers: {_available()}; "
        "otherwise any Ultralytics module, nn.<torch.nn module> or torchvision.ops.<op>."
    )


def _is_plugin_row(row: object) -> bool:
    return isinstance(row, (list, tuple)) and len(row) >= 3 and isinstance(row[2], str) and row[2] in PLUGIN_LAYERS


def _resolve(i: int, name: str, value: object, d: dict) -> object:
    """A width given by name: from the YAML's per-scale table, or a top-level number such as ``nc``."""
    if not isinstance(value, str):
        return value
    scale = d.get("scale") or next(iter(d.get("scales") or {}), None)
    table = (d.get(CHANNELS_KEY) or {}).get(scale)
    if isinstance(table, dict) and value in table:
        return table[value]
    if isinstance(d.get(value), int):
        return d[value]
    known = sorted(table) if isinstance(table, dict) else []
    raise ValueError(
        f"layer {i} ({name}): '{value}' is not defined for scale '{scale}': the YAML needs "
        f"'{CHANNELS_KEY}: {{{scale}: {{{value}: <channels>, ...}}}}' (defined there: {known or 'nothing'})"
    )


def _stand_in(i: int, row: list, d: dict) -> tuple[list, list]:
    """Return the stock stand-in row for plugin row ``i`` and the plugin arguments after the width."""
    _check_row(i, row)
    f, n, name, args = row
    layer = PLUGIN_LAYERS[name]
    if layer.exact_width:
        args = [_resolve(i, name, a, d) for a in args]
    c2 = args[0]
    if not is_int(c2):
        raise TypeError(f"layer {i} ({name}): {layer.arguments[0]} must be an integer, got {c2!r}")
    if c2 < 1:
        raise ValueError(f"layer {i} ({name}): {layer.arguments[0]} must be >= 1, got {c2}")
    return compat.stand_in(f, n, c2, layer.exact_width), list(args[1:])


def _build_real(i: int, name: str, stand_in: nn.Module, extra: list) -> tuple[nn.Module, list]:
    c1, c2, n = compat.resolved_widths(stand_in)
    args = [c1, c2, *extra]
    if n > 1 and c1 != c2:
        raise ValueError(
            f"layer {i} ({name}): n={n} chains {n} identical copies, so input and output widths must match, got "
            f"{c1} -> {c2}; give the width-changing layer its own row with n=1"
        )
    cls = PLUGIN_LAYERS[name].module
    try:
        layers = [cls(*args) for _ in range(n)]
    except (ValueError, TypeError) as e:
        raise type(e)(f"layer {i} ({name} {args}): {e}") from None
    module = nn.Sequential(*layers) if n > 1 else layers[0]
    compat.mark_built(module, like=stand_in)
    return module, args


def _box_channels(d: dict) -> int | None:
    """The YAML's ``box_channels``: the width the head's box branch gets, whatever its ``reg_max``."""
    value = d.get(BOX_CHANNELS_KEY)
    if value is not None and (not is_int(value) or value < 1):
        raise ValueError(f"'{BOX_CHANNELS_KEY}: {value!r}': the box branch's width must be an integer >= 1, e.g. 64")
    return value


def _set_box_branch_width(model: nn.Sequential, channels: int, rewritten: dict[str, str]) -> None:
    head = model[-1]
    width = compat.box_branch_channels(head)
    if width is None:
        raise ValueError(
            f"'{BOX_CHANNELS_KEY}' sets the box branch of a Detect-family head (Detect, Segment, Pose, OBB); "
            f"the last layer here is {type(head).__name__}: remove the key"
        )
    if channels == width:
        return  # the stock width: the stock build, untouched
    compat.rebuild_box_branch(head, channels)
    head.np = sum(p.numel() for p in head.parameters())
    args = [*compat.detect_args(head), f"{BOX_CHANNELS_KEY}={channels}"]
    rewritten[compat.summary_key(head.i, head.f)] = compat.summary_row(head, 1, args)


def _build_with_plugins(d: dict, ch: Any, verbose: bool, plugin_rows: dict[int, list]) -> tuple[nn.Sequential, list]:
    rows = d["backbone"] + d["head"]
    extras = {}
    stock_rows = []
    for i, row in enumerate(rows):
        if i in plugin_rows:
            row, extras[i] = _stand_in(i, row, d)
        stock_rows.append(row)
    nb = len(d["backbone"])
    box_channels = _box_channels(d)
    d = {**d, "backbone": stock_rows[:nb], "head": stock_rows[nb:]}

    rewritten: dict[str, str] = {}  # summary-row key -> the real layer's row
    with compat.SUMMARY.hold(rewritten):
        model, save = compat.STOCK_PARSE_MODEL(d, ch, verbose)
        for i, row in plugin_rows.items():
            n = len(model[i]) if isinstance(model[i], nn.Sequential) else 1
            model[i], args = _build_real(i, row[2], model[i], extras[i])
            rewritten[compat.summary_key(i, model[i].f)] = compat.summary_row(model[i], n, args)
        if box_channels is not None:
            _set_box_branch_width(model, box_channels, rewritten)
    return model, save


@functools.wraps(compat.STOCK_PARSE_MODEL)
def parse_model(d: dict, ch: Any, verbose: bool = True) -> tuple[nn.Sequential, list]:
    """Stock ``parse_model`` that also builds plugin layers; YAMLs without them take the untouched stock path."""
    with _build_lock, compat.restoring_default_activation():  # a YAML 'activation:' must not outlive its build
        _check_release(str(d.get("yaml_file") or "this model YAML"), d.get(configs.RELEASE_KEY))  # a dict, not a file
        rows = d["backbone"] + d["head"]
        for i, row in enumerate(rows):
            _check_name(i, row[2] if isinstance(row, (list, tuple)) and len(row) >= 3 else None)
        plugin_rows = {i: row for i, row in enumerate(rows) if _is_plugin_row(row)}
        if not plugin_rows and BOX_CHANNELS_KEY not in d:
            return compat.STOCK_PARSE_MODEL(d, ch, verbose)
        return _build_with_plugins(d, ch, verbose, plugin_rows)


@functools.wraps(compat.STOCK_CHECK_YAML)
def check_yaml(file: Any, *args: Any, **kwargs: Any) -> Any:
    """Stock ``check_yaml`` that also finds this package's model YAMLs by bare name, and stops a model YAML that
    needs a newer Ultralytics here, before the stock loader guesses its task (8.3 knows no task for YOLO26's heads)."""
    shipped = configs.find_config(file)
    found = str(shipped) if shipped else compat.STOCK_CHECK_YAML(file, *args, **kwargs)
    if found and str(found).endswith((".yaml", ".yml")) and Path(found).is_file():
        _check_release(found, configs.required_release(found))
    return found


@functools.wraps(compat.STOCK_EXPORT)
def export(self: Any, model: nn.Module, *args: Any, **kwargs: Any) -> Any:
    """Stock ``Exporter.__call__`` that traces plugin models in their export form and quantizes them by the plugin's
    INT8 rules (see ``export``)."""
    with int8_rules(model, self):
        return compat.STOCK_EXPORT(self, export_form(model, compat.export_format(self)), *args, **kwargs)


def is_registered() -> bool:
    """True while Ultralytics builds models through this plugin."""
    return compat.installed_parse_model() is parse_model


def register() -> None:
    """Route Ultralytics' model building, YAML lookup and exports through the plugin; calling it again changes
    nothing.

    Checks, with a tiny build, that the installed Ultralytics still works as the plugin relies on; if not, restores
    the stock builder and raises ``compat.UnsupportedUltralyticsError``. Also allow-lists the plugin's classes for
    ``torch.load(weights_only=True)``, which Ultralytics uses under ``ULTRALYTICS_SAFE_LOAD=1``; that stays after
    ``unregister()``, as torch offers no way to remove single entries.
    """
    with _lock:
        if is_registered():
            return
        compat.allow_in_safe_load(list(CHECKPOINT_CLASSES))
        compat.install(parse_model, check_yaml, export)
        compat.add_log_filter()
        try:
            compat.probe()
        except compat.UnsupportedUltralyticsError:
            compat.restore()
            compat.remove_log_filter()
            raise


def unregister() -> None:
    """Restore the stock builder, YAML lookup and exporter exactly as they were before ``register()``."""
    with _lock:
        if not is_registered():
            return
        compat.restore()
        compat.remove_log_filter()
