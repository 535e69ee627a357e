"""The plugin manager: a fresh one per run, with the built-in plugins and the ``darwin``
entry-point group.

Built-ins are the modules of :data:`DEFAULT_PLUGINS` (as pytest's ``default_plugins``), so a
checkout that is not installed has its backends too; third-party plugins are entry points.
``DARWIN_DISABLE_PLUGINS=name1,name2`` (or ``[plugins] disable``) skips plugins by name (a
built-in's name, or an entry point's). Every backend created is checked against the protocol
of its kind. Nothing happens at import time.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import os
from dataclasses import dataclass, field
from typing import Any, Iterable

import pluggy
from pydantic import BaseModel, ValidationError

from darwin_hookspecs import (
    ENTRY_POINT_GROUP,
    LEDGER,
    PROJECT_NAME,
    REGISTRY_TYPES,
    BackendSpec,
    BuildContext,
    DarwinError,
    PluginError,
    Registry,
    UserError,
    missing_members,
    specs,
)

from .config import ConfigError, format_validation_error
from .ledger import RunLedger

DISABLE_ENV = "DARWIN_DISABLE_PLUGINS"

DEFAULT_PLUGINS: tuple[tuple[str, str], ...] = (
    ("darwin-mutation", "darwin_plugins.mutation.plugin"),
    ("darwin-local-sandbox", "darwin_plugins.local_sandbox.plugin"),
    ("darwin-container-sandboxes", "darwin_plugins.containers.plugin"),
    ("darwin-custom-benchmark", "darwin_plugins.custom_benchmark.plugin"),
    ("darwin-file-storage", "darwin_plugins.file_storage"),
    ("darwin-mongo-storage", "darwin_plugins.mongo_storage"),
    ("darwin-s3-storage", "darwin_plugins.s3_storage"),
    ("darwin-local-executor", "darwin_plugins.local_executor"),
    ("darwin-selection", "darwin_plugins.selection"),
    ("darwin-llm", "darwin_plugins.llm.plugin"),
    ("darwin-self-agent", "darwin_plugins.self_agent.plugin"),
    ("darwin-swebench", "darwin_plugins.swebench.plugin"),
    ("darwin-ray-executor", "darwin_plugins.ray_executor"),
    ("darwin-tracing", "darwin_plugins.tracing"),
    ("darwin-cmp-selection", "darwin_plugins.cmp_selection"),
    ("darwin-world-model", "darwin_plugins.world_model.plugin"),
    ("darwin-base-rate", "darwin_plugins.base_rate"),
    ("darwin-reasoning-bank", "darwin_plugins.reasoning_bank"),
    ("darwin-metrics", "darwin_plugins.metrics_exporter"),
)
"""The built-in plugins: ``(name, module)``, registered in this order before any entry point."""

_REGISTER_HOOKS = {
    "generator": "darwin_register_generators",
    "sandbox": "darwin_register_sandboxes",
    "benchmark": "darwin_register_benchmarks",
    "storage": "darwin_register_storage",
    "predictor": "darwin_register_predictors",
    "executor": "darwin_register_executors",
    "selection": "darwin_register_selectors",
    "memory": "darwin_register_memory",
}


@dataclass
class PluginInfo:
    """An installed plugin: its entry-point name, distribution and version."""

    name: str
    distribution: str = ""
    version: str = ""
    module: str = ""
    backends: list[tuple[str, str]] = field(default_factory=list)


def disabled_names(disable: Iterable[str] = ()) -> set[str]:
    """The plugins not to load: ``disable`` (``[plugins] disable``) and ``DARWIN_DISABLE_PLUGINS``."""
    names = [*disable, *os.environ.get(DISABLE_ENV, "").split(",")]
    return {d.strip() for d in names if d.strip()}


class PluginManager:
    """Loads plugins, checks their hooks, and builds backends by kind and name."""

    def __init__(
        self,
        *,
        disable: Iterable[str] = (),
        extra_plugins: Iterable[Any] = (),
        load_entry_points: bool = True,
        defaults: Iterable[tuple[str, str]] = DEFAULT_PLUGINS,
        third_party: bool = True,
        enable: Iterable[str] = (),
    ) -> None:
        """``third_party=False`` loads the built-in plugins (``defaults``) and, of the entry
        points, only the ``enable``d ones: what an embedded run gets by default."""
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(specs)
        self.infos: dict[str, PluginInfo] = {}
        self.disabled = disabled_names(disable)
        self.third_party = third_party
        self.enable = {e.strip() for e in enable if e.strip()}
        self._load_defaults(defaults)
        if load_entry_points and (third_party or self.enable):  # else no entry point would load
            self._load_entry_points()
            missing = sorted(self.enable - set(self.infos) - self.disabled)
            if missing:
                raise UserError(
                    f"[plugins] enable names {', '.join(map(repr, missing))}, which no installed "
                    f"distribution provides; fix: pip install it or remove it (installed: "
                    f"{', '.join(sorted(self.infos))})")
        for plugin in extra_plugins:
            self.register(plugin)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(
                f"plugin {exc.plugin!r} implements a hook Darwin does not define ({exc}); "
                "fix: correct the hook name (hooks are listed in darwin_hookspecs.specs)"
            ) from None
        self.registries: dict[str, Registry[Any]] = self._collect_registries()

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def register(self, plugin: Any, name: str | None = None) -> None:
        """Register a plugin object or module (tests and embedding code use this); its name
        is ``name``, else its ``darwin_name`` attribute (what ``[plugins.NAME]`` addresses)."""
        name = name or getattr(plugin, "darwin_name", None)
        if self.pm.is_registered(plugin):  # e.g. a built-in module also passed by embedding code
            return
        try:
            registered = self.pm.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise PluginError(f"plugin {name or plugin!r} cannot be registered: {exc}") from None
        if registered:
            self.infos.setdefault(registered, PluginInfo(name=registered, module=str(plugin)))

    def _load_defaults(self, defaults: Iterable[tuple[str, str]]) -> None:
        from . import __version__

        for name, module in defaults:
            if name in self.disabled:
                continue
            try:
                plugin = importlib.import_module(module)
            except Exception as exc:  # noqa: BLE001 - any import failure names the plugin
                raise PluginError(
                    f"built-in plugin {name!r} ({module}) failed to import: {type(exc).__name__}: "
                    f"{exc}; fix: reinstall darwin, or disable it with {DISABLE_ENV}={name}"
                ) from exc
            self.register(plugin, name=name)
            self.infos[name] = PluginInfo(name=name, distribution=PROJECT_NAME, version=__version__,
                                          module=module)

    def _load_entry_points(self) -> None:
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in self.disabled or self.pm.has_plugin(ep.name):
                continue  # also a built-in still listed by the metadata of an older install
            if not (self.third_party or ep.name in self.enable):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - any import failure names the plugin
                dist = ep.dist.name if ep.dist else "?"
                raise PluginError(
                    f"plugin {ep.name!r} (from {dist}, {ep.value}) failed to import: "
                    f"{type(exc).__name__}: {exc}; fix: reinstall or upgrade it, or disable it "
                    f"with {DISABLE_ENV}={ep.name}"
                ) from exc
            self.register(plugin, name=ep.name)
            info = self.infos[ep.name]
            info.module = ep.value
            if ep.dist is not None:
                info.distribution = ep.dist.name
                info.version = ep.dist.version

    def _collect_registries(self) -> dict[str, Registry[Any]]:
        registries: dict[str, Registry[Any]] = {}
        for kind, hook_name in _REGISTER_HOOKS.items():
            registry = REGISTRY_TYPES[kind]()
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                registry.current_plugin = impl.plugin_name
                before = set(registry.names())
                try:
                    impl.function(registry=registry)
                except PluginError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a failing plugin is named
                    raise PluginError(
                        f"plugin {impl.plugin_name!r} raised in {hook_name}: "
                        f"{type(exc).__name__}: {exc}; fix: upgrade or disable it with "
                        f"{DISABLE_ENV}={impl.plugin_name}"
                    ) from exc
                info = self.infos.setdefault(impl.plugin_name, PluginInfo(name=impl.plugin_name))
                info.backends.extend((kind, n) for n in sorted(set(registry.names()) - before))
            registry.current_plugin = ""
            registries[kind] = registry
        return registries

    # ------------------------------------------------------------------ backends

    def spec(self, kind: str, name: str) -> BackendSpec[Any]:
        return self.registries[kind].get(name)

    def create(
        self,
        kind: str,
        name: str,
        options: dict[str, Any],
        context: BuildContext,
        *,
        section: str | None = None,
    ) -> Any:
        """Validate ``options`` against the backend's model and call its factory. The context
        gets the run's spend ledger (``services["ledger"]``) unless it has one: the engine owns
        spending."""
        spec = self.registries[kind].for_url(name) if kind == "storage" else self.spec(kind, name)
        spec.check_available()
        context.services.setdefault(LEDGER, RunLedger(context))
        parsed = validate_options(spec, options, context, section=section or kind)
        try:
            backend = spec.factory(parsed, context)
        except DarwinError:
            raise
        except ImportError as exc:
            raise UserError(
                f"{kind} backend {spec.name!r} could not import {exc.name or exc}; "
                f"fix: pip install 'darwin[{spec.extra or spec.name}]'"
            ) from exc
        except (ValueError, TypeError) as exc:  # the backend rejected its options
            raise ConfigError(
                f"[{section or kind}] {kind} backend {spec.name!r} (plugin {spec.plugin or '?'}) rejected "
                f"its options: {type(exc).__name__}: {exc}; fix: correct the [{section or kind}] section"
            ) from exc
        except Exception as exc:  # noqa: BLE001 - a broken factory is named
            raise PluginError(
                f"{kind} backend {spec.name!r} (plugin {spec.plugin or '?'}) failed to start: "
                f"{type(exc).__name__}: {exc}; fix: upgrade or disable the plugin ({DISABLE_ENV})"
            ) from exc
        check_backend(spec, backend, self.registries[kind].protocol)
        return backend

    def plugin_infos(self) -> list[PluginInfo]:
        return [self.infos[name] for name in sorted(self.infos)]


def check_backend(spec: BackendSpec[Any], backend: Any, protocol: type | None) -> None:
    """Raise :class:`PluginError` naming the plugin when ``backend`` lacks part of ``protocol``."""
    missing = missing_members(protocol, backend) if protocol is not None else []
    if missing:
        raise PluginError(
            f"{spec.kind} backend {spec.name!r} of plugin {spec.plugin or '?'!r} does not implement "
            f"{', '.join(missing)} of the {protocol.__name__} protocol (darwin_hookspecs.protocols); "
            f"fix: upgrade the plugin, or disable it with {DISABLE_ENV}={spec.plugin or '?'}"
        )


def validate_options(
    spec: BackendSpec[Any], options: dict[str, Any], context: BuildContext, *, section: str
) -> Any:
    if spec.options is None:
        return dict(options)
    model = spec.options
    try:
        return model.model_validate(options)  # type: ignore[attr-defined]
    except ValidationError as exc:
        source = context.services.get("config_source")
        raise ConfigError(
            f"options of {spec.kind} backend {spec.name!r}:\n"
            + format_validation_error(exc, source, model if isinstance(model, type) and issubclass(model, BaseModel) else None, section=f"[{section}]")
        ) from None
