"""Start-up hook of ultralytics-shufflenet, run by ``ultralytics_shufflenet.pth`` at every interpreter start.

It makes the stock ``yolo`` CLI, checkpoints and worker processes (multi-GPU DDP) see the plugin without an explicit
``import ultralytics_shufflenet``: the plugin is imported right after Ultralytics' model builder
(``ultralytics.nn.tasks``) is, and never before, so start-up imports neither torch nor Ultralytics.
Opt out with ``ULTRALYTICS_SHUFFLENET_AUTOLOAD=0``. Any failure here is reported as a warning, never raised.
"""

import os
import sys

OPT_OUT = "ULTRALYTICS_SHUFFLENET_AUTOLOAD"
TARGET = "ultralytics.nn.tasks"


class _LoadPluginAfter:
    """Loader proxy: runs the real loader of ``TARGET``, then imports the plugin, which registers itself."""

    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        try:
            import ultralytics_shufflenet  # noqa: F401
        except Exception as e:  # a broken plugin must not take Ultralytics down with it
            import warnings

            warnings.warn(f"ultralytics-shufflenet was not loaded: {type(e).__name__}: {e}", stacklevel=2)


class _WatchForModelBuilder:
    """Meta-path finder that waits for ``TARGET`` and wraps its loader; it removes itself once used."""

    def find_spec(self, name, path=None, target=None):
        if name != TARGET:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _LoadPluginAfter(spec.loader)
                return spec
        return None


def install():
    """Watch for the model builder unless opted out or already imported (then import the plugin directly)."""
    if os.environ.get(OPT_OUT, "1").strip().lower() in ("0", "false", "no", "off"):
        return
    if TARGET in sys.modules:
        import ultralytics_shufflenet  # noqa: F401
    elif not any(isinstance(f, _WatchForModelBuilder) for f in sys.meta_path):
        sys.meta_path.insert(0, _WatchForModelBuilder())


try:
    install()
except Exception:  # noqa: S110 - start-up must never fail because of this hook
    pass
