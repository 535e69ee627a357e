"""``darwin plugins``: installed plugins, the hooks they implement, their backends and options."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.text import Text

from darwin_hookspecs import BackendSpec, UserError

from .app import app, guard, out, styled

if TYPE_CHECKING:  # imported when used: every command loads this module to register `plugins`
    from ..plugins import PluginManager

REGISTER_PREFIX = "darwin_register_"
MEMORY_HOOKS = ("darwin_memory_retrieve", "darwin_memory_record")


def plugin_hooks(manager: "PluginManager", name: str) -> list[str]:
    """The hooks the plugin registered as ``name`` implements, sorted."""
    plugin = manager.pm.get_plugin(name)
    if plugin is None:
        return []
    return sorted(caller.name for caller in manager.pm.get_hookcallers(plugin) or [])


def plugin_roles(hooks: list[str], backends: list[tuple[str, str]]) -> list[str]:
    """What a plugin is for: ``backends``, ``memory``, ``observer`` (lifecycle hooks)."""
    roles = ["backends"] if backends else []
    if any(h in MEMORY_HOOKS for h in hooks):
        roles.append("memory")
    if any(not h.startswith(REGISTER_PREFIX) and h not in MEMORY_HOOKS for h in hooks):
        roles.append("observer")
    return roles


def backend_spec(manager: "PluginManager", kind: str, name: str) -> BackendSpec[Any]:
    return manager.registries[kind].get(name)


def backend_dict(spec: BackendSpec[Any]) -> dict[str, Any]:
    from .schema import options_schema

    return {"kind": spec.kind, "name": spec.name, "description": spec.description, "extra": spec.extra,
            "available": spec.missing_requirement() is None, "options": options_schema(spec.options)}


def listing(manager: "PluginManager") -> list[dict[str, Any]]:
    """The JSON of ``darwin plugins --json``."""
    data = []
    for info in manager.plugin_infos():
        hooks = plugin_hooks(manager, info.name)
        data.append({"name": info.name, "distribution": info.distribution, "version": info.version,
                     "module": info.module, "hooks": hooks, "roles": plugin_roles(hooks, info.backends),
                     "backends": [backend_dict(backend_spec(manager, k, n)) for k, n in info.backends]})
    return data


def matching_specs(manager: "PluginManager", ref: str) -> list[BackendSpec[Any]]:
    """Backends named ``ref`` (``name`` or ``kind:name``), of every kind."""
    kind, _, name = ref.rpartition(":")
    found = [spec for k, registry in manager.registries.items() if not kind or k == kind
             for spec in registry.specs() if spec.name == name.strip().lower()]
    if not found:
        known = ", ".join(f"{s.kind}:{s.name}" for r in manager.registries.values() for s in r.specs())
        raise UserError(f"no backend named {ref!r}; fix: use one of {known}")
    return found


def print_options(spec: BackendSpec[Any]) -> None:
    from rich.table import Table

    from .schema import field_docs

    out.print(styled(f"{spec.kind} backend {spec.name}", "bold",
                     f" (plugin {spec.plugin}){': ' + spec.description if spec.description else ''}"))
    model = spec.options
    if model is None:
        out.print("  options are handed to the backend as a dict, unchecked by Darwin")
        return
    docs = field_docs(model) if hasattr(model, "model_fields") else []
    if not docs:
        out.print("  no options")
        return
    table = Table("key", "type", "default", "description", box=None, pad_edge=False)
    for doc in docs:
        default = "(required)" if doc.required else json.dumps(doc.default)
        table.add_row(Text(doc.name), Text(doc.type), Text(default), Text(doc.description))
    out.print(table)


@app.command()
def plugins(
    as_json: bool = typer.Option(False, "--json", help="Plugins, hooks, backends and option schemas as JSON."),
    options: Optional[str] = typer.Option(None, "--options", metavar="NAME",
                                          help="The options of backend NAME (or KIND:NAME)."),
) -> None:
    """List installed plugins, the hooks they implement and the backends they register."""
    from rich.table import Table

    with guard():
        from ..plugins import PluginManager

        manager = PluginManager()
        if options is not None:
            for spec in matching_specs(manager, options):
                print_options(spec)
            return
        data = listing(manager)
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    table = Table("plugin", "version", "role", "backends / hooks")
    for item in data:
        what = ", ".join(f"{b['kind']}:{b['name']}" for b in item["backends"])
        if not what:
            what = ", ".join(h.removeprefix("darwin_") for h in item["hooks"])
        table.add_row(Text(item["name"]), Text(item["version"]), Text(", ".join(item["roles"])), Text(what))
    out.print(table)
