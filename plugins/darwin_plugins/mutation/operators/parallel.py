"""Copy-paste edits over a function's parallel code (CP-Miner; DeepBugs' incorrect-variable bugs).

* ``copy_paste``: two sibling sub-expressions of one shape (the operands of an ``and``/``or``
  chain or a binary operation, a tuple's or list's elements, a call's positional arguments)
  that differ in some names (``nr`` / ``nc``) and share another (``rows``): the shared name of
  the copy was probably not adapted. It becomes the name that stands to it as the copies'
  differing names stand to each other: names bound together (a tuple target ``rows, cols = ...``,
  ``nr, nc = ...``, or the parameter list) at the same positions (``rows`` -> ``cols``, weight
  :data:`ANALOGY`); every other name bound together with it weighs 1.
* ``name_swap``: two distinct local variables of one expression (not a method's receiver)
  exchanged everywhere in it
  (``[[0] * n for _ in range(p)]`` to ``[[0] * p for _ in range(n)]``), one edit instead of two
  name replacements; a pair bound together (``n, m, p = ...``, two parameters) weighs
  :data:`ANALOGY`.
"""

from __future__ import annotations

import itertools
from typing import Any, Iterator

import libcst as cst

from .shapes import KEPT, Shapes, shapes_of, variables
from .tables import Make, source_of

ANALOGY = 3.0
"""Prior of a replacement the copies' own differing names point to, and of a swap of names bound together."""
MAX_SIBLINGS = 6
MAX_SWAP_NAMES = 6
"""An expression with more distinct local names gets no swaps (their number grows as its square)."""


def receivers(node: cst.CSTNode) -> set[str]:
    """Names ``node`` calls a method on (``out`` in ``out.append(x)``): containers, not values."""
    found: set[str] = set()

    class _V(cst.CSTVisitor):
        def visit_Call(self, n: cst.Call) -> None:
            if isinstance(n.func, cst.Attribute) and isinstance(n.func.value, cst.Name):
                found.add(n.func.value.value)
    node.visit(_V())
    return found


def _renamed(mapping: dict[str, str]) -> Make:
    """A builder renaming variables by ``mapping`` (called names, attributes, keywords kept)."""
    class _T(cst.CSTTransformer):
        def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
            return updated.with_changes(value=mapping[updated.value]) if updated.value in mapping else updated

        def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
            return updated.with_changes(func=original.func) if isinstance(original.func, cst.Name) else updated

        def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
            return updated.with_changes(attr=original.attr)

        def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
            return updated.with_changes(keyword=original.keyword)
    return lambda n: n.visit(_T())  # type: ignore[return-value]


def merged(side: cst.BaseExpression, node: cst.BooleanOperation) -> bool:
    """Whether ``side`` (an operand of ``node``) is part of ``node``'s chain: the same operator,
    unparenthesised (``a and b and c``)."""
    return isinstance(side, cst.BooleanOperation) and type(side.operator) is type(node.operator) and not side.lpar


def _flatten(node: cst.BooleanOperation) -> list[cst.BaseExpression]:
    out: list[cst.BaseExpression] = []
    for side in (node.left, node.right):
        if merged(side, node):
            out += _flatten(side)  # type: ignore[arg-type]
        else:
            out.append(side)
    return out


def sibling_groups(root: cst.CSTNode) -> Iterator[list[cst.BaseExpression]]:
    """Groups of sibling sub-expressions under ``root`` that may be copies of each other."""
    groups: list[list[cst.BaseExpression]] = []

    class _V(cst.CSTVisitor):
        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return False  # a nested function's copies are its own

        def visit_BooleanOperation(self, n: cst.BooleanOperation) -> None:
            groups.append(_flatten(n))

        def visit_BinaryOperation(self, n: cst.BinaryOperation) -> None:
            groups.append([n.left, n.right])

        def visit_Tuple(self, n: cst.Tuple) -> None:
            groups.append([e.value for e in n.elements])

        def visit_List(self, n: cst.List) -> None:
            groups.append([e.value for e in n.elements])

        def visit_Call(self, n: cst.Call) -> None:
            groups.append([a.value for a in n.args if a.keyword is None and not a.star])
    root.visit(_V())
    for group in groups:
        if 2 <= len(group) <= MAX_SIBLINGS:
            yield group


def bound_together(function: cst.FunctionDef) -> tuple[list[list[str | None]], set[str]]:
    """The function's groups of names bound together, by position (its parameters; each tuple
    target of an assignment, loop or comprehension; ``None`` where an element is not a name),
    and every name it binds (its local variables)."""
    params = [p.name.value for p in [*function.params.posonly_params, *function.params.params,
                                     *function.params.kwonly_params] if p.name.value not in KEPT]
    groups: list[list[str | None]] = [list(params)] if len(params) >= 2 else []
    local: set[str] = set(params)

    def target(t: cst.BaseExpression) -> None:
        if isinstance(t, cst.Name):
            local.add(t.value)
        elif isinstance(t, (cst.Tuple, cst.List)):
            groups.append([e.value.value if isinstance(e.value, cst.Name) else None for e in t.elements])
            for e in t.elements:
                target(e.value)

    class _V(cst.CSTVisitor):
        def visit_AssignTarget(self, n: cst.AssignTarget) -> None:
            target(n.target)

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            target(n.target)

        def visit_For(self, n: cst.For) -> None:
            target(n.target)

        def visit_CompFor(self, n: cst.CompFor) -> None:
            target(n.target)
    function.body.visit(_V())
    return [g for g in groups if sum(x is not None for x in g) >= 2], local


def _analogues(x: str, a: str, b: str, groups: list[list[str | None]]) -> list[str]:
    """Names ``y`` with ``(a, b)`` and ``(x, y)`` bound together at the same two positions."""
    found: list[str] = []
    for g1 in groups:
        for p, q in itertools.permutations(range(len(g1)), 2):
            if g1[p] != a or g1[q] != b:
                continue
            for g2 in groups:
                if len(g2) > max(p, q) and g2[p] == x and g2[q] not in (None, x) and g2[q] not in found:
                    found.append(g2[q])  # type: ignore[arg-type]
    return found


class ParallelSites:
    """Mixin of :class:`~.collector.SiteCollector`: ``copy_paste`` and ``name_swap`` sites,
    found when the module is left (every function at once)."""

    _add: Any
    functions: list[cst.FunctionDef]

    def _finish_parallel(self) -> None:
        shapes = shapes_of(self)
        for function in self.functions:
            groups, local = bound_together(function)
            self._copy_paste(function, groups, shapes)
            self._name_swaps(function, groups, local, shapes)

    def _copy_paste(self, function: cst.FunctionDef, groups: list[list[str | None]], shapes: Shapes) -> None:
        partners: dict[str, list[str]] = {}
        for g in groups:
            for x in g:
                for y in g:
                    if x is not None and y not in (None, x) and y not in partners.setdefault(x, []):
                        partners[x].append(y)  # type: ignore[arg-type]
        offers: dict[int, tuple[cst.Name, dict[str, float]]] = {}
        for siblings in sibling_groups(function.body):
            for first, second in itertools.combinations(siblings, 2):
                if shapes.skeleton(first) != shapes.skeleton(second):
                    continue
                xs, ys = shapes.variables(first), shapes.variables(second)
                differ = [(u.value, v.value) for u, v in zip(xs, ys) if u.value != v.value]
                if not differ:
                    continue
                for u, v in zip(xs, ys):
                    if u.value != v.value:
                        continue
                    for node, (a, b) in [*((v, d) for d in differ), *((u, (d[1], d[0])) for d in differ)]:
                        offer = offers.setdefault(id(node), (node, {}))[1]
                        for y in _analogues(u.value, a, b, groups):
                            offer[y] = ANALOGY
                        for y in partners.get(u.value, []):
                            offer.setdefault(y, 1.0)
        for node, offer in offers.values():
            names = sorted(offer)
            self._add("copy_paste", node, "copy-paste-name",
                      [(f"{node.value} -> {y}", lambda n, y=y: n.with_changes(value=y)) for y in names],
                      {i: offer[y] for i, y in enumerate(names) if offer[y] != 1.0})

    def _name_swaps(self, function: cst.FunctionDef, groups: list[list[str | None]], local: set[str],
                    shapes: Shapes) -> None:
        together = {frozenset((x, y)) for g in groups for x, y in itertools.combinations([n for n in g if n], 2)}
        for expr in _expressions(function.body):
            bound_inside = _bound_inside(expr) | receivers(expr)
            names: list[str] = []
            for n in shapes.variables(expr):
                if n.value in local and n.value not in bound_inside and n.value not in names:
                    names.append(n.value)
            if not 2 <= len(names) <= MAX_SWAP_NAMES:
                continue
            pairs = list(itertools.combinations(names, 2))
            self._add("name_swap", expr, "name-swap",
                      [(f"{a} <-> {b}", _renamed({a: b, b: a})) for a, b in pairs],
                      {i: ANALOGY for i, (a, b) in enumerate(pairs) if frozenset((a, b)) in together})


def _expressions(body: cst.CSTNode) -> list[cst.BaseExpression]:
    """The expressions a function's statements evaluate: assigned, returned and expression
    statements' values, ``if``/``while`` tests, loop iterables (not inside nested functions)."""
    found: list[cst.BaseExpression] = []

    class _V(cst.CSTVisitor):
        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return False

        def visit_Lambda(self, n: cst.Lambda) -> bool:
            return False

        def visit_Assign(self, n: cst.Assign) -> None:
            found.append(n.value)

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            found.append(n.value)

        def visit_Return(self, n: cst.Return) -> None:
            if n.value is not None:
                found.append(n.value)

        def visit_Expr(self, n: cst.Expr) -> None:
            found.append(n.value)

        def visit_If(self, n: cst.If) -> None:
            found.append(n.test)

        def visit_While(self, n: cst.While) -> None:
            found.append(n.test)

        def visit_For(self, n: cst.For) -> None:
            found.append(n.iter)
    body.visit(_V())
    return found


def _bound_inside(expr: cst.BaseExpression) -> set[str]:
    """Names an expression binds itself (comprehension targets, lambda parameters, ``:=``)."""
    found: set[str] = set()

    class _V(cst.CSTVisitor):
        def visit_CompFor(self, n: cst.CompFor) -> None:
            found.update(v.value for v in variables(n.target))

        def visit_Lambda(self, n: cst.Lambda) -> None:
            found.update(p.name.value for p in n.params.params)

        def visit_NamedExpr(self, n: cst.NamedExpr) -> None:
            found.update(v.value for v in variables(n.target))
    expr.visit(_V())
    return found
