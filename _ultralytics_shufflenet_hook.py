"""Start-up hook of ultralytics-shufflenet, run by ``ultralytics_shufflenet.pth`` at every interpreter start.

It makes the stock ``yolo`` CLI, checkpoints and worker processes (multi-GPU DDP) see the plugin without an explicit
``import ultralytics_shufflenet``: the plugin is imported once Ultralytics' model builder (``ultralytics.nn.tasks``)
is, and never before, so start-up imports neither torch nor Ultralytics. It waits for the outermost Ultralytics import
in progress to finish, because Ultralytics imports the builder from inside its own half-initialised packages (8.3:
``ultralytics.data``), which the plugin's imports (the exporter) need whole.
Opt out with ``ULTRALYTICS_SHUFFLENET_AUTOLOAD=0``. Any failure here is reported as a warning, never raised.
"""

import os
import sys

OPT_OUT = "ULTRALYTICS_SHUFFLENET_AUTOLOAD"
TARGET = "ultralytics.nn.tasks"
WATCHED = "ultralytics"


class _CountingLoader:
    """Loader proxy for an Ultralytics module: tells the watcher when the module starts and ends executing."""

    def __init__(self, loader, watcher):
        self._loader, self._watcher = loader, watcher

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._watcher.depth += 1
        try:
            self._loader.exec_module(module)
        finally:
            self._watcher.depth -= 1
        self._watcher.load_plugin_when_ready()


class _WatchUltralytics:
    """Meta-path finder that wraps the loader of every Ultralytics module until the plugin is loaded."""

    def __init__(self):
        self.depth = 0  # Ultralytics modules executing right now, nested

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] != WATCHED:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None) if finder is not self else None
            spec = find(name, path, target) if find else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _CountingLoader(spec.loader, self)
                return spec
        return None

    def load_plugin_when_ready(self):
        if self.depth or TARGET not in sys.modules or self not in sys.meta_path:
            return
        sys.meta_path.remove(self)
        try:
            import ultralytics_shufflenet  # noqa: F401
        except Exception as e:  # a broken plugin must not take Ultralytics down with it
            import warnings

            warnings.warn(f"ultralytics-shufflenet was not loaded: {type(e).__name__}: {e}", stacklevel=2)


def install():
    """Watch Ultralytics' imports unless opted out or already watching; load at once if the builder is imported."""
    if os.environ.get(OPT_OUT, "1").strip().lower() in ("0", "false", "no", "off"):
        return
    if any(isinstance(f, _WatchUltralytics) for f in sys.meta_path):
        return
    watcher = _WatchUltralytics()
    sys.meta_path.insert(0, watcher)
    watcher.load_plugin_when_ready()


try:
    install()
except Exception:  # noqa: S110 - start-up must never fail because of this hook
    pass
