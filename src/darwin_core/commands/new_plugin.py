"""``darwin new-plugin KIND NAME``: write a plugin package of KIND with a passing test."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from darwin_hookspecs import UserError

from .app import app, guard, out
from . import templates_more
from .templates import PLUGINS as BASIC, PYPROJECT, README, VARIANT_CHECK

PLUGINS = {**BASIC, **templates_more.PLUGINS}
KINDS = sorted(PLUGINS)


def write_plugin(kind: str, name: str, dest: Path) -> Path:
    """Write the package ``darwin-NAME`` into ``dest``; return its directory."""
    if kind not in PLUGINS:
        raise UserError(f"unknown plugin kind {kind!r}; fix: use one of {', '.join(KINDS)}")
    if not re.fullmatch(r"[a-z][a-z0-9-]*", name):
        raise UserError(f"plugin name {name!r}: use lower-case letters, digits and '-' (e.g. my-bench)")
    root = dest / f"darwin-{name}"
    if root.exists():
        raise UserError(f"{root} already exists; fix: choose another name or --dir")
    module = "darwin_" + name.replace("-", "_")
    fill = {"name": name, "module": module, "kind": kind}
    plugin, test = PLUGINS[kind]
    files = {
        "pyproject.toml": PYPROJECT.format(**fill),
        "README.md": README.format(**fill),
        f"{module}/__init__.py": f'"""Darwin {kind} plugin {name}."""\n',
        f"{module}/plugin.py": plugin.format(**fill),
        "tests/test_plugin.py": test.format(**fill),
    }
    if kind == "benchmark":
        files["tests/variant/check.py"] = VARIANT_CHECK
    if kind == "storage":
        files["tests/conftest.py"] = templates_more.STORAGE_CONFTEST.format(**fill)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@app.command("new-plugin")
def new_plugin(
    kind: str = typer.Argument(..., help=f"One of: {', '.join(KINDS)}."),
    name: str = typer.Argument(..., help="The plugin's (and backend's) name, e.g. my-bench."),
    dest: Path = typer.Option(Path("."), "--dir", help="Where to create the package directory."),
) -> None:
    """Write a plugin package of KIND (entry point, options model, a test running its suite)."""
    with guard():
        root = write_plugin(kind, name, dest)
    out.print(f"wrote {root}\n  test it: PYTHONPATH={root} python -m pytest {root / 'tests'}\n"
              f"  install it: pip install -e {root}")
