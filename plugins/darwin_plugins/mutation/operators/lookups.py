"""Missing conditions on a looked-up value (condition synthesis: Nopol, ACS, "missing condition").

``if k in d:`` guards a read of ``d[k]``; when ``d`` maps keys to integers (``d[k] = i``,
``d[k] += 1``), the test often misses a conjunct on the stored value: ``if k in d and d[k] >= n``
(a position recorded before a window's start, a count already spent, the same index found again).
The ``lookup`` family synthesises it from the function's own ingredients:

* ``k in d`` to ``(k in d and d[k] OP n)``, ``k not in d`` to ``(k not in d or d[k] OP n)``, for
  ``OP`` each of :data:`OPERATORS` and ``n`` each integer name of the function (bound to an
  integer literal, ``len(...)``, integer arithmetic, a ``range`` or the index of an
  ``enumerate`` loop; not ``k`` itself);
* only when ``d``'s values are evidently integers (every ``d[...] = v`` / ``d[...] += v`` of the
  function stores an integer-valued expression, and there is one);
* a name the guarded block rebinds weighs :data:`GUARDED` (``if ch in last and last[ch] >= start:
  start = last[ch] + 1``: the test decides whether the update moves ``start`` forwards).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from .tables import Make, paren, source_of
from .updates import membership_tests

OPERATORS = (">=", ">", "<", "<=", "==", "!=")
GUARDED = 3.0
"""Prior multiplier of a name the guarded block rebinds."""
MAX_NAMES = 6
"""Most integer names one membership test is compared with (nearest first by first binding)."""
ELEMENTS = (cst.Name, cst.Attribute, cst.Subscript, cst.Tuple, cst.Integer, cst.SimpleString, cst.BinaryOperation)
"""Keys a conjunct may look up again (a call is not: it might not give the same key twice)."""
INTEGER_CALLS = {"len", "int", "abs", "ord", "round", "sum"}


def _walk(node: cst.CSTNode, visit: Any) -> None:
    """Call ``visit`` on every node under ``node``, not entering nested functions, classes or
    lambdas (a comprehension's loop variable is not a ``For``: it is not bound in the function)."""
    class _V(cst.CSTVisitor):
        def on_visit(self, n: cst.CSTNode) -> bool:
            if n is not node and isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                return False
            visit(n)
            return True
    node.visit(_V())


def integer_valued(expr: cst.BaseExpression, names: set[str], maps: frozenset[str] = frozenset()) -> bool:
    """An evidently integer expression: a literal, a name in ``names``, a subscript of a container
    in ``maps``, ``len(...)`` and other integer builtins, ``min``/``max`` of integers, arithmetic
    (not ``/``) of integers."""
    if isinstance(expr, cst.Integer):
        return True
    if isinstance(expr, cst.Name):
        return expr.value in names
    if isinstance(expr, cst.Subscript):
        return source_of(expr.value) in maps
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        return integer_valued(expr.expression, names, maps)
    if isinstance(expr, cst.BinaryOperation):
        if isinstance(expr.operator, cst.Divide):
            return False
        return integer_valued(expr.left, names, maps) and integer_valued(expr.right, names, maps)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "get":
        return len(expr.args) == 2 and integer_valued(expr.args[1].value, names, maps)  # ``d.get(k, 0)``
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name):
        if expr.func.value in INTEGER_CALLS:
            return True
        if expr.func.value in ("min", "max") and len(expr.args) > 1:
            return all(integer_valued(a.value, names, maps) for a in expr.args)
    return False


def integer_names(function: cst.FunctionDef) -> list[str]:
    """Names the function binds to integers, in order of first binding."""
    assigns: list[tuple[list[str], cst.BaseExpression | None]] = []

    def note(n: cst.CSTNode) -> None:
        if isinstance(n, cst.Assign):
            assigns.append(([t.target.value for t in n.targets if isinstance(t.target, cst.Name)], n.value))
        elif isinstance(n, cst.AugAssign) and isinstance(n.target, cst.Name):
            assigns.append(([n.target.value], n.value))
        elif isinstance(n, cst.For) and isinstance(n.iter, cst.Call) and isinstance(n.iter.func, cst.Name):
            target, func = n.target, n.iter.func.value
            if func == "range" and isinstance(target, cst.Name):
                assigns.append(([target.value], None))
            elif func == "enumerate" and isinstance(target, cst.Tuple) and target.elements \
                    and isinstance(target.elements[0].value, cst.Name):
                assigns.append(([target.elements[0].value.value], None))
    _walk(function.body, note)
    found: list[str] = []
    changed = True
    while changed:  # a name bound from integer names is an integer too
        changed = False
        for targets, value in assigns:
            if value is None or integer_valued(value, set(found)):
                for t in targets:
                    if t not in found:
                        found.append(t)
                        changed = True
    order: dict[str, int] = {}
    for i, (targets, _) in enumerate(assigns):
        for t in targets:
            order.setdefault(t, i)
    return sorted(found, key=lambda t: order[t])


def integer_maps(function: cst.FunctionDef, names: set[str]) -> set[str]:
    """The code of the containers whose every stored value (``d[k] = v``, ``d[k] += v``) is
    integer (the largest such set: ``dist[n] = dist[m] + 1`` keeps ``dist`` an integer map)."""
    stores: list[tuple[str, cst.BaseExpression]] = []

    def note(n: cst.CSTNode) -> None:
        pairs = [(t.target, n.value) for t in n.targets] if isinstance(n, cst.Assign) else \
            [(n.target, n.value)] if isinstance(n, cst.AugAssign) else []
        stores.extend((source_of(t.value), v) for t, v in pairs if isinstance(t, cst.Subscript))
    _walk(function.body, note)
    maps = frozenset(code for code, _ in stores)
    while True:
        kept = frozenset(code for code in maps
                         if all(integer_valued(v, names, maps) for c, v in stores if c == code))
        if kept == maps:
            return set(maps)
        maps = kept


def _calls(expr: cst.CSTNode) -> bool:
    found = []
    _walk(expr, lambda n: found.append(n) if isinstance(n, cst.Call) else None)
    return bool(found)


def _memberships(test: cst.BaseExpression) -> list[cst.Comparison]:
    """The ``k in d`` / ``k not in d`` comparisons of a test whose key is an element without calls."""
    return [expr for expr in membership_tests(test) if isinstance(expr.left, ELEMENTS) and not _calls(expr.left)]


def _conjunct(member: cst.Comparison, op: str, name: str, whole: bool) -> Make:
    negative = isinstance(member.comparisons[0].operator, cst.NotIn)
    key = source_of(member.left.with_changes(lpar=[], rpar=[]))
    value = cst.parse_expression(f"{source_of(member.comparisons[0].comparator)}[{key}] {op} {name}")

    def make(n: cst.CSTNode) -> cst.CSTNode:
        joined = cst.BooleanOperation(left=n, operator=cst.Or() if negative else cst.And(), right=value.deep_clone())  # type: ignore[arg-type]
        return joined if whole else paren(joined)
    return make


def _rebound(block: cst.BaseSuite) -> set[str]:
    found: set[str] = set()

    def note(n: cst.CSTNode) -> None:
        if isinstance(n, (cst.Assign, cst.AugAssign)):
            for t in (n.targets if isinstance(n, cst.Assign) else [n]):
                target = t.target
                if isinstance(target, cst.Name):
                    found.add(target.value)
    _walk(block, note)
    return found


class LookupSites:
    """Mixin of :class:`~.collector.SiteCollector`: one pass over each function once the module is
    visited (needs only the module)."""

    _add: Any
    functions: list[cst.FunctionDef]

    def _finish_lookups(self) -> None:
        for function in self.functions:
            self._lookups_in(function)

    def _lookups_in(self, function: cst.FunctionDef) -> None:
        names = integer_names(function)
        maps = integer_maps(function, set(names))
        if not maps:
            return
        tests: list[tuple[cst.BaseExpression, cst.BaseSuite | None]] = []

        def note(n: cst.CSTNode) -> None:
            if isinstance(n, (cst.If, cst.While)):
                tests.append((n.test, n.body))
            elif isinstance(n, cst.IfExp):
                tests.append((n.test, None))
        _walk(function.body, note)
        for test, body in tests:
            guarded = _rebound(body) if body is not None else set()
            for member in _memberships(test):
                if source_of(member.comparisons[0].comparator) not in maps:
                    continue
                key = source_of(member.left)
                candidates = [n for n in names if n != key][:MAX_NAMES]
                alternatives: list[tuple[str, Make]] = []
                priors: dict[int, float] = {}
                word = "or" if isinstance(member.comparisons[0].operator, cst.NotIn) else "and"
                value = f"{source_of(member.comparisons[0].comparator)}[{source_of(member.left)}]"
                for name in candidates:
                    for op in OPERATORS:
                        if name in guarded:
                            priors[len(alternatives)] = GUARDED
                        alternatives.append((f"{word} `{value} {op} {name}`",
                                             _conjunct(member, op, name, member is test)))
                self._add("lookup", member, "lookup-condition", alternatives, priors)
