"""Build a backend outside a run: the registration hooks, the options model, the factory."""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import tempfile
from pathlib import Path
from typing import Any, Iterable

import pluggy

from darwin_hookspecs import (
    ENTRY_POINT_GROUP,
    PROJECT_NAME,
    REGISTRY_TYPES,
    BuildContext,
    Registry,
    UserError,
    specs,
)

HOOKS = {
    "generator": "darwin_register_generators", "sandbox": "darwin_register_sandboxes",
    "benchmark": "darwin_register_benchmarks", "storage": "darwin_register_storage",
    "predictor": "darwin_register_predictors", "executor": "darwin_register_executors",
    "selection": "darwin_register_selectors", "memory": "darwin_register_memory",
}


def _manager(plugins: Iterable[Any], entry_points: bool) -> pluggy.PluginManager:
    from ..builtin import PLUGINS

    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(specs)
    for plugin in plugins:
        pm.register(plugin)
    for name, module in PLUGINS:  # the built-ins, as a run has them
        plugin = importlib.import_module(module)
        if not pm.is_registered(plugin) and not pm.has_plugin(name):
            pm.register(plugin, name=name)
    if entry_points:
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if not pm.has_plugin(ep.name):
                plugin = ep.load()
                if not pm.is_registered(plugin):
                    pm.register(plugin, name=ep.name)
    pm.check_pending()
    return pm


def collect_registry(kind: str, plugins: Iterable[Any] = (), *, entry_points: bool = True) -> Registry[Any]:
    """The registry of ``kind`` as a run would see it: the built-in plugins' backends, those of
    ``plugins`` (e.g. the module under test, registered first) and, with ``entry_points``,
    every installed plugin's."""
    if kind not in HOOKS:
        raise UserError(f"unknown backend kind {kind!r}; fix: use one of {', '.join(HOOKS)}")
    pm = _manager(plugins, entry_points)
    registry = REGISTRY_TYPES[kind]()
    for impl in getattr(pm.hook, HOOKS[kind]).get_hookimpls():
        registry.current_plugin = impl.plugin_name
        impl.function(registry=registry)
    return registry


def build_backend(
    kind: str,
    name: str,
    options: dict[str, Any] | None = None,
    *,
    plugins: Iterable[Any] = (),
    entry_points: bool = True,
    config_dir: Path | None = None,
    run_dir: Path | None = None,
    seed: int = 0,
    services: dict[str, Any] | None = None,
) -> Any:
    """Build backend ``name`` of ``kind`` with ``options`` (validated by its options model, as
    in a run). ``plugins`` are modules/objects to register (your plugin, if it is not
    installed); ``run_dir`` defaults to a fresh temporary directory."""
    registry = collect_registry(kind, plugins, entry_points=entry_points)
    options = dict(options or {})
    spec = registry.for_url(name) if kind == "storage" else registry.get(name)  # type: ignore[attr-defined]
    if kind == "storage":
        options.setdefault("url", name)
    spec.check_available()
    parsed = spec.options.model_validate(options) if spec.options is not None else options
    context = BuildContext(run_id="darwin-testing", config_dir=config_dir or Path.cwd(), seed=seed,
                           run_dir=run_dir or Path(tempfile.mkdtemp(prefix="darwin-testing-")),
                           services=dict(services or {}))
    return spec.factory(parsed, context)
