"""Assignment operators, unpacking order and length checks: three defect classes of the
program-repair literature the expression families do not reach.

* ``assign``: a plain assignment ``t = e`` made augmented (``t += e``, ``t -= e``; the other
  arithmetic kinds weigh :data:`OTHER`) when ``t`` already holds a value: a subscript of a
  collection, an attribute bound in another method or earlier in the function, a name bound
  earlier in the function (a parameter included); never when ``e`` reads ``t`` itself (then it is
  already an update) or ``e`` is a literal whose update changes nothing (``+= 0``, ``*= 1``): the
  "incorrect assignment operator" class (the ``augmented`` family only goes the other way);
* ``unpack``: two elements of a tuple target swapped (``a, b = ...`` to ``b, a = ...``, a
  ``for`` loop's ``i, x``): the "swapped variables" class, where swapping their uses instead
  (``a - b`` to ``b - a``) fixes one use and leaves the others wrong;
* ``length_check``: an ``if``/``while`` test reading ``x[k]`` (``k`` an integer literal)
  conjoined with a length check of ``x`` first: ``len(x) > m`` (``x[k]`` exists) or
  ``len(x) > m + 1`` (``x`` has more than that), ``m = k`` or ``-k - 1`` for a negative ``k``:
  PAR's range checker, and the "missing condition" of a test meant for longer sequences (a
  leading-character check that must spare a single character); a test reading ``x[i + k]`` /
  ``x[i - k]`` (a look-ahead or look-behind from a name) given ``i + k < len(x) and`` /
  ``i - k >= 0 and`` (the bounds check before peeking at a neighbour);
* the ``builtin`` family's rounding siblings from ``math`` (a file calling ``math``):
  ``math.floor`` / ``math.ceil`` / ``math.trunc`` to one another, ``int`` or ``round``, and a
  one-argument ``int`` or ``round`` to ``math.floor`` / ``math.ceil`` (``BUILTIN_SWAPS`` has
  ``round`` <-> ``int`` <-> ``float`` for every file).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from .tables import SYMBOL, Make, source_of
from .templates import names_in

PRIMARY = (cst.AddAssign, cst.SubtractAssign)
"""The likeliest augmented forms of a plain assignment (a counter or a running total)."""
SECONDARY = (cst.MultiplyAssign, cst.DivideAssign, cst.FloorDivideAssign, cst.ModuloAssign, cst.PowerAssign)
OTHER = 0.2
"""Prior of the other arithmetic kinds, against 1 for ``+=`` / ``-=``."""
ROUNDING = ("floor", "ceil", "trunc")
"""``math``'s rounding functions, siblings of ``int`` and ``round``."""
SEQUENCE_LITERALS = (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString, cst.List, cst.Tuple)
"""Values only ``+=`` extends (``*=`` by a string or a list fails or repeats)."""


def _augmented(op: type) -> Make:
    def make(n: cst.CSTNode) -> cst.CSTNode:
        return cst.AugAssign(target=n.targets[0].target, operator=op(), value=n.value)  # type: ignore[attr-defined]
    return make


def _literal(value: cst.BaseExpression) -> int | None:
    return int(value.value, 0) if isinstance(value, cst.Integer) and value.value.isdigit() else None


def operators_for(value: cst.BaseExpression) -> list[tuple[type, float]]:
    """The augmented operators ``t = value`` may become, with their priors (none that leave
    ``t`` unchanged or cannot apply to the value)."""
    if isinstance(value, SEQUENCE_LITERALS):
        empty = isinstance(value, (cst.List, cst.Tuple)) and not value.elements or \
            isinstance(value, cst.SimpleString) and value.raw_value == ""
        return [] if empty else [(cst.AddAssign, 1.0)]
    if isinstance(value, (cst.Dict, cst.Set, cst.Lambda, cst.Comparison, cst.BooleanOperation)) or \
            isinstance(value, cst.Name) and value.value in ("None", "True", "False"):
        return []
    n = _literal(value)
    if n == 0:
        return []
    ops = [(op, 1.0) for op in PRIMARY] + [(op, OTHER) for op in SECONDARY]
    if n == 1:
        ops = [(op, w) for op, w in ops if op not in (cst.MultiplyAssign, cst.DivideAssign,
                                                      cst.FloorDivideAssign, cst.PowerAssign)]
    return ops


def _reads(value: cst.BaseExpression, target: cst.BaseExpression) -> bool:
    """Whether ``value`` reads ``target`` (a name, or an attribute's / subscript's code)."""
    if isinstance(target, cst.Name):
        return target.value in names_in(value)
    return source_of(target) in source_of(value)


def _length_bound(node: cst.Subscript) -> tuple[cst.BaseExpression, int] | None:
    """``(x, m)`` for ``x[k]`` with ``k`` an integer literal (``m = k``, or ``-k - 1``)."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    index = node.slice[0].slice.value
    sign = 1
    if isinstance(index, cst.UnaryOperation) and isinstance(index.operator, cst.Minus):
        index, sign = index.expression, -1
    k = _literal(index)  # type: ignore[arg-type]
    base = node.value
    if k is None or not (isinstance(base, cst.Name) or isinstance(base, cst.Attribute) and isinstance(base.value, cst.Name)):
        return None
    return base, (k if sign > 0 else k - 1)


def _relative_bound(node: cst.Subscript) -> str | None:
    """The guard ``x[i + k]`` needs (``i + k < len(x)``; ``i - k >= 0`` for ``x[i - k]``), ``k`` an
    integer literal, ``i`` a name."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    index, base = node.slice[0].slice.value, node.value
    if not (isinstance(index, cst.BinaryOperation) and isinstance(index.left, cst.Name)
            and _literal(index.right) is not None  # type: ignore[arg-type]
            and (isinstance(base, cst.Name) or isinstance(base, cst.Attribute) and isinstance(base.value, cst.Name))):
        return None
    code = f"{index.left.value} {'+' if isinstance(index.operator, cst.Add) else '-'} {source_of(index.right)}"
    if isinstance(index.operator, cst.Add):
        return f"{code} < len({source_of(base)})"
    return f"{code} >= 0" if isinstance(index.operator, cst.Subtract) else None


def _conjoin(guard: str) -> Make:
    def make(n: cst.CSTNode) -> cst.CSTNode:
        test = n
        if isinstance(test, (cst.IfExp, cst.NamedExpr, cst.Lambda)) or \
                isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or):
            test = test.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return cst.BooleanOperation(left=cst.parse_expression(guard), operator=cst.And(), right=test)  # type: ignore[arg-type]
    return make


class AssignmentSites:
    """Mixin of :class:`~.collector.SiteCollector` (uses the scopes of :class:`~.names.NameSites`)."""

    _add: Any
    scope: Any
    scopes: list[Any]

    def _init_assignments(self) -> None:
        self._bound_names: dict[int, set[str]] = {}
        """``id(scope)`` -> names bound so far in the function (its parameters first)."""
        self._function: dict[int, str] = {}
        """``id(scope)`` -> the function's name."""
        self._attribute_assigns: list[tuple[cst.Assign, str, int, bool]] = []
        """``(statement, target code, id(scope), bound earlier in the function)``."""
        self._attribute_scopes: dict[str, set[int]] = {}
        """An attribute target's code -> the functions assigning it."""
        self._math_calls = False
        self._roundable: list[cst.Name] = []
        """One-argument ``int(...)`` / ``round(...)`` calls' functions."""

    def note_conversion_call(self, node: cst.Call) -> None:
        f = node.func
        if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and f.value.value == "math":
            self._math_calls = True
            if f.attr.value in ROUNDING and len(self.scopes) > 1:
                options = [f"math.{r}" for r in ROUNDING if r != f.attr.value] + ["int", "round"]
                self._add("builtin", f, "rounding", [
                    (f"math.{f.attr.value} -> {o}", lambda n, o=o: cst.parse_expression(o)) for o in options])
        elif isinstance(f, cst.Name) and f.value in ("int", "round") and len(node.args) == 1 \
                and node.args[0].keyword is None and not node.args[0].star and len(self.scopes) > 1:
            self._roundable.append(f)

    def note_assignment_function(self, node: cst.FunctionDef) -> None:
        params = [*node.params.params, *node.params.kwonly_params, *node.params.posonly_params]
        stars = [s for s in (node.params.star_arg, node.params.star_kwarg) if isinstance(s, cst.Param)]
        self._bound_names[id(self.scope)] = {p.name.value for p in [*params, *stars]}
        self._function[id(self.scope)] = node.name.value

    def note_assignment_binding(self, target: cst.BaseExpression) -> None:
        """A name (or the names of a tuple) bound by a loop, an augmented assignment..."""
        bound = self._bound_names.get(id(self.scope))
        if bound is None:
            return
        if isinstance(target, cst.Name):
            bound.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.note_assignment_binding(element.value)

    def note_assignment(self, node: cst.Assign) -> None:
        if len(self.scopes) <= 1 or id(self.scope) not in self._bound_names:
            return
        if len(node.targets) == 1:
            target = node.targets[0].target
            if isinstance(target, (cst.Tuple, cst.List)):
                self._unpack(target)
            elif not _reads(node.value, target):
                self._plain(node, target)
        for t in node.targets:
            self.note_assignment_binding(t.target)

    def _plain(self, node: cst.Assign, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            if target.value in self._bound_names[id(self.scope)]:
                self._augment(node)
        elif isinstance(target, cst.Subscript):
            self._augment(node)
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            code = source_of(target)
            scopes = self._attribute_scopes.setdefault(code, set())
            self._attribute_assigns.append((node, code, id(self.scope), id(self.scope) in scopes))
            scopes.add(id(self.scope))

    def _augment(self, node: cst.Assign) -> None:
        ops = operators_for(node.value)
        self._add("assign", node, "assign-operator",
                  [(f"= -> {SYMBOL[op]}", _augmented(op)) for op, _ in ops],
                  {i: w for i, (_, w) in enumerate(ops) if w != 1.0})

    def note_assignment_for(self, node: cst.For) -> None:
        if len(self.scopes) > 1 and isinstance(node.target, (cst.Tuple, cst.List)):
            self._unpack(node.target)
        self.note_assignment_binding(node.target)

    def _unpack(self, target: cst.Tuple | cst.List) -> None:
        elements = list(target.elements)
        if any(isinstance(e, cst.StarredElement) for e in elements):
            return
        alternatives: list[tuple[str, Make]] = []
        for i in range(len(elements)):
            for j in range(i + 1, len(elements)):
                if elements[i].value.deep_equals(elements[j].value):
                    continue

                def swap(n: cst.CSTNode, i: int = i, j: int = j) -> cst.CSTNode:
                    items = list(n.elements)  # type: ignore[attr-defined]
                    items[i], items[j] = items[i].with_changes(value=items[j].value), items[j].with_changes(value=items[i].value)
                    return n.with_changes(elements=items)
                alternatives.append((f"{source_of(elements[i].value)} <-> {source_of(elements[j].value)}", swap))
        self._add("unpack", target, "unpack-order", alternatives)

    def note_length_check(self, test: cst.BaseExpression) -> None:
        if len(self.scopes) <= 1:
            return
        found: dict[tuple[str, int], None] = {}
        relative: dict[str, None] = {}

        class _V(cst.CSTVisitor):
            def visit_Subscript(self, n: cst.Subscript) -> None:
                bound = _length_bound(n)
                if bound is not None:
                    found[(source_of(bound[0]), bound[1])] = None
                guard = _relative_bound(n)
                if guard is not None:
                    relative[guard] = None

            def visit_Lambda(self, n: cst.Lambda) -> bool:
                return False
        test.visit(_V())
        code = source_of(test)
        guards: list[str] = []
        for sequence, m in found:
            if f"len({sequence})" in code:
                continue  # the test already checks the length
            guards += [g for g in (f"len({sequence}) > {m}", f"len({sequence}) > {m + 1}") if g not in guards]
        guards += [g for g in relative if g not in code and g not in guards]
        self._add("length_check", test, "length-check", [(f"`{g} and` added", _conjoin(g)) for g in guards])

    def _finish_assignments(self) -> None:
        for f in self._roundable if self._math_calls else []:
            self._add("builtin", f, "rounding", [
                (f"{f.value} -> math.{r}", lambda n, r=r: cst.parse_expression(f"math.{r}")) for r in ROUNDING[:2]])
        for node, code, scope, earlier in self._attribute_assigns:
            others = self._attribute_scopes[code] - {scope}
            if earlier or (others and self._function.get(scope) != "__init__"):
                self._augment(node)
