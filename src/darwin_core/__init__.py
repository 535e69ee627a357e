"""Darwin's engine: the self-improvement loop, its records, storage and plugin manager.

The Python API::

    from darwin_core import load_config, Engine, open_run, preflight
    config = load_config("darwin.toml")
    preflight(config)          # optional: build every backend once, record nothing
    engine = Engine.create(config, run_dir=Path("runs/demo"))
    summary = engine.run_loop()
    view = open_run("runs/demo")            # read-only: variants, attempts, files
    best = view.archive.best
    code = view.files(best.id)              # {relative path: bytes}
"""

__version__ = "0.1.0"

from .config import ConfigError, DarwinConfig, config_from_dict, load_config  # noqa: E402
from .engine import Engine  # noqa: E402
from .plugins import PluginManager  # noqa: E402
from .reader import RunView, open_run  # noqa: E402
from .commands.preflight import preflight  # noqa: E402  (what `darwin validate` checks)

__all__ = ["ConfigError", "DarwinConfig", "Engine", "PluginManager", "RunView", "__version__",
           "config_from_dict", "load_config", "open_run", "preflight"]
