"""Every Ultralytics internal the plugin relies on, in one place, each with the Ultralytics code it mirrors.

Ultralytics has no plugin interface, so the plugin leans on how its YAML builder works inside. Nothing outside this
module touches those internals; the rest of the package uses only public classes (``Conv``, ``Classify``, ``YOLO``).
``probe()`` builds a tiny plugin model through all of them when the plugin registers: a release that changed one
fails there, with an error naming the installed release and the tested range, instead of building wrong models.
"""

from __future__ import annotations

import copy
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
import ultralytics
from torch import nn
from ultralytics.engine.exporter import Exporter
from ultralytics.nn import tasks
from ultralytics.nn.modules import DFL
from ultralytics.utils import LOGGER
from ultralytics.utils.torch_utils import initialize_weights

# The Ultralytics releases CI tests, oldest and newest. Newer releases are allowed as long as probe() passes.
TESTED_RANGE = ("8.3.100", "8.4.190")


class UnsupportedUltralyticsError(RuntimeError):
    """The installed Ultralytics no longer works the way the plugin relies on."""


# --- The YAML builder -------------------------------------------------------------------------------------------
# ultralytics/nn/tasks.py: DetectionModel, ClassificationModel & co. call the module global ``parse_model(d, ch,
# verbose)``, and YAML files are found by the module global ``check_yaml`` (via ``yaml_model_load``). Rebinding the two
# globals reaches every model build, the trainer's and checkpoint loading's included.
STOCK_PARSE_MODEL: Callable[..., tuple[nn.Sequential, list]] = tasks.parse_model
STOCK_CHECK_YAML: Callable[..., Any] = tasks.check_yaml


# ultralytics/engine/exporter.py: ``Exporter.__call__(self, model)`` deep-copies the model, fuses it (``model.fuse()``,
# a no-op on a fused model) and traces it for every format; ``Model.export`` calls it as ``Exporter(...)(model=...)``.
# The plugin's wrapper hands it a fused copy in the plugin's export form instead.
STOCK_EXPORT: Callable[..., Any] = Exporter.__call__


def install(parse_model: Callable, check_yaml: Callable, export: Callable) -> None:
    tasks.parse_model, tasks.check_yaml = parse_model, check_yaml
    Exporter.__call__ = export


def installed_parse_model() -> Callable:
    return tasks.parse_model


def restore() -> None:
    install(STOCK_PARSE_MODEL, STOCK_CHECK_YAML, STOCK_EXPORT)


def fuse(model: nn.Module) -> nn.Module:
    """``BaseModel.fuse``, quietly: BatchNorms folded into the Ultralytics ``Conv`` layers, as the exporter does."""
    return model.fuse(verbose=False)


# ultralytics/nn/modules/head.py (8.4): an end-to-end (YOLO26) head holds two branches, one-to-many (``cv2``/``cv3``)
# and one-to-one (``one2one_cv2``/...). ``Detect.fuse`` keeps only the branch ``Detect.end2end`` picks, and the
# exporter sets ``end2end`` from ``nms=`` *before* its own ``model.fuse()``, which still reaches the head because
# ``BaseModel.is_fused`` is False while a head has both branches. A copy fused earlier has already chosen, so its
# Conv + BN layers are folded here with the heads' ``fuse`` held back, and ``nms=`` picks the branch as for stock.
def fuse_keeping_head_branches(model: nn.Module) -> nn.Module:
    """``fuse``, except that end-to-end heads keep both branches for the exporter's own fuse to choose from."""
    heads = [
        m
        for m in model.modules()
        if isinstance(getattr(type(m), "end2end", None), property) and getattr(m, "one2one_cv2", None) is not None
    ]  # 8.3's v10Detect has a plain ``end2end = True`` and its own fuse rule: left as it was
    for head in heads:
        head.fuse = lambda: None  # an instance attribute shadows the class's method
    try:
        return fuse(model)
    finally:
        for head in heads:
            del head.fuse


def fused_copy(model: nn.Module) -> nn.Module:
    """What the stock exporter makes of a model before tracing it: a deep copy in float32, fused."""
    return fuse(copy.deepcopy(model).eval().float())


# --- Releases -------------------------------------------------------------------------------------------------------
# Stock layer names that came after the oldest supported release, each with the release that added it (read from the
# published wheels' ultralytics/nn/tasks.py): YOLO26's heads in 8.4.0, SemanticSegment in 8.4.52, Depth in 8.4.104.
LATER_LAYERS = {
    "Segment26": "8.4.0",
    "Pose26": "8.4.0",
    "OBB26": "8.4.0",
    "SemanticSegment": "8.4.52",
    "Depth": "8.4.104",
}


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".")[:3] if part.isdigit())


def older_than(release: str) -> bool:
    """Whether the installed Ultralytics is older than ``release`` (e.g. '8.4.52')."""
    return _release(ultralytics.__version__) < _release(release)


def installed_release() -> str:
    return ultralytics.__version__


# --- Layer names ----------------------------------------------------------------------------------------------------
# parse_model resolves a row's module name as ``getattr(torch.nn, name[3:])`` for 'nn.X', torchvision.ops for
# 'torchvision.ops.X', and ``globals()[name]`` of ultralytics/nn/tasks.py otherwise (a bare KeyError if missing).
def stock_layer_names() -> list[str]:
    return list(vars(tasks))


def resolvable(name: str) -> bool:
    """Whether the stock builder can resolve a module name (torchvision.ops names are left to it)."""
    if name.startswith("torchvision.ops."):
        return True
    if name.startswith("nn."):
        return hasattr(nn, name[3:])
    return name in vars(tasks)


# --- Stand-ins: stock rows with the channel semantics of plugin rows ------------------------------------------------
# parse_model keeps its channel bookkeeping in local frozensets, so a plugin class cannot join it. Instead each plugin
# row is built by the stock code as a stock layer with the same channel behaviour, whose resolved widths are then
# read back:
# - ``Conv [c2]``: in ``base_modules``, so c1 = ch[f], c2 = make_divisible(min(c2, max_channels) * width, 8), and
#   the depth gain applies to n: exactly what the blog YAMLs expect of their layers.
# - ``HGStem [cm, c2]``: its own branch, ``args = [ch[f], cm, c2]``, with the output width recorded as written: what
#   the paper's exact widths need.
def stand_in(f: Any, n: Any, c2: int, exact_width: bool) -> list:
    return [f, n, "HGStem", [2, c2]] if exact_width else [f, n, "Conv", [c2]]


def resolved_widths(stand_in_module: nn.Module) -> tuple[int, int, int]:
    """Input width, output width and number of copies the stock builder gave a stand-in."""
    copies = list(stand_in_module) if isinstance(stand_in_module, nn.Sequential) else [stand_in_module]
    first = copies[0]
    if hasattr(first, "stem1"):  # HGStem: stem1 reads c1, stem4 writes c2
        return first.stem1.conv.in_channels, first.stem4.conv.out_channels, len(copies)
    return first.conv.in_channels, first.conv.out_channels, len(copies)


def mark_built(module: nn.Module, like: nn.Module) -> None:
    """The attributes parse_model sets on every layer: ``i`` and ``f`` drive the forward pass, ``type`` and ``np``
    the summary and ``model.info()``."""
    cls = type(module[0]) if type(module) is nn.Sequential else type(module)  # n > 1 copies: name the copy
    module.i, module.f = like.i, like.f
    module.type = f"{cls.__module__}.{cls.__qualname__}"
    module.np = sum(p.numel() for p in module.parameters())


# --- The summary table ------------------------------------------------------------------------------------------
# parse_model logs one row per layer, f"{i:>3}{f!s:>20}{n_:>3}{m_.np:10.0f}  {t:<45}{args!s:<30}", through LOGGER.
# Rows of stand-ins are held back while a plugin model builds and rewritten to show the real layer; a row is known
# by its first 23 characters (index and 'from').
_ROW_KEY = 23


def summary_key(i: int, f: Any) -> str:
    return f"{i:>3}{f!s:>20}"


def summary_row(module: nn.Module, n: int, args: list) -> str:
    return f"{summary_key(module.i, module.f)}{n:>3}{module.np:10.0f}  {module.type:<45}{args!s:<30}"


class SummaryBuffer(logging.Filter):
    """Holds back this thread's LOGGER records while a plugin model is built, so stand-in rows can be rewritten."""

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        held = getattr(self._local, "records", None)
        if held is None:
            return True
        held.append(record)
        return False

    @contextmanager
    def hold(self, rewritten: dict[str, str]) -> Iterator[None]:
        """Hold records during the block; then emit them, each row whose key is in ``rewritten`` replaced."""
        outer = getattr(self._local, "records", None)  # a probe holding this thread's records already
        held: list[logging.LogRecord] = []
        self._local.records = held
        try:
            yield
        finally:  # on failure too: the rows built so far and any warning still reach the user
            self._local.records = outer
            for record in held:
                row = rewritten.get(record.getMessage()[:_ROW_KEY])
                if row is not None:
                    record.msg, record.args = row, ()
                if outer is None:
                    LOGGER.handle(record)
                else:
                    outer.append(record)

    @contextmanager
    def capture(self) -> Iterator[list[logging.LogRecord]]:
        """Keep this thread's INFO records in a list instead of emitting them (the probe's build is silent), whatever
        level the user set, since the records are what is checked."""
        records: list[logging.LogRecord] = []
        level = LOGGER.level
        LOGGER.setLevel(min(level, logging.INFO) if level else logging.INFO)
        self._local.records = records
        try:
            yield records
        finally:
            self._local.records = None
            LOGGER.setLevel(level)


SUMMARY = SummaryBuffer()


def add_log_filter() -> None:
    if SUMMARY not in LOGGER.filters:
        LOGGER.addFilter(SUMMARY)


def remove_log_filter() -> None:
    LOGGER.removeFilter(SUMMARY)


# --- Process-wide state the builder changes -----------------------------------------------------------------------
# parse_model sets ``Conv.default_act`` from a YAML 'activation:' for the whole process (8.3 releases leave it set).
@contextmanager
def restoring_default_activation() -> Iterator[None]:
    from ultralytics.nn.modules import Conv

    saved = Conv.default_act
    try:
        yield
    finally:
        Conv.default_act = saved


# --- NNCF's INT8 call (OpenVINO) ------------------------------------------------------------------------------------
# ultralytics/utils/export/openvino.py (8.4) and ``Exporter.export_openvino`` (8.3) ``import nncf`` and call
# ``nncf.quantize(model=..., calibration_dataset=..., preset=MIXED, ignored_scope=...)`` without
# ``advanced_parameters``, looking the function up at call time; INT8 is ``Exporter.args.quantize == 8`` in 8.4
# (``int8=True`` is mapped onto it) and ``Exporter.args.int8`` in 8.3.
def exports_openvino_int8(exporter: Any) -> bool:
    args = exporter.args
    int8 = bool(getattr(args, "int8", False)) or getattr(args, "quantize", None) == 8
    return str(getattr(args, "format", "")).lower() == "openvino" and int8


@contextmanager
def nncf_histogram_ranges() -> Iterator[None]:
    """During the block, NNCF's post-training INT8 sets activation ranges from histograms of the calibration data
    (``RangeEstimatorParametersSet.HISTOGRAM``) instead of its default statistics, unless the caller picks its own
    ``advanced_parameters``; without NNCF installed, nothing changes."""
    try:
        import nncf
        from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters
        from nncf.quantization.range_estimator import RangeEstimatorParametersSet
    except ImportError:
        yield
        return
    stock = nncf.quantize

    def quantize(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("advanced_parameters") is None:
            kwargs["advanced_parameters"] = AdvancedQuantizationParameters(
                activations_range_estimator_params=RangeEstimatorParametersSet.HISTOGRAM
            )
        return stock(*args, **kwargs)

    nncf.quantize = quantize
    try:
        yield
    finally:
        nncf.quantize = stock


@contextmanager
def nncf_int8_kept_in_float(patterns: list[str]) -> Iterator[None]:
    """During the block, NNCF's INT8 call also leaves the OpenVINO nodes matching ``patterns`` (regular expressions on
    node names, ``__module.model.17.cv2.0.2/aten::_convolution/Convolution``: the module path, then the op) in float;
    without NNCF installed, nothing changes."""
    try:
        import nncf
    except ImportError:
        yield
        return
    stock = nncf.quantize

    def quantize(*args: Any, ignored_scope: Any = None, **kwargs: Any) -> Any:
        scope = ignored_scope or nncf.IgnoredScope()
        merged = nncf.IgnoredScope(
            names=list(scope.names), patterns=[*scope.patterns, *patterns], types=list(scope.types), validate=False
        )
        return stock(*args, ignored_scope=merged, **kwargs)

    nncf.quantize = quantize
    try:
        yield
    finally:
        nncf.quantize = stock


def openvino_detect_parts(head: nn.Module) -> dict[str, list[str]]:
    """OpenVINO node-name patterns of parts of a Detect head (one-to-one branches included): ``outputs``, the last
    conv of every box and class branch and every op after them (concats, DFL, box decoding, sigmoid: the part
    LiteRT's rule keeps in float); ``box-branch`` and ``class-branch``, all convs of those branches."""
    name = rf"__module\.model\.{head.i}"
    last = "|".join(sorted({str(len(branch[0]) - 1) for branch in (head.cv2, head.cv3)}))
    return {
        "outputs": [rf"^{name}/", rf"^{name}\.((one2one_)?cv[23]\.\d+\.({last})|dfl)[./]"],
        "box-branch": [rf"^{name}\.(one2one_)?cv2\."],
        "class-branch": [rf"^{name}\.(one2one_)?cv3\."],
    }


# --- LiteRT's INT8 recipe ------------------------------------------------------------------------------------------
# ultralytics/engine/exporter.py: ``Exporter.args.format`` is the format asked for ("tflite" is exported as "litert").
# ultralytics/utils/export/litert.py (8.4 releases; 8.3 converts TFLite through onnx2tf and never gets here):
# ``torch2litert`` converts with litert_torch, which names every op after its module path (``.._model/ultralytics.
# nn.modules.head.Detect_23/torch.nn.modules.container.Sequential_0/torch.nn.modules.conv.Conv2d_2;4``; ops outside
# any submodule as ``..Detect_23;17``; the coordinate scaling it wraps the model in as ``.._NormalizeCoords;1``). For
# INT8 it calls ai_edge_quantizer's ``Quantizer.load_quantization_recipe(recipe.static_wi8_ai8())``, then adds its own
# rules; the quantizer applies the last rule matching an op (``re.search`` on its name).
def export_format(exporter: Any) -> str:
    return str(getattr(exporter.args, "format", "")).lower()


def exports_litert(exporter: Any) -> bool:
    return export_format(exporter) in {"tflite", "litert"}


def litert_detect_outputs(head: nn.Module) -> list[str]:
    """LiteRT op-name patterns of a Detect head's last conv in every box and class branch, and of every op after
    them (concats, DFL, box decoding, sigmoid). The coordinate scaling is matched too, yet ai_edge_quantizer still
    runs it and the final output concat in INT8 (seen in exported files: it keeps them on their inputs' scale)."""
    name = rf"\.{type(head).__name__}_{head.i}"
    last = "|".join(sorted({str(len(branch[0]) - 1) for branch in (head.cv2, head.cv3)}))
    return [
        rf"^(?!.*Sequential_).*{name}[;/]",
        rf"{name}/[^/;]*Sequential_\d+/[^/;]*\.Conv2d_({last})(;|$)",
        r"\._NormalizeCoords;\d+$",
    ]


@contextmanager
def litert_int8_kept_in_float(patterns: list[str]) -> Iterator[None]:
    """During the block, LiteRT INT8 exports (INT8 activations) leave the ops matching ``patterns`` in float; other
    recipes, and exports without ai_edge_quantizer installed, are unchanged."""
    try:
        from ai_edge_quantizer import qtyping, quantizer, recipe
    except ImportError:
        yield
        return
    stock = quantizer.Quantizer.load_quantization_recipe

    def load(self: Any, quantization_recipe: Any, *args: Any, **kwargs: Any) -> None:
        stock(self, quantization_recipe, *args, **kwargs)
        if _int8_activations(quantization_recipe):
            for pattern in patterns:
                self.update_quantization_recipe(
                    regex=pattern,
                    operation_name=qtyping.TFLOperationName.ALL_SUPPORTED,
                    algorithm_key=recipe.AlgorithmName.NO_QUANTIZE,
                )

    quantizer.Quantizer.load_quantization_recipe = load
    try:
        yield
    finally:
        quantizer.Quantizer.load_quantization_recipe = stock


def _int8_activations(quantization_recipe: Any) -> bool:
    """Whether an ai_edge_quantizer recipe (a list of rules) quantizes activations to 8 bits somewhere."""
    rules = quantization_recipe if isinstance(quantization_recipe, list) else []
    return any(
        ((rule.get("op_config") or {}).get("activation_tensor_config") or {}).get("num_bits") == 8 for rule in rules
    )


# --- Detect's box decoding ----------------------------------------------------------------------------------------
# ultralytics/nn/modules/head.py: Detect and its subclasses (Segment, Pose, OBB) decode boxes through
# ``self.dfl(boxes)``; ``self.dfl`` is ``ultralytics.nn.modules.DFL(reg_max)`` (reg_max > 1; nn.Identity otherwise),
# whose forward maps (B, 4 * c1, A) to (B, 4, A): a softmax over each box side's ``c1`` bins, then the expected bin
# (a fixed 1x1 conv with weights 0 .. c1 - 1). NNCF's INT8 call (8.4) keeps every op named after ``<head>.dfl`` in
# float, so a replacement must keep the attribute name.
def dfl_heads(model: nn.Module) -> list[nn.Module]:
    """The heads of ``model`` that decode boxes with a stock DFL."""
    return [m for m in model.modules() if isinstance(getattr(m, "dfl", None), DFL)]


# --- Detect's box branch ----------------------------------------------------------------------------------------
# ultralytics/nn/modules/head.py: Detect(nc, reg_max, end2end, ch) builds ``cv2``, one box branch per level, a 3x3
# Conv to c2 channels, a 3x3 Conv, and a 1x1 nn.Conv2d to 4 * reg_max, with c2 = max(16, ch[0] // 4, 4 * reg_max):
# reg_max sets both the DFL and the branch's width. With end2end, ``one2one_cv2`` is a deep copy of ``cv2``. Segment,
# Pose, OBB and their YOLO26 forms inherit both. DetectionModel calls ``bias_init()`` after parse_model, so a branch
# replaced inside the builder gets the stock bias initialisation, and a checkpoint pickles a stock Detect.
def box_branch_channels(head: nn.Module) -> int | None:
    """The width of ``head``'s box branch; None when it is no Detect-family head."""
    from ultralytics.nn.modules import Detect

    return head.cv2[0][0].conv.out_channels if isinstance(head, Detect) else None


def detect_args(head: nn.Module) -> list:
    """The arguments parse_model gave a Detect-family head: nc, reg_max, end2end, input widths."""
    inputs = [branch[0].conv.in_channels for branch in head.cv2]
    return [head.nc, head.reg_max, getattr(head, "one2one_cv2", None) is not None, inputs]


def rebuild_box_branch(head: nn.Module, channels: int) -> None:
    """Rebuild the box branches of a Detect-family ``head`` at ``channels`` wide, the DFL left as it is."""
    from ultralytics.nn.modules import Conv

    inputs = detect_args(head)[3]
    outputs = head.cv2[0][-1].out_channels  # 4 * reg_max
    head.cv2 = nn.ModuleList(
        nn.Sequential(Conv(c, channels, 3), Conv(channels, channels, 3), nn.Conv2d(channels, outputs, 1))
        for c in inputs
    )
    if getattr(head, "one2one_cv2", None) is not None:
        head.one2one_cv2 = copy.deepcopy(head.cv2)


# --- Checkpoints ------------------------------------------------------------------------------------------------
# Ultralytics pickles whole models; under ULTRALYTICS_SAFE_LOAD=1 it loads them with torch.load(weights_only=True),
# which refuses classes outside torch's allow-list.
def allow_in_safe_load(classes: list[type]) -> None:
    torch.serialization.add_safe_globals(classes)


# What Ultralytics' loaders read from a checkpoint file (ultralytics/nn/tasks.py: load_checkpoint and
# torch_safe_load; ultralytics/engine/model.py: YOLO(file)): the pickled ``model``, and ``train_args``, whose missing
# entries come from the defaults, whose task is 'detect'.
def checkpoint(model: nn.Module, **extra: Any) -> dict:
    from datetime import datetime

    return {
        "model": model,
        "train_args": {"task": tasks.guess_model_task(model)},
        "date": datetime.now().isoformat(),
        "version": ultralytics.__version__,
        **extra,
    }


# --- The probe ------------------------------------------------------------------------------------------------------
# Also relied on, and checked here: ultralytics/utils/torch_utils.py ``initialize_weights`` resets only modules whose
# type *is* nn.BatchNorm2d (so ImageNetBatchNorm2d keeps torchvision's eps); ``guess_model_task`` says 'classify'
# when the last head row's name is 'Classifier'; ``Classify.forward`` reads ``conv``, ``pool``, ``drop``, ``linear``;
# ``Exporter.__call__`` is called with the model (see STOCK_EXPORT).
PROBE_MODEL = {
    "nc": 3,
    "scales": {"n": [1.0, 0.5, 1024]},
    "shufflenet_channels": {"n": {"stem": 10, "conv5": 24}},
    "backbone": [
        [-1, 1, "ShuffleNetV2Stem", ["stem"]],  # exact: 10 channels
        [-1, 1, "ShuffleNetV2", [64, 2]],  # scaled like a Conv: 64 x 0.5 = 32 channels
    ],
    "head": [[-1, 1, "Classifier", ["nc", "conv5"]]],
}


def probe() -> None:
    """Build a tiny plugin model through the installed builder and check what the plugin relies on.

    Raises UnsupportedUltralyticsError naming the installed release, the tested range and what changed.
    """

    from .modules import Conv_maxpool, ImageNetBatchNorm2d, ShuffleNetV2, ShuffleNetV2Classifier

    model = copy.deepcopy(PROBE_MODEL)  # the builder edits the rows it is given
    problems = []
    try:
        with SUMMARY.capture() as records:
            layers, _ = tasks.parse_model(copy.deepcopy(model), ch=3, verbose=True)
        initialize_weights(layers)
        stem, unit, head = layers
        expected = {
            "the exact-width stand-in (HGStem) keeps the width as written": isinstance(stem, Conv_maxpool)
            and stem.conv.conv.out_channels == 10,
            "the scaled stand-in (Conv) scales like a stock Conv": isinstance(unit, ShuffleNetV2)
            and unit.branch2[-1].conv.out_channels * 2 == 32
            and unit.branch1[0].conv.in_channels == 10,
            "initialize_weights leaves ImageNetBatchNorm2d's eps alone": all(
                m.eps == 1e-5 for m in layers.modules() if isinstance(m, ImageNetBatchNorm2d)
            ),
            "summary rows of plugin layers are rewritten": sum(
                "ultralytics_shufflenet.modules." in r.getMessage() for r in records
            )
            == 3
            and not any("HGStem" in r.getMessage() for r in records),
            "the layer attributes i, f, type and np are set": [m.i for m in layers] == [0, 1, 2]
            and all(hasattr(m, "np") and hasattr(m, "type") for m in layers),
            "a 'Classifier' head means the classify task": tasks.guess_model_task(model) == "classify",
            "Exporter.__call__ takes the model to export": list(inspect.signature(STOCK_EXPORT).parameters)[:2]
            == ["self", "model"],
        }
        problems = [what for what, ok in expected.items() if not ok]
        if isinstance(head, ShuffleNetV2Classifier):
            head.eval()
            with torch.no_grad():
                x = torch.rand(1, 3, 32, 32)
                probabilities, logits = layers(x)
                features = unit(stem(x))
                manual = head.linear(head.pool(head.conv(features)).flatten(1))
            if not torch.allclose(logits, manual, atol=1e-5) or probabilities.shape != (1, 3):
                problems.append("Classify.forward computes linear(drop(pool(conv(x)))) with softmax in eval")
        else:
            problems.append("the Classifier row builds ShuffleNetV2Classifier")
    except Exception as e:  # any failure to build is itself the finding
        problems.append(f"building a plugin model raised {type(e).__name__}: {e}")
    if problems:
        low, high = TESTED_RANGE
        raise UnsupportedUltralyticsError(
            f"{__package__} was tested with Ultralytics {low} to {high}; the installed Ultralytics "
            f"{ultralytics.__version__} no longer behaves as it relies on: {'; '.join(problems)}. Install a tested "
            f"release (pip install 'ultralytics>={low},<={high}') or a newer {__package__.replace('_', '-')}."
        )
