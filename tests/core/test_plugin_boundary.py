"""Plugins depend on the contract (``darwin_hookspecs``) only: no module under ``plugins/``
imports the engine (``darwin_core``), not even lazily inside a function."""

from __future__ import annotations

import ast

from support import REPO

PLUGINS = REPO / "plugins"
ENGINE = "darwin_core"


def engine_imports(source: str) -> list[tuple[int, str]]:
    """``(line, module)`` of every import of the engine in ``source`` (statements, and
    ``importlib.import_module``/``__import__`` calls with a literal name)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        found += [(node.lineno, n) for n in names if n == ENGINE or n.startswith(ENGINE + ".")]
    return found


def test_the_checker_sees_every_form_of_import() -> None:
    source = (
        "# import darwin_core in a comment is fine\n"
        "'''from darwin_core import x, in a docstring, is fine'''\n"
        "import darwin_hookspecs, darwin_core.ledger\n"
        "def f():\n"
        "    from darwin_core import __version__\n"
        "    import importlib; importlib.import_module('darwin_core.plugins')\n"
        "from darwin_core_extras import y  # another package\n"
    )
    assert engine_imports(source) == [(3, "darwin_core.ledger"), (5, "darwin_core"),
                                      (6, "darwin_core.plugins")]


def test_no_plugin_module_imports_the_engine() -> None:
    modules = sorted(PLUGINS.rglob("*.py"))
    assert len(modules) > 40  # the walk found the plugins
    offenders = [
        f"{path.relative_to(REPO)}:{line}: imports {name}"
        for path in modules
        for line, name in engine_imports(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "plugins must use darwin_hookspecs only:\n" + "\n".join(offenders)
