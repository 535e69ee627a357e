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

__all__ = ["ConfigError", "DarwinConfig", "Engine", "PluginManager", "RunView", "__version__",
           "config_from_dict", "load_config", "open_run", "preflight"]

_WHERE = {"ConfigError": "config", "DarwinConfig": "config", "config_from_dict": "config",
          "load_config": "config", "Engine": "engine", "PluginManager": "plugins", "RunView": "reader",
          "open_run": "reader", "preflight": "commands.preflight"}
"""Where each name of the API lives: imported on first use, so that ``darwin status`` does not
import the engine (PEP 562)."""


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module 'darwin_core' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value
