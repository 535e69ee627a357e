"""Update sites: the missing update of a collection a membership test reads.

``if x in seen: continue`` with ``seen = set()`` and no ``seen.add(...)`` anywhere in the function
never finds anything: the statement that records ``x`` is missing (a "missing statement" bug, out
of reach of GenProg's insert when no such statement exists in the function). The fix ingredient
is in the test itself (its element and its collection), so it is synthesised from it (PAR's and
TBar's "insert a missing method call" templates, with the same file as their ingredient source):
``seen.add(x)`` (``append`` for a list or deque) after the ``if``, or first in its body.

Likewise ``return runs`` after a loop that appends to ``runs`` only when a run ends loses the last
run: a copy of a conditional update of the returned name inside a loop (``runs.append(...)``,
``total += ...`` under an ``if``/``else`` of the loop body) is inserted before the ``return``
(GenProg's insert, its donor chosen by the returned name; an unconditional update in a loop is
not copied: flushing it again after the loop would repeat the last element).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from .tables import source_of

EMPTY_COLLECTIONS = {"set": "add", "list": "append", "deque": "append"}
"""A constructor called without arguments -> the method that records an element."""
UPDATING = {"add", "append", "appendleft", "extend", "update", "insert", "setdefault"}
"""Methods whose call on a collection counts as updating it."""
ELEMENTS = (cst.Name, cst.Attribute, cst.Subscript, cst.Tuple)
"""Membership elements copied into the update (expressions without a call)."""


def _collection_method(value: cst.BaseExpression) -> str | None:
    if isinstance(value, cst.List) and not value.elements:
        return "append"
    if isinstance(value, cst.Call) and not value.args:
        func = value.func
        name = func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) else None
        return EMPTY_COLLECTIONS.get(name or "")
    return None


def membership_tests(test: cst.BaseExpression) -> list[cst.Comparison]:
    """The ``x in v`` / ``x not in v`` comparisons among a test's ``and``/``or``/``not`` operands."""
    found: list[cst.Comparison] = []
    todo = [test]
    while todo:
        expr = todo.pop()
        if isinstance(expr, cst.BooleanOperation):
            todo += [expr.left, expr.right]
        elif isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
            todo.append(expr.expression)
        elif isinstance(expr, cst.Comparison) and len(expr.comparisons) == 1 \
                and isinstance(expr.comparisons[0].operator, (cst.In, cst.NotIn)):
            found.append(expr)
    return found


def _memberships(test: cst.BaseExpression) -> list[tuple[cst.BaseExpression, str]]:
    """``(element, collection name)`` of the ``x in v`` / ``x not in v`` tests of a condition."""
    return [(expr.left, expr.comparisons[0].comparator.value) for expr in membership_tests(test)  # type: ignore[attr-defined]
            if isinstance(expr.comparisons[0].comparator, cst.Name) and isinstance(expr.left, ELEMENTS)]


def _updates(stmt: cst.SimpleStatementLine, name: str) -> bool:
    """Whether the statement is an update of ``name``: ``name.append(...)``, ``name += ...``."""
    if len(stmt.body) != 1:
        return False
    small = stmt.body[0]
    if isinstance(small, cst.AugAssign):
        return isinstance(small.target, cst.Name) and small.target.value == name
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        func = small.value.func
        return isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) \
            and func.value.value == name and func.attr.value in UPDATING
    return False


class UpdateSites:
    """Mixin of :class:`~.collector.SiteCollector` (uses the scopes of :class:`~.names.NameSites`)."""

    _add: Any
    scope: Any
    scopes: list[Any]
    blocks: list[tuple[cst.IndentedBlock, Any]]

    def _init_updates(self) -> None:
        self.pending_updates: list[tuple[cst.If, cst.BaseExpression, str, Any]] = []
        self._nesting: list[str] = []
        self._conditional_in_loop: set[int] = set()
        """``id`` of the statements under an ``if`` inside a loop (flush donors)."""

    def note_nesting(self, kind: str) -> None:
        self._nesting.append(kind)

    def leave_For(self, original_node: cst.For) -> None:
        self._nesting.pop()

    def leave_While(self, original_node: cst.While) -> None:
        self._nesting.pop()

    def leave_If(self, original_node: cst.If) -> None:
        self._nesting.pop()

    def note_statement(self, node: cst.SimpleStatementLine) -> None:
        if "loop" in self._nesting and "if" in self._nesting[self._nesting.index("loop"):]:
            self._conditional_in_loop.add(id(node))

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
        self.note_nesting("if")
        if len(self.scopes) > 1:  # inside functions only
            for element, collection in _memberships(node.test):
                self.pending_updates.append((node, element, collection, self.scope))

    def _finish_updates(self) -> None:
        self._finish_memberships()
        for block, scope in self.blocks:
            for stmt in block.body:
                if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Return) \
                        and isinstance(stmt.body[0].value, cst.Name):
                    self._flush(stmt, stmt.body[0].value.value, block, scope)

    def _flush(self, stmt: cst.SimpleStatementLine, name: str, block: cst.IndentedBlock, scope: Any) -> None:
        """Before ``return name``: the updates of ``name`` made inside other blocks, copied."""
        here = {id(s) for s in block.body}
        donors, codes = [], set()
        for donor in scope.statements:
            code = source_of(donor)
            if id(donor) in here or id(donor) not in self._conditional_in_loop or not _updates(donor, name) \
                    or code in codes:
                continue
            codes.add(code)
            donors.append((code, donor))
        self._add("update", stmt, "update-before-return", [
            (f"insert `{code[:60]}` before the return", lambda n, d=d: cst.FlattenSentinel([d.deep_clone(), n]))
            for code, d in donors])

    def _finish_memberships(self) -> None:
        done: set[tuple[int, str]] = set()
        for node, element, collection, scope in self.pending_updates:
            method = scope.collections.get(collection)
            if method is None or collection in scope.updated:
                continue
            code = source_of(element)
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
