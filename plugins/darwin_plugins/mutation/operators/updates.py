"""Update sites: the missing update of a collection a membership test reads.

``if x in seen: continue`` with ``seen = set()`` and no ``seen.add(...)`` anywhere in the function
never finds anything: the statement that records ``x`` is missing (a "missing statement" bug, out
of reach of GenProg's insert when no such statement exists in the function). The fix ingredient
is in the test itself (its element and its collection), so it is synthesised from it (PAR's and
TBar's "insert a missing method call" templates, with the same file as their ingredient source):
``seen.add(x)`` (``append`` for a list or deque) after the ``if``, or first in its body.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

EMPTY_COLLECTIONS = {"set": "add", "list": "append", "deque": "append"}
"""A constructor called without arguments -> the method that records an element."""
UPDATING = {"add", "append", "appendleft", "extend", "update", "insert", "setdefault"}
"""Methods whose call on a collection counts as updating it."""
ELEMENTS = (cst.Name, cst.Attribute, cst.Subscript, cst.Tuple)
"""Membership elements copied into the update (expressions without a call)."""
_EMPTY = cst.Module(body=[])


def _collection_method(value: cst.BaseExpression) -> str | None:
    if isinstance(value, cst.List) and not value.elements:
        return "append"
    if isinstance(value, cst.Call) and not value.args:
        func = value.func
        name = func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) else None
        return EMPTY_COLLECTIONS.get(name or "")
    return None


def _memberships(test: cst.BaseExpression) -> list[tuple[cst.BaseExpression, str]]:
    """``(element, collection name)`` of the ``x in v`` / ``x not in v`` tests of a condition."""
    found: list[tuple[cst.BaseExpression, str]] = []
    todo = [test]
    while todo:
        expr = todo.pop()
        if isinstance(expr, cst.BooleanOperation):
            todo += [expr.left, expr.right]
        elif isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
            todo.append(expr.expression)
        elif isinstance(expr, cst.Comparison) and len(expr.comparisons) == 1:
            comp = expr.comparisons[0]
            if isinstance(comp.operator, (cst.In, cst.NotIn)) and isinstance(comp.comparator, cst.Name) \
                    and isinstance(expr.left, ELEMENTS):
                found.append((expr.left, comp.comparator.value))
    return found


class UpdateSites:
    """Mixin of :class:`~.collector.SiteCollector` (uses the scopes of :class:`~.names.NameSites`)."""

    _add: Any
    scope: Any
    scopes: list[Any]

    def _init_updates(self) -> None:
        self.pending_updates: list[tuple[cst.If, cst.BaseExpression, str, Any]] = []

    def note_assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            method = _collection_method(node.value)
            if method:
                self.scope.collections[node.targets[0].target.value] = method

    def note_call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.attr.value in UPDATING:
            self.scope.updated.add(func.value.value)

    def note_if(self, node: cst.If) -> None:
        if len(self.scopes) > 1:  # inside functions only
            for element, collection in _memberships(node.test):
                self.pending_updates.append((node, element, collection, self.scope))

    def _finish_updates(self) -> None:
        done: set[tuple[int, str]] = set()
        for node, element, collection, scope in self.pending_updates:
            method = scope.collections.get(collection)
            if method is None or collection in scope.updated:
                continue
            code = _EMPTY.code_for_node(element).strip()
            if (id(node), code) in done:
                continue
            done.add((id(node), code))
            call = cst.parse_statement(f"{collection}.{method}({code})\n")
            what = f"`{collection}.{method}({code})`"
            self._add("update", node, "update-after", [
                (f"insert {what} after the if", lambda n, s=call: cst.FlattenSentinel([n, s.deep_clone()]))])
            body = node.body
            if isinstance(body, cst.IndentedBlock) and body.body:
                self._add("update", body.body[0], "update-first", [
                    (f"insert {what} first in the if", lambda n, s=call: cst.FlattenSentinel([s.deep_clone(), n]))])
