"""Statement-level sites: return changes, deletion, insertion of a copied statement, swaps, and
statements moved across a block's edge (``indentation``: the last statement of a loop's or an ``if``'s
body dedented to after it, or the statement after it indented into its body: Python's misplaced
indentation, a ``return True`` inside the loop that should follow it)."""

from __future__ import annotations

from typing import Any

import libcst as cst

from .tables import Make, jumps, source_of

COMPOUND = (cst.If, cst.For, cst.While, cst.With, cst.Try)
INDENTABLE = (cst.If, cst.For, cst.While)
"""Compound statements whose body's edge a statement may cross (no ``else``)."""
MAX_DONORS = 24
"""Statements of a function that may be copied elsewhere in it (GenProg's insert)."""


def _is_docstring(node: cst.SimpleStatementLine) -> bool:
    return (len(node.body) == 1 and isinstance(node.body[0], cst.Expr)
            and isinstance(node.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _code(node: cst.CSTNode) -> str:
    return source_of(node)[:80]


class StatementSites:
    """Mixin of :class:`~.collector.SiteCollector` (uses the scopes of :class:`~.names.NameSites`)."""

    _add: Any
    scope: Any
    scopes: list[Any]

    def _init_statements(self) -> None:
        self.returns: list[tuple[cst.Return, Any]] = []
        self.blocks: list[tuple[cst.IndentedBlock, Any]] = []

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.returns.append((node, self.scope))

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if any(isinstance(s, (cst.Import, cst.ImportFrom, cst.Pass)) for s in node.body) or _is_docstring(node):
            return
        if len(self.scopes) > 1:  # statements inside functions only
            self.scope.statements.append(node)
            self._add("delete", node, "statement", [("statement deleted", lambda n: n.with_changes(body=[cst.Pass()]))])

    def _delete_compound(self, node: cst.CSTNode) -> None:
        if len(self.scopes) > 1:
            self._add("delete", node, "block", [("block deleted", lambda n: cst.SimpleStatementLine(body=[cst.Pass()]))])

    def visit_If(self, node: cst.If) -> None:
        self._delete_compound(node)

    def visit_For(self, node: cst.For) -> None:
        self._delete_compound(node)

    def visit_While(self, node: cst.While) -> None:
        self._delete_compound(node)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        if len(self.scopes) > 1:
            self.blocks.append((node, self.scope))

    def _finish_statements(self) -> None:
        for node, scope in self.returns:
            others: list[cst.BaseExpression] = []
            for other, other_scope in self.returns:
                value = other.value
                if other_scope is scope and value is not None and not value.deep_equals(node.value) \
                        and not any(value.deep_equals(o) for o in others):
                    others.append(value)
            alternatives: list[tuple[str, Make]] = [
                (f"another return value ({i + 1})", lambda n, v=v: n.with_changes(value=v.deep_clone()))
                for i, v in enumerate(others[:6])]
            if not (isinstance(node.value, cst.Name) and node.value.value == "None"):
                alternatives.append(("return None", lambda n: n.with_changes(value=cst.Name("None"))))
            self._add("return", node, "return-value", alternatives)
        for block, scope in self.blocks:
            body = list(block.body)
            if len(body) >= 2:
                def swap(n: cst.CSTNode, i: int) -> cst.CSTNode:
                    items = list(n.body)  # type: ignore[attr-defined]
                    items[i], items[i + 1] = items[i + 1], items[i]
                    return n.with_changes(body=items)
                self._add("move", block, "swap-statements", [
                    (f"statements {i + 1} and {i + 2} swapped", lambda n, i=i: swap(n, i)) for i in range(len(body) - 1)])
            self._indents(block)
            donors = scope.statements[:MAX_DONORS]
            for stmt in body:
                alternatives = [
                    (f"insert `{_code(d)}`", lambda n, d=d: cst.FlattenSentinel([d.deep_clone(), n]))
                    for d in donors if d is not stmt]
                if alternatives:
                    self._add("insert", stmt, "insert-before", alternatives)

    def _indents(self, block: cst.IndentedBlock) -> None:
        """Each loop's or ``if``'s last statement moved after it, the statement after it moved in."""
        body = list(block.body)
        alternatives: list[tuple[str, Make]] = []
        for i, stmt in enumerate(body):
            if not (isinstance(stmt, INDENTABLE) and stmt.orelse is None and isinstance(stmt.body, cst.IndentedBlock)):
                continue
            if len(stmt.body.body) >= 2:
                alternatives.append((f"`{_code(stmt.body.body[-1])[:40]}` dedented", lambda n, i=i: _dedent(n, i)))
            if i + 1 < len(body) and not jumps(stmt.body.body[-1]):  # nothing runs after a jump
                alternatives.append((f"`{_code(body[i + 1])[:40]}` indented", lambda n, i=i: _indent(n, i)))
        self._add("indentation", block, "indentation", alternatives)


def _dedent(block: cst.CSTNode, i: int) -> cst.CSTNode:
    """``block`` with the last statement of its ``i``-th statement's body moved after it."""
    items = list(block.body)  # type: ignore[attr-defined]
    inner = items[i].body
    items[i:i + 1] = [items[i].with_changes(body=inner.with_changes(body=inner.body[:-1])), inner.body[-1]]
    return block.with_changes(body=items)


def _indent(block: cst.CSTNode, i: int) -> cst.CSTNode:
    """``block`` with its ``i + 1``-th statement moved to the end of its ``i``-th statement's body."""
    items = list(block.body)  # type: ignore[attr-defined]
    inner = items[i].body
    items[i:i + 2] = [items[i].with_changes(body=inner.with_changes(body=[*inner.body, items[i + 1]]))]
    return block.with_changes(body=items)
