"""``stale_length``: a size read after the sequence it measured has changed.

A loop that changes a sequence ``s`` (``s.pop(...)``, ``s.remove(...)``, ``s.append(...)``,
``del s[...]``...) and reads a name ``v`` that stood for ``s``'s size when ``s`` was made (``s``
built from ``v``: ``people = list(range(1, n + 1))``; or ``v = len(s)``) and that the loop never
rebinds: ``v`` becomes ``len(s)`` (``idx = (idx + k - 1) % n`` to ``... % len(people)``). The
stale-value class of the repair literature (a name replaced by an expression of the program,
ssFix's and CapGen's ingredients), with the ingredient tied to the sequence the loop changes.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from .shapes import shapes_of
from .templates import names_in

MUTATORS = {"pop", "remove", "append", "insert", "extend", "clear", "popleft", "appendleft"}


def _sizes(function: cst.FunctionDef) -> dict[str, set[str]]:
    """``s`` -> the names standing for its size when it was made."""
    sizes: dict[str, set[str]] = {}

    class _V(cst.CSTVisitor):
        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return n is function

        def visit_Assign(self, n: cst.Assign) -> None:
            if len(n.targets) != 1 or not isinstance(n.targets[0].target, cst.Name):
                return
            target = n.targets[0].target.value
            value = n.value
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "len" \
                    and len(value.args) == 1 and isinstance(value.args[0].value, cst.Name):
                sizes.setdefault(value.args[0].value.value, set()).add(target)
            elif isinstance(value, (cst.Call, cst.BinaryOperation, cst.ListComp)):
                sizes.setdefault(target, set()).update(names_in(value) - {target})
    function.visit(_V())
    return sizes


def _loops(function: cst.FunctionDef) -> list[cst.For | cst.While]:
    found: list[cst.For | cst.While] = []

    class _V(cst.CSTVisitor):
        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return n is function

        def visit_For(self, n: cst.For) -> None:
            found.append(n)

        def visit_While(self, n: cst.While) -> None:
            found.append(n)
    function.visit(_V())
    return found


def _changed_and_bound(body: cst.CSTNode) -> tuple[set[str], set[str]]:
    """The sequences ``body`` changes in place, and the names it binds."""
    changed: set[str] = set()
    bound: set[str] = set()

    class _V(cst.CSTVisitor):
        def visit_Call(self, n: cst.Call) -> None:
            f = n.func
            if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and f.attr.value in MUTATORS:
                changed.add(f.value.value)

        def visit_Del(self, n: cst.Del) -> None:
            if isinstance(n.target, cst.Subscript) and isinstance(n.target.value, cst.Name):
                changed.add(n.target.value.value)

        def visit_AssignTarget(self, n: cst.AssignTarget) -> None:
            bound.update(names_in(n.target))

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            bound.update(names_in(n.target))

        def visit_For(self, n: cst.For) -> None:
            bound.update(names_in(n.target))
    body.visit(_V())
    return changed, bound


class StaleSites:
    """Mixin of :class:`~.collector.SiteCollector`: ``stale_length`` sites, found when the module
    is left (every function at once)."""

    _add: Any
    functions: list[cst.FunctionDef]

    def _finish_stale(self) -> None:
        shapes = shapes_of(self)
        for function in self.functions:
            sizes = _sizes(function)
            if not sizes:
                continue
            offered: set[int] = set()  # a name in nested loops is offered once
            for loop in _loops(function):
                changed, bound = _changed_and_bound(loop.body)
                if isinstance(loop, cst.For):
                    bound |= names_in(loop.target)
                standing = {v: s for s in sorted(changed) for v in sorted(sizes.get(s, ())) if v not in bound and v != s}
                if not standing:
                    continue
                parts = [loop.body] + ([loop.test] if isinstance(loop, cst.While) else [])
                for part in parts:
                    for name in shapes.variables(part):
                        seq = standing.get(name.value)
                        if seq is not None and id(name) not in offered:
                            offered.add(id(name))
                            self._add("stale_length", name, "stale-length", [(f"{name.value} -> len({seq})", _length_of(seq))])


def _length_of(seq: str) -> Any:
    def make(n: cst.CSTNode) -> cst.CSTNode:
        return cst.Call(func=cst.Name("len"), args=[cst.Arg(value=cst.Name(seq))])
    return make
