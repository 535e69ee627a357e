"""Expression-level sites: operators, conditions, constants, off-by-one, operand swaps."""

from __future__ import annotations

from typing import Any

import libcst as cst

from ..priors import TWIN
from .tables import (
    ARITHMETIC, AUG_ARITHMETIC, AUG_BITWISE, BITWISE, COMPARISON, IDENTITY, MEMBERSHIP, SYMBOL,
    Make, nudge, nudgeable, number, paren, source_of, with_op,
)


def _kind(op: type, *kinds: tuple[type, ...]) -> tuple[type, ...]:
    for kind in kinds:
        if op in kind:
            return kind
    return ()


def _op_alternatives(node: cst.CSTNode, kind: tuple[type, ...]) -> list[tuple[str, Make]]:
    current = type(node.operator)  # type: ignore[attr-defined]
    return [(f"{SYMBOL[current]} -> {SYMBOL[op]}", lambda n, op=op: with_op(n, op))
            for op in kind if op is not current]


def _nudges(label: str, rebuild: Any) -> list[tuple[str, Make]]:
    return [(f"{label} {'+' if d > 0 else '-'} 1", lambda n, d=d: rebuild(n, d)) for d in (1, -1)]


TWIN_STEP: dict[type, tuple[int, int]] = {
    cst.GreaterThan: (1, -1), cst.GreaterThanEqual: (-1, 1), cst.LessThan: (-1, 1), cst.LessThanEqual: (1, -1)}
"""``(left, right)`` moves by which ``left op right`` becomes its boundary twin on integers
(``x + 1 > c`` is ``x >= c``, so is ``x > c - 1``)."""


RADIXES = (2, 8, 10, 16)
"""Number bases: one of them in the code may stand for another (a decimal shift in a hex parser)."""
DEFAULT_LITERALS = (cst.SimpleString, cst.Integer, cst.Float)
"""Parameter defaults that may have been meant as ``None`` (``sep=" "`` for ``sep=None``)."""


def _twin(step: int) -> dict[int, float]:
    """The prior of the nudge (alternative 0: ``+ 1``, 1: ``- 1``) equal to the boundary twin."""
    return {0 if step > 0 else 1: TWIN}


class ExpressionSites:
    """Mixin of :class:`~.collector.SiteCollector`: ``self._add(family, node, label, alternatives)``."""

    _add: Any
    _twins: dict[int, int]
    """``id(integer literal)`` -> the move making its comparison the boundary twin."""

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for i, target in enumerate(node.comparisons):
            kind = _kind(type(target.operator), COMPARISON, IDENTITY, MEMBERSHIP)
            current = type(target.operator)
            alternatives: list[tuple[str, Make]] = []
            for op in kind:
                if op is current:
                    continue

                def make(n: cst.CSTNode, i: int = i, op: type = op) -> cst.CSTNode:
                    comps = list(n.comparisons)  # type: ignore[attr-defined]
                    comps[i] = with_op(comps[i], op)
                    return n.with_changes(comparisons=comps)
                alternatives.append((f"{SYMBOL[current]} -> {SYMBOL[op]}", make))
            self._add("comparison", node, "comparison", alternatives)
        if len(node.comparisons) != 1:
            return
        comp = node.comparisons[0]

        def swap(n: cst.CSTNode) -> cst.CSTNode:
            c = n.comparisons[0]  # type: ignore[attr-defined]
            return n.with_changes(left=c.comparator, comparisons=[c.with_changes(comparator=n.left)])  # type: ignore[attr-defined]
        self._add("swap", node, "comparison-operands", [("operands swapped", swap)])
        left, right = TWIN_STEP.get(type(comp.operator), (0, 0))
        for side, step in ((node.left, left), (comp.comparator, right)):
            if step and isinstance(side, cst.Integer):
                self._twins[id(side)] = step
        if nudgeable(node.left):
            self._add("off_by_one", node, "comparison-left", _nudges(
                "left", lambda n, d: n.with_changes(left=nudge(n.left, d))), _twin(left) if left else None)
        if nudgeable(comp.comparator):
            self._add("off_by_one", node, "comparison-right", _nudges(
                "right", lambda n, d: n.with_changes(comparisons=[
                    n.comparisons[0].with_changes(comparator=nudge(n.comparisons[0].comparator, d))])),
                _twin(right) if right else None)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        op = type(node.operator)
        if op in ARITHMETIC:
            self._add("arithmetic", node, "binary-operator", _op_alternatives(node, ARITHMETIC))
        elif op in BITWISE:
            self._add("bitwise", node, "binary-operator", _op_alternatives(node, BITWISE))
        self._add("swap", node, "binary-operands",
                  [("operands swapped", lambda n: n.with_changes(left=n.right, right=n.left))])  # type: ignore[attr-defined]
        for side in ("left", "right"):
            if nudgeable(getattr(node, side)):
                self._add("off_by_one", node, f"binary-{side}", _nudges(
                    side, lambda n, d, side=side: n.with_changes(**{side: nudge(getattr(n, side), d)})))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        kind = _kind(type(node.operator), AUG_ARITHMETIC, AUG_BITWISE)
        if not kind:
            return
        alternatives = _op_alternatives(node, kind)

        def plain(n: cst.CSTNode) -> cst.CSTNode:
            return cst.Assign(targets=[cst.AssignTarget(target=n.target)], value=n.value)  # type: ignore[attr-defined]
        alternatives.append((f"{SYMBOL[type(node.operator)]} -> =", plain))
        self._add("augmented", node, "augmented-assignment", alternatives)

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        def flip(n: cst.CSTNode) -> cst.CSTNode:
            old = n.operator  # type: ignore[attr-defined]
            new = cst.Or() if isinstance(old, cst.And) else cst.And()
            return n.with_changes(operator=new.with_changes(
                whitespace_before=old.whitespace_before, whitespace_after=old.whitespace_after))
        self._add("boolean", node, "and-or", [("and <-> or", flip)])
        self._add("boolean", node, "keep-one-operand", [
            ("left operand only", lambda n: n.left.with_changes(lpar=n.lpar, rpar=n.rpar)),  # type: ignore[attr-defined]
            ("right operand only", lambda n: n.right.with_changes(lpar=n.lpar, rpar=n.rpar)),  # type: ignore[attr-defined]
        ])
        self._add("swap", node, "boolean-operands",
                  [("operands swapped", lambda n: n.with_changes(left=n.right, right=n.left))])  # type: ignore[attr-defined]

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        family = {cst.Not: "boolean", cst.Minus: "arithmetic", cst.BitInvert: "bitwise"}.get(type(node.operator))
        if family:
            self._add(family, node, "drop-unary", [("unary operator dropped", lambda n: n.expression)])  # type: ignore[attr-defined]

    def _condition(self, test: cst.BaseExpression) -> None:
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return  # dropping the ``not`` is the negation
        self._add("condition", test, "negate-condition",
                  [("condition negated", lambda n: cst.UnaryOperation(operator=cst.Not(), expression=paren(n)))])  # type: ignore[arg-type]

    def visit_If(self, node: cst.If) -> None:
        self._condition(node.test)

    def visit_While(self, node: cst.While) -> None:
        self._condition(node.test)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._condition(node.test)
        self._add("swap", node, "if-else-branches",
                  [("branches swapped", lambda n: n.with_changes(body=n.orelse, orelse=n.body))])  # type: ignore[attr-defined]

    def visit_Integer(self, node: cst.Integer) -> None:
        try:
            value = int(node.value.replace("_", ""), 0)
        except ValueError:
            return
        options = [value + 1, value - 1, 0, 1, -1, 2 * value, value // 2]
        if value in RADIXES:
            options += [r for r in RADIXES if r != value]
        seen: list[int] = []
        for v in options:
            if v != value and v not in seen:
                seen.append(v)
        step = self._twins.get(id(node), 0)
        twin = {seen.index(value + step): TWIN} if step and value + step in seen else None
        self._add("constant", node, "integer",
                  [(f"{value} -> {v}", lambda n, v=v: number(v)) for v in seen], twin)

    def visit_Param(self, node: cst.Param) -> None:
        if isinstance(node.default, DEFAULT_LITERALS):
            self._add("constant", node.default, "default", [
                (f"{source_of(node.default)} -> None", lambda n: cst.Name("None"))])

    def visit_Float(self, node: cst.Float) -> None:
        try:
            value = float(node.value.replace("_", ""))
        except ValueError:
            return
        options = [value * 1.1, value * 0.9, value * 2, value / 2, value + 1, value - 1,
                   value * 1.01, value * 0.99, -value, 0.0, 1.0]
        seen: list[float] = []
        for v in options:
            v = float(f"{v:.12g}")
            if v != value and v not in seen:
                seen.append(v)
        self._add("constant", node, "float", [(f"{value!r} -> {v!r}", lambda n, v=v: number(v)) for v in seen])

    def visit_Subscript(self, node: cst.Subscript) -> None:
        for i, element in enumerate(node.slice):
            part = element.slice
            if isinstance(part, cst.Index) and nudgeable(part.value):
                def index(n: cst.CSTNode, d: int, i: int = i) -> cst.CSTNode:
                    elements = list(n.slice)  # type: ignore[attr-defined]
                    idx = elements[i].slice
                    elements[i] = elements[i].with_changes(slice=idx.with_changes(value=nudge(idx.value, d)))
                    return n.with_changes(slice=elements)
                self._add("off_by_one", node, "index", _nudges("index", index))
            elif isinstance(part, cst.Slice):
                for bound in ("lower", "upper"):
                    expr = getattr(part, bound)
                    if expr is None or isinstance(expr, cst.Integer) or not nudgeable(expr):
                        continue

                    def bounded(n: cst.CSTNode, d: int, i: int = i, bound: str = bound) -> cst.CSTNode:
                        elements = list(n.slice)  # type: ignore[attr-defined]
                        sl = elements[i].slice
                        elements[i] = elements[i].with_changes(
                            slice=sl.with_changes(**{bound: nudge(getattr(sl, bound), d)}))
                        return n.with_changes(slice=elements)
                    self._add("off_by_one", node, f"slice-{bound}", _nudges(bound, bounded))

    def visit_Assign(self, node: cst.Assign) -> None:
        if nudgeable(node.value):
            self._add("off_by_one", node, "assigned-value", _nudges(
                "value", lambda n, d: n.with_changes(value=nudge(n.value, d))))  # type: ignore[attr-defined]

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None and nudgeable(node.value):
            self._add("off_by_one", node, "returned-value", _nudges(
                "value", lambda n, d: n.with_changes(value=nudge(n.value, d))))  # type: ignore[attr-defined]

    def visit_Call(self, node: cst.Call) -> None:
        positional = [i for i, a in enumerate(node.args) if a.keyword is None and not a.star]
        swaps: list[tuple[str, Make]] = []
        for x, i in enumerate(positional):
            for j in positional[x + 1:]:
                def swap(n: cst.CSTNode, i: int = i, j: int = j) -> cst.CSTNode:
                    args = list(n.args)  # type: ignore[attr-defined]
                    args[i], args[j] = args[i].with_changes(value=args[j].value), args[j].with_changes(value=args[i].value)
                    return n.with_changes(args=args)
                swaps.append((f"arguments {i + 1} and {j + 1} swapped", swap))
        if swaps:
            self._add("swap", node, "call-arguments", swaps)
        is_range = isinstance(node.func, cst.Name) and node.func.value == "range"
        for i in positional:
            if not nudgeable(node.args[i].value):
                continue

            def arg(n: cst.CSTNode, d: int, i: int = i) -> cst.CSTNode:
                args = list(n.args)  # type: ignore[attr-defined]
                args[i] = args[i].with_changes(value=nudge(args[i].value, d))
                return n.with_changes(args=args)
            label = "range-bound" if is_range else "call-argument"
            self._add("off_by_one", node, label, _nudges(f"argument {i + 1}", arg))
        for a in node.args:
            if a.keyword is not None and a.keyword.value == "key" and isinstance(a.value, cst.Lambda):
                body = a.value.body
                for part in [e.value for e in body.elements] if isinstance(body, cst.Tuple) else [body]:
                    if not isinstance(part, (cst.SimpleString, cst.UnaryOperation)):
                        self._add("arithmetic", part, "key-negated", [
                            ("sort key negated", lambda n: cst.UnaryOperation(operator=cst.Minus(), expression=paren(n) if isinstance(
                                n, (cst.BinaryOperation, cst.BooleanOperation, cst.Comparison, cst.IfExp)) else n))])
