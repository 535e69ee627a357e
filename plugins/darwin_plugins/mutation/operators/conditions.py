"""Condition templates whose ingredients are the function's own conditions (PAR's "condition
expression expander/reducer", TBar's "mutate conditional expression", GenProg's skip-guard).

* ``continue``: a ``for`` loop's body starts with ``if <cond>: continue``, ``<cond>`` built from
  the function: the loop variable falsy (``not v``), a membership the function tests
  (``v in seen`` when ``x in seen`` appears), a comparison of the loop variable the function
  makes (``v > best``), ``v.strip() == ''`` when the file calls ``strip`` (a test of what the
  body does not use itself, ``not v`` when it only calls ``v.strip()``, weighs
  :data:`~.templates.LOOSE`, as the ``guard``'s do). The reverse, a
  ``continue`` guard removed, is the ``delete`` family's (the block, or the ``continue``);
* ``strengthen``: ``if a:`` / ``while a:`` to ``a and b`` or ``a and not b``;
* ``weaken``: ``if a:`` / ``while a:`` to ``a or b`` or ``a or not b``;
  ``b`` another condition of the same function (an ``if``/``while``/conditional-expression test
  or one of its ``and``/``or`` operands), the :data:`MAX_CONDITIONS` nearest by line, never one
  whose atoms are all in ``a`` already. A negated ingredient weighs :data:`NEGATED`.
"""

from __future__ import annotations

from typing import Any

import libcst as cst
from libcst.metadata import PositionProvider

from .tables import Make, paren, source_of
from .templates import LOOSE, names_in, zero_calls_on

MAX_CONDITIONS = 4
"""Other conditions of the function one test may be joined with (the nearest by line)."""
MAX_SKIPS = 6
"""Most ``continue`` conditions per loop."""
NEGATED = 0.5
"""Prior multiplier of an ingredient used negated (``a and not b``), against 1 for ``a and b``."""
UNGROUPED = (cst.BooleanOperation, cst.IfExp, cst.Lambda, cst.NamedExpr)
"""Operands that need parentheses inside ``and``/``or``/``not``."""


def _atoms(expr: cst.BaseExpression) -> set[str]:
    """The code of a condition's ``and``/``or`` operands, a ``not`` stripped."""
    if isinstance(expr, cst.BooleanOperation):
        return _atoms(expr.left) | _atoms(expr.right)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
        return _atoms(expr.expression)
    return {source_of(expr.with_changes(lpar=[], rpar=[]) if getattr(expr, "lpar", None) else expr)}


def _operands(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    """A condition and each of its ``and``/``or`` operands, outermost first."""
    out = [expr]
    if isinstance(expr, cst.BooleanOperation):
        out += _operands(expr.left) + _operands(expr.right)
    return out


def _literal(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, (cst.Integer, cst.Float, cst.SimpleString)) or (
        isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"))


def _bare(expr: cst.BaseExpression) -> cst.BaseExpression:
    return expr.with_changes(lpar=[], rpar=[]) if getattr(expr, "lpar", None) else expr


def _grouped(expr: cst.BaseExpression) -> cst.BaseExpression:
    expr = _bare(expr)
    return paren(expr) if isinstance(expr, UNGROUPED) else expr


def _negated(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``not (expr)`` (parenthesised unless a name or a call), or ``expr`` without its ``not``."""
    expr = _bare(expr)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
        return _grouped(expr.expression)
    plain = isinstance(expr, (cst.Name, cst.Attribute, cst.Call, cst.Subscript))
    return cst.UnaryOperation(operator=cst.Not(), expression=expr if plain else paren(expr))


def _join(operator: type, other: cst.BaseExpression, negate: bool) -> Make:
    def make(n: cst.CSTNode) -> cst.CSTNode:
        right = _negated(other.deep_clone()) if negate else _grouped(other.deep_clone())
        left = _bare(n)  # type: ignore[arg-type]
        same = isinstance(left, cst.BooleanOperation) and isinstance(left.operator, operator)
        return cst.BooleanOperation(left=left if same else _grouped(left), operator=operator(), right=right)
    return make


def _skip(test: str) -> Make:
    def make(n: cst.CSTNode) -> cst.CSTNode:
        body = n.body  # type: ignore[attr-defined]
        first = body.body[0]
        guard = cst.parse_statement(f"if {test}:\n    continue\n").with_changes(
            leading_lines=getattr(first, "leading_lines", ()))
        rest = [first.with_changes(leading_lines=[]) if hasattr(first, "leading_lines") else first, *body.body[1:]]
        return n.with_changes(body=body.with_changes(body=[guard, *rest]))
    return make


class ConditionSites:
    """Mixin of :class:`~.collector.SiteCollector` (uses the scopes of :class:`~.names.NameSites`)."""

    _add: Any
    scope: Any
    scopes: list[Any]
    get_metadata: Any

    def _init_conditions(self) -> None:
        self.conditions: dict[int, list[tuple[int, cst.BaseExpression]]] = {}
        """``id(scope)`` -> ``(line, condition)`` of its tests and their operands."""
        self.joinable: list[tuple[cst.BaseExpression, bool, Any]] = []
        """``(test, of an if?, scope)``: the tests joined with another condition (a ``while``'s only
        strengthened: weakened, it may never end)."""
        self.comparisons: dict[int, list[cst.Comparison]] = {}
        self.member_of: dict[int, list[str]] = {}
        """``id(scope)`` -> collections its ``x in c`` tests read."""
        self.loops: list[tuple[cst.For, list[str], Any]] = []
        self.calls_strip = False

    def note_condition(self, test: cst.BaseExpression, kind: str) -> None:
        """A test of an ``if``, a ``while`` or a conditional expression (``kind``: its keyword)."""
        if len(self.scopes) <= 1 or _literal(test):
            return
        line = self.get_metadata(PositionProvider, test).start.line
        entries = self.conditions.setdefault(id(self.scope), [])
        entries += [(line, e) for e in _operands(test) if not _literal(e)]
        if kind != "ifexp":
            self.joinable.append((test, kind == "if", self.scope))

    def note_condition_comparison(self, node: cst.Comparison) -> None:
        if len(self.scopes) <= 1:
            return
        self.comparisons.setdefault(id(self.scope), []).append(node)
        for comp in node.comparisons:
            if isinstance(comp.operator, (cst.In, cst.NotIn)) and isinstance(comp.comparator, cst.Name):
                self.member_of.setdefault(id(self.scope), []).append(comp.comparator.value)

    def note_condition_call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "strip":
            self.calls_strip = True

    def note_condition_for(self, node: cst.For) -> None:
        if len(self.scopes) <= 1 or not isinstance(node.body, cst.IndentedBlock) or not node.body.body:
            return
        targets = [node.target] if isinstance(node.target, cst.Name) else \
            [e.value for e in node.target.elements] if isinstance(node.target, cst.Tuple) else []
        used = names_in(node.body)
        names = [t.value for t in targets if isinstance(t, cst.Name) and t.value in used]
        if names:
            self.loops.append((node, names, self.scope))

    def _finish_conditions(self) -> None:
        for node, names, scope in self.loops:
            tests: dict[str, float] = {}
            bare = names_in(node.body, receivers=False)
            comparisons = [(c, names_in(c)) for c in self.comparisons.get(id(scope), [])]
            for v in names:
                strips = "strip" in zero_calls_on(node.body, v)
                found = [(f"not {v}", 1.0 if v in bare else LOOSE)]
                found += [(f"{v} in {c}", 1.0) for c in dict.fromkeys(self.member_of.get(id(scope), [])) if c != v]
                found += [(source_of(_bare(c)), 1.0) for c, reads in comparisons if v in reads]
                if self.calls_strip:
                    found.append((f"{v}.strip() == ''", 1.0 if strips else LOOSE))
                for test, prior in found:
                    tests.setdefault(test, prior)
            chosen = list(tests.items())[:MAX_SKIPS]
            self._add("continue", node, "continue-guard",
                      [(f"`if {t}: continue` first in the loop", _skip(t)) for t, _ in chosen],
                      {i: w for i, (_, w) in enumerate(chosen) if w != 1.0})
        for test, is_if, scope in self.joinable:
            here = _atoms(test)
            line = self.get_metadata(PositionProvider, test).start.line
            others: dict[str, tuple[int, cst.BaseExpression]] = {}
            for other_line, other in self.conditions.get(id(scope), []):
                code = source_of(_bare(other))
                if _atoms(other) <= here or code in others:
                    continue
                others[code] = (abs(other_line - line), other)
            nearest = sorted(others.items(), key=lambda item: (item[1][0], item[0]))[:MAX_CONDITIONS]
            for family, operator, word in (("strengthen", cst.And, "and"), ("weaken", cst.Or, "or"))[:2 if is_if else 1]:
                alternatives: list[tuple[str, Make]] = []
                priors: dict[int, float] = {}
                for code, (_, other) in nearest:
                    for negate in (False, True):
                        if negate:
                            priors[len(alternatives)] = NEGATED
                        what = source_of(_negated(other)) if negate else code
                        alternatives.append((f"{word} {what}", _join(operator, other, negate)))
                self._add(family, test, f"{family}-condition", alternatives, priors)
