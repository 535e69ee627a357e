"""Missing sub-expressions over sequence lengths: two fix templates whose ingredients are the
function's integer names and the builtin ``len``.

* ``extend``: ``len(s)`` extended to ``(len(s) - v)``, ``v`` an integer name of the function that
  indexes or slices ``s`` (``s[v]``, ``s[v:]``): the elements of ``s`` from position ``v`` on, the
  usual count a merge, a window or a scan needs. The program-repair literature's *missing
  sub-expression* / *expression expansion* (Sobreira et al.'s Defects4J dissection, SANER 2018;
  ELIXIR's expression expansion, ASE 2017; PAR's and TBar's "insert / mutate operand" with the
  operand taken from the program, as ssFix and CapGen take their ingredients). ``len(s) + v``
  would run past the sequence, so only ``-`` is offered; ``v`` must not be read or bound by the
  statement (or loop/branch test) holding the call already (``i < len(s)`` stays, ``mid =
  len(s) // 2`` is not made circular) nor first bound after it;
* ``negative_bound``: a slice bound ``-e`` (``e`` not a literal) rewritten as ``len(s) - e``
  (``s[k:-k]`` to ``s[k:len(s) - k]``, ``s[-k:]`` to ``s[len(s) - k:]``): Python's negative-bound
  pitfall, ``-0`` is ``0`` so ``s[:-k]`` is empty and ``s[-k:]`` the whole sequence when ``k ==
  0``. TBar's "mutate operand" with an ingredient from the builtin API; one edit per such bound.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from libcst.metadata import PositionProvider

from .tables import paren
from .templates import binds, names_in

LITERALS = (cst.Integer, cst.Float)
"""A negated literal bound (``s[:-1]``) is never zero: rewriting it changes nothing."""


def _length(seq: cst.BaseExpression) -> cst.Call:
    return cst.Call(func=cst.Name("len"), args=[cst.Arg(value=seq.deep_clone())])


def _minus(left: cst.BaseExpression, right: cst.BaseExpression) -> cst.BinaryOperation:
    return cst.BinaryOperation(left=left, operator=cst.Subtract(), right=right)


def _pure(expr: cst.BaseExpression) -> bool:
    """A name or an attribute chain (``xs``, ``self.items``): read twice, it gives the same value."""
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return isinstance(expr, cst.Name)


def _negated(expr: cst.BaseExpression | None) -> bool:
    return isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus) \
        and not isinstance(expr.expression, LITERALS)


class SubexprSites:
    """Mixin of :class:`~.collector.SiteCollector` (uses the scopes of :class:`~.names.NameSites`:
    their integer names and the names indexing each sequence)."""

    _add: Any
    scope: Any
    scopes: list[Any]

    def _init_subexpr(self) -> None:
        self.lengths: list[tuple[cst.Call, str, Any, set[str]]] = []
        """``(len(s) call, s, its scope, names its statement reads or binds)``: ``extend`` sites once
        the scope's indexes are known."""
        self._contexts: list[tuple[cst.CSTNode, set[str]]] = []
        """Simple statements and loop/branch headers in visiting order (the innermost holding a
        node is the last one whose span contains it), with the names a ``for`` header binds."""
        self._loops: list[tuple[Any, set[str], int]] = []
        """``(scope, names a for loop binds, its line)``."""

    def note_subexpr_context(self, node: cst.CSTNode) -> None:
        """A simple statement, or an ``if``/``while`` (its test) or a ``for`` (its iterable; its
        target is bound on its first line)."""
        if len(self.scopes) <= 1:
            return
        if isinstance(node, cst.For):
            line = self.get_metadata(PositionProvider, node).start.line  # type: ignore[attr-defined]
            self._loops.append((self.scope, names_in(node.target), line))
            self._contexts.append((node.iter, names_in(node.target)))
        else:
            self._contexts.append((node.test if isinstance(node, (cst.If, cst.While)) else node, set()))

    def _used(self, node: cst.CSTNode) -> set[str]:
        """The names read or bound by the innermost statement or header holding ``node``."""
        span = self.get_metadata(PositionProvider, node)  # type: ignore[attr-defined]
        for ctx, bound in reversed(self._contexts):
            outer = self.get_metadata(PositionProvider, ctx)  # type: ignore[attr-defined]
            if (outer.start.line, outer.start.column) <= (span.start.line, span.start.column) \
                    and (span.end.line, span.end.column) <= (outer.end.line, outer.end.column):
                return names_in(ctx) | bound
        return set()

    def note_subexpr_call(self, node: cst.Call) -> None:
        if len(self.scopes) > 1 and isinstance(node.func, cst.Name) and node.func.value == "len" \
                and len(node.args) == 1 and isinstance(node.args[0].value, cst.Name) \
                and node.args[0].keyword is None and not node.args[0].star:
            self.lengths.append((node, node.args[0].value.value, self.scope, self._used(node)))

    def note_subexpr_subscript(self, node: cst.Subscript) -> None:
        if len(self.scopes) <= 1 or not _pure(node.value):
            return
        for i, element in enumerate(node.slice):
            part = element.slice
            if not isinstance(part, cst.Slice):
                continue
            for bound in ("lower", "upper"):
                if not _negated(getattr(part, bound)):
                    continue

                def rewrite(n: cst.CSTNode, i: int = i, bound: str = bound) -> cst.CSTNode:
                    elements = list(n.slice)  # type: ignore[attr-defined]
                    sl = elements[i].slice
                    value = getattr(sl, bound).expression
                    elements[i] = elements[i].with_changes(
                        slice=sl.with_changes(**{bound: _minus(_length(n.value), value)}))  # type: ignore[attr-defined]
                    return n.with_changes(slice=elements)
                self._add("negative_bound", node, f"negative-{bound}", [(f"{bound} -e -> len(seq) - e", rewrite)])

    def _first_bound(self, scope: Any) -> dict[str, int]:
        """Name -> the first line a simple statement or a ``for`` of ``scope`` binds it on."""
        found = [(binds(stmt), self.get_metadata(PositionProvider, stmt).start.line)  # type: ignore[attr-defined]
                 for stmt in scope.statements]
        found += [(names, line) for owner, names, line in self._loops if owner is scope]
        first: dict[str, int] = {}
        for names, line in found:
            for name in names:
                first[name] = min(first.get(name, line), line)
        return first

    def _finish_subexpr(self) -> None:
        bound: dict[int, dict[str, int]] = {}
        for call, seq, scope, used in self.lengths:
            if id(scope) not in bound:
                bound[id(scope)] = self._first_bound(scope)
            first = bound[id(scope)]
            line = self.get_metadata(PositionProvider, call).start.line  # type: ignore[attr-defined]
            fellows = sorted(v for v in scope.indexes.get(seq, set()) & scope.integers
                             if v not in used and first.get(v, 0) < line)
            self._add("extend", call, "len-minus-index", [
                (f"len({seq}) -> len({seq}) - {v}", lambda n, v=v: paren(_minus(n, cst.Name(v))))  # type: ignore[arg-type]
                for v in fellows])
