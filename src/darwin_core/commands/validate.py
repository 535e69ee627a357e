"""``darwin validate CONFIG``: everything ``darwin run`` checks before starting, and no run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from .app import app, guard, out, set_label


@app.command()
def validate(
    config: Path = typer.Argument(..., help="The TOML config file to check."),
    settings: list[str] = typer.Option([], "--set", help="Override a config value, KEY=VALUE (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Check a config: keys, backends (each one built, then closed), tasks, initial variant.

    Exit 0 when it would run; 2 bad input; 3 a broken plugin. Nothing is recorded."""
    with guard():
        from ..plugins import PluginManager
        from .preflight import check_options, preflight
        from .settings import load_with_settings

        cfg, base = load_with_settings(config, settings)
        manager = PluginManager(disable=cfg.plugins.disable, enable=cfg.plugins.enable)
        if settings:
            check_options(base, manager)
        checked = preflight(cfg, manager, source=set_label(settings))
    if as_json:
        sys.stdout.write(json.dumps({"ok": True, "backends": [list(b) for b in checked.backends],
                                     "tasks": checked.tasks, "initial_files": checked.initial_files,
                                     "storage": checked.storage_url}, indent=2) + "\n")
        return
    out.print(f"{config}: ok")
    for kind, name in checked.backends:
        out.print(f"  {kind:<10} {name}")
    out.print(f"  {checked.tasks} tasks, initial variant of {checked.initial_files} files, "
              f"storage {checked.storage_url}")
