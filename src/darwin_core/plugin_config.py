"""``[plugins.NAME]`` sections: validated by each plugin's ``darwin_options`` model and handed
to that plugin alone through its ``darwin_configure`` hook (with the run directory)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from darwin_hookspecs import DarwinError, PluginError, RunInfo

from .config import ConfigError, DarwinConfig, format_validation_error
from .plugins import PluginManager

HOOK = "darwin_configure"


def options_model(plugin: Any) -> type[BaseModel] | None:
    model = getattr(plugin, "darwin_options", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def plugin_options(manager: PluginManager, config: DarwinConfig) -> dict[str, Any]:
    """``{plugin name: validated options}`` for every ``[plugins.NAME]`` section and every
    plugin implementing ``darwin_configure``; a clear :class:`ConfigError` otherwise."""
    sections = config.plugins.options
    where = config.source or "<config>"
    loaded = sorted(name for name, _ in manager.pm.list_name_plugin())
    result: dict[str, Any] = {}
    for name, section in sections.items():
        plugin = manager.pm.get_plugin(name)
        if plugin is None:
            raise ConfigError(f"{where}: [plugins.{name}]: no plugin {name!r} is loaded; fix: install it, "
                              f"or correct the name (loaded: {', '.join(loaded)})")
        model = options_model(plugin)
        if model is None and not any(impl.plugin is plugin for impl in _impls(manager)):
            raise ConfigError(f"{where}: [plugins.{name}]: plugin {name!r} takes no options (it "
                              "implements no darwin_configure); fix: remove the section")
        result[name] = _validate(model, section, where, name)
    for impl in _impls(manager):
        if impl.plugin_name not in result:
            result[impl.plugin_name] = _validate(options_model(impl.plugin), {}, where, impl.plugin_name)
    return result


def _impls(manager: PluginManager) -> list[Any]:
    return list(getattr(manager.pm.hook, HOOK).get_hookimpls())


def _validate(model: type[BaseModel] | None, section: dict[str, Any], where: Any, name: str) -> Any:
    if model is None:
        return dict(section)
    try:
        return model.model_validate(section)
    except ValidationError as exc:
        raise ConfigError(f"options of plugin {name!r}:\n"
                          + format_validation_error(exc, where, model, section=f"[plugins.{name}]")) from None


def configure_plugins(manager: PluginManager, config: DarwinConfig, run: RunInfo,
                      run_dir: Path | None) -> dict[str, Any]:
    """Validate the sections and call each plugin's ``darwin_configure`` with its own options."""
    options = plugin_options(manager, config)
    for impl in _impls(manager):
        given = {"run": run, "options": options[impl.plugin_name], "run_dir": run_dir}
        try:
            impl.function(**{k: v for k, v in given.items() if k in impl.argnames})
        except DarwinError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failing plugin is named
            raise PluginError(f"plugin {impl.plugin_name!r} raised in {HOOK}: {type(exc).__name__}: "
                              f"{exc}; fix: correct its [plugins.{impl.plugin_name}] section or disable it") from exc
    return options


def embedded_plugins(config: DarwinConfig, entry_points: bool, extra_plugins: Any = ()) -> PluginManager:
    """The plugin manager of a run started from Python: the built-ins, ``extra_plugins`` and the
    entry points ``[plugins] enable`` names, or every installed plugin with ``entry_points``."""
    return PluginManager(disable=config.plugins.disable, third_party=entry_points,
                         enable=config.plugins.enable, extra_plugins=extra_plugins)
