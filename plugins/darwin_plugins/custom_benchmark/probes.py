"""Probe calls for behaviour fingerprints (``probes = true`` in the task file).

A probe is a new input derived from a visible test's call of a function the test file imports
from the program: each integer argument moved by -1 and +1, each pair of adjacent arguments
swapped (the inputs a held-out test might use); a call with none of those (e.g. one list
argument) probes inside its list and tuple arguments instead (:func:`container_variants`). Only the calls in the test function of a
visible task (never a held-out one) are read, with literal arguments only; the order is
deterministic (tasks in benchmark order, calls in source order) and the count bounded. This
module only parses the test files (no code runs here); :mod:`.probe_runner` runs the probes in
the sandbox (forked by the builtin runner before it imports the variant, or a process of its own
beside the pytest runner) and reports a short hash of each result's ``repr`` (or of the
exception's type).
"""

from __future__ import annotations

import ast
import builtins
import sys
from dataclasses import dataclass
from pathlib import Path

from darwin_hookspecs import TaskSpec

DETAIL = "probes"
"""``TaskResult.details`` key of a task's fingerprint: its probes' hashes, space-separated."""


@dataclass(frozen=True)
class Probe:
    """One call to run: ``module.name(*args)``; ``args`` is the literal tuple's source."""

    task_id: str
    module: str
    name: str
    args: str

    def to_dict(self) -> dict[str, str]:
        return {"task": self.task_id, "module": self.module, "name": self.name, "args": self.args}


def _imports(tree: ast.Module) -> tuple[dict[str, tuple[str, str]], dict[str, str], list[str], set[str]]:
    """Names imported from modules, modules imported, star-imported modules, names defined."""
    names: dict[str, tuple[str, str]] = {}
    modules: dict[str, str] = {}
    star: list[str] = []
    defined: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name == "*":
                    star.append(node.module)
                else:
                    names[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                modules[alias.asname or alias.name] = alias.name
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names, modules, star, defined


def _program(module: str) -> bool:
    return module.split(".")[0] not in sys.stdlib_module_names and module.split(".")[0] != "pytest"


def _literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def argument_variants(args: list[ast.expr], nested: bool = False) -> list[list[ast.expr]]:
    """Probe argument lists from ``args``: each integer moved by -1 and +1, then each pair of
    adjacent arguments swapped (in that order); with ``nested``, then :func:`container_variants`
    of each list or tuple argument (an argument of one list has probes too)."""
    out: list[list[ast.expr]] = []
    for i, arg in enumerate(args):
        if isinstance(arg, ast.Constant) and type(arg.value) is int:
            for delta in (-1, 1):
                out.append(args[:i] + [ast.Constant(arg.value + delta)] + args[i + 1:])
    for i in range(len(args) - 1):
        out.append(args[:i] + [args[i + 1], args[i]] + args[i + 2:])
    if nested:
        for i, arg in enumerate(args):
            out.extend(args[:i] + [v] + args[i + 1:] for v in container_variants(arg))
    return out


def container_variants(node: ast.expr) -> list[ast.expr]:
    """Of a list or tuple literal of two or more elements: reversed, its first and its last
    element dropped, each integer in it (one level down) moved by -1 and +1."""
    if not isinstance(node, (ast.List, ast.Tuple)) or len(node.elts) < 2:
        return []
    elts, kind = node.elts, type(node)
    out: list[ast.expr] = [kind(elts=elts[::-1], ctx=ast.Load()), kind(elts=elts[1:], ctx=ast.Load()),
                           kind(elts=elts[:-1], ctx=ast.Load())]
    for i, elt in enumerate(elts):
        inner = [(None, elt)] if not isinstance(elt, (ast.List, ast.Tuple)) else list(enumerate(elt.elts))
        for j, leaf in inner:
            if not (isinstance(leaf, ast.Constant) and type(leaf.value) is int):
                continue
            for delta in (-1, 1):
                moved: ast.expr = ast.Constant(leaf.value + delta)
                if j is not None:
                    parts = list(elt.elts)  # type: ignore[attr-defined]
                    parts[j] = moved
                    moved = type(elt)(elts=parts, ctx=ast.Load())
                out.append(kind(elts=elts[:i] + [moved] + elts[i + 1:], ctx=ast.Load()))
    return out


def _target(call: ast.Call, names: dict[str, tuple[str, str]], modules: dict[str, str], star: list[str],
            defined: set[str]) -> tuple[str, str] | None:
    """``(module, function)`` a call reaches in the program, or ``None``."""
    func = call.func
    if isinstance(func, ast.Name):
        if func.id in names:
            module, name = names[func.id]
            return (module, name) if _program(module) else None
        program_star = [m for m in star if _program(m)]
        if program_star and func.id not in defined and not hasattr(builtins, func.id):
            return program_star[0], func.id
        return None
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in modules:
        module = modules[func.value.id]
        return (module, func.attr) if _program(module) else None
    return None


def derive(root: Path, tasks: list[TaskSpec], limit: int) -> list[Probe]:
    """At most ``limit`` probes from the visible ``test`` tasks' functions, in a fixed order."""
    probes: list[Probe] = []
    seen: set[tuple[str, str, str]] = set()
    parsed: dict[str, ast.Module | None] = {}
    for task in tasks:
        node_id = task.data.get("test")
        if task.holdout or not isinstance(node_id, str) or "::" not in node_id:
            continue
        rel, _, func_name = node_id.partition("::")
        if rel not in parsed:
            path = root / rel
            try:
                parsed[rel] = ast.parse(path.read_text(encoding="utf-8")) if path.is_file() else None
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError, RecursionError, MemoryError):
                parsed[rel] = None
        tree = parsed[rel]
        if tree is None:
            continue
        function = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                         and n.name == func_name), None)
        if function is None:
            continue
        scope = _imports(tree)
        calls = sorted((n for n in ast.walk(function) if isinstance(n, ast.Call)),
                       key=lambda n: (n.lineno, n.col_offset))
        for call in calls:
            target = _target(call, *scope)
            if target is None or call.keywords or not call.args or not all(map(_literal, call.args)):
                continue
            for args in argument_variants(list(call.args)) or argument_variants(list(call.args), nested=True):
                text = ast.unparse(ast.Tuple(elts=args, ctx=ast.Load()))
                key = (*target, text)
                if key in seen:
                    continue
                seen.add(key)
                probes.append(Probe(task.id, target[0], target[1], text))
                if len(probes) >= limit:
                    return probes
    return probes
