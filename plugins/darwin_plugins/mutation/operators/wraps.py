"""Call wraps and resets: two standard fix templates whose ingredients are builtins and the
function's own statements.

* ``wrap``: an iterable (a ``for`` loop's or a comprehension's) wrapped in ``sorted(...)``,
  ``reversed(...)`` or ``set(...)`` (:data:`ITERABLE_WRAPS`; a ``range`` only reversed; a name
  that ``enumerate`` or ``zip`` iterates in ``reversed`` or ``sorted``), a
  difference ``a - b`` in ``abs(...)``, a sequence name passed to ``range`` in ``len(...)``
  (a name the function also iterates or indexes), and a name joined by ``sep.join(...)`` in
  ``reversed(...)`` or ``sorted(...)`` (parts collected in the wrong order): PAR's / TBar's
  "wrap with a method call";
* ``reset``: an assignment that initialises a variable before a loop (``number = ""``,
  ``count = 0``, ``group = []``: an empty or scalar literal) copied into the loop, after a
  statement of the loop that reads the variable without rebinding it: the reset after a value
  is consumed (GenProg's insertion, its donor the function's own statement; the ``insert``
  family only inserts *before* a statement, and a loop's only consumer is often last in its
  branch);
* ``break``: ``break`` after the last statement of an ``if`` inside a ``for`` loop when that
  statement binds a name read after the loop (a search that should stop at its first match).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from .tables import JUMPS, Make, source_of
from .templates import binds

ITERABLE_WRAPS = ("sorted", "reversed", "set")
"""Builtins an iterable may be wrapped in."""
JOIN_WRAPS = ("reversed", "sorted")
"""Builtins the parts a ``join`` reads (or ``enumerate`` / ``zip`` pair up) may be wrapped in."""
ENDINGS = (*JUMPS, cst.Pass)
"""A statement with one of these is never followed by a reset (it would be unreachable)."""
EMPTY_CALLS = {"set", "list", "dict", "str", "deque", "float", "int"}
"""Constructors called without arguments that make an initial value (``set()``, ``float()``)."""


def _wrap(func: str) -> Make:
    return lambda n: cst.Call(func=cst.Name(func), args=[cst.Arg(value=n)])  # type: ignore[arg-type]


def _called(expr: cst.BaseExpression) -> str | None:
    return expr.func.value if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) else None


def initialiser(value: cst.BaseExpression) -> bool:
    """An empty or scalar literal a variable starts from (``0``, ``""``, ``[]``, ``None``, ``set()``...)."""
    if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus):
        value = value.expression
    if isinstance(value, (cst.Integer, cst.Float, cst.SimpleString)):
        return True
    if isinstance(value, cst.Name):
        return value.value in ("None", "True", "False")
    if isinstance(value, (cst.List, cst.Dict, cst.Tuple)):
        return not value.elements
    if isinstance(value, cst.Call):
        return _called(value) in EMPTY_CALLS and not value.args
    return False


def _statements(node: cst.CSTNode) -> list[cst.SimpleStatementLine]:
    """The simple statements inside ``node`` (not inside nested functions or classes)."""
    found: list[cst.SimpleStatementLine] = []

    class _V(cst.CSTVisitor):
        def visit_SimpleStatementLine(self, n: cst.SimpleStatementLine) -> bool:
            found.append(n)
            return False

        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return False

        def visit_ClassDef(self, n: cst.ClassDef) -> bool:
            return False
    node.visit(_V())
    return found


def _bare_reads(node: cst.CSTNode) -> set[str]:
    """The names ``node`` reads as values (not ``v`` in ``v.m()`` or ``v[i]``: a use of the
    container, not a consumption of its value)."""
    found: set[str] = set()

    class _V(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            found.add(n.value)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            if not isinstance(n.value, cst.Name):
                n.value.visit(self)
            return False

        def visit_Subscript(self, n: cst.Subscript) -> bool:
            if not isinstance(n.value, cst.Name):
                n.value.visit(self)
            for element in n.slice:
                element.visit(self)
            return False
    node.visit(_V())
    return found


class WrapSites:
    """Mixin of :class:`~.collector.SiteCollector` (uses the scopes of :class:`~.names.NameSites`
    and the blocks of :class:`~.statements.StatementSites`)."""

    _add: Any
    scope: Any
    scopes: list[Any]
    blocks: list[tuple[cst.IndentedBlock, Any]]

    def note_wrap_if(self, node: cst.If) -> None:
        if len(self.scopes) > 1 and isinstance(node.body, cst.IndentedBlock) and node.body.body:
            last = node.body.body[-1]
            if isinstance(last, cst.SimpleStatementLine) and not any(isinstance(s, ENDINGS) for s in last.body):
                self._last_in_if.add(id(last))

    def _init_wraps(self) -> None:
        self._last_in_if: set[int] = set()
        """``id`` of the last simple statement of each ``if`` body (``break`` sites)."""
        self.range_args: list[tuple[cst.Name, int]] = []
        self.sequences: dict[int, set[str]] = {}
        """``id(scope)`` -> names the function iterates or indexes."""

    def note_wrap_iterable(self, iterable: cst.BaseExpression) -> None:
        if len(self.scopes) <= 1:
            return
        if isinstance(iterable, cst.Name):
            self.sequences.setdefault(id(self.scope), set()).add(iterable.value)
        current = _called(iterable)
        options = ("reversed",) if current == "range" else \
            () if current in ("enumerate", "zip") else [w for w in ITERABLE_WRAPS if w != current]
        self._add("wrap", iterable, "iterable-wrap", [(f"wrapped in `{w}(...)`", _wrap(w)) for w in options])
        if current in ("enumerate", "zip"):  # the sequences they pair up, each in another order
            for a in iterable.args:  # type: ignore[attr-defined]
                if isinstance(a.value, cst.Name) and a.keyword is None and not a.star:
                    self._add("wrap", a.value, "paired-wrap", [(f"wrapped in `{w}(...)`", _wrap(w)) for w in JOIN_WRAPS])

    def note_wrap_subscript(self, node: cst.Subscript) -> None:
        if len(self.scopes) > 1 and isinstance(node.value, cst.Name):
            self.sequences.setdefault(id(self.scope), set()).add(node.value.value)

    def note_wrap_call(self, node: cst.Call) -> None:
        if len(self.scopes) > 1 and isinstance(node.func, cst.Attribute) and node.func.attr.value == "join" \
                and len(node.args) == 1 and isinstance(node.args[0].value, cst.Name) and not node.args[0].star:
            self._add("wrap", node.args[0].value, "joined-wrap",
                      [(f"wrapped in `{w}(...)`", _wrap(w)) for w in JOIN_WRAPS])
        if len(self.scopes) > 1 and _called(node) == "range":
            for a in node.args:
                if isinstance(a.value, cst.Name) and a.keyword is None and not a.star:
                    self.range_args.append((a.value, id(self.scope)))

    def note_wrap_binary(self, node: cst.BinaryOperation) -> None:
        if len(self.scopes) > 1 and isinstance(node.operator, cst.Subtract):
            self._add("wrap", node, "abs-wrap", [("wrapped in `abs(...)`", _wrap("abs"))])

    def _finish_wraps(self) -> None:
        for name, scope in self.range_args:
            if name.value in self.sequences.get(scope, set()):
                self._add("wrap", name, "len-wrap", [(f"{name.value} -> len({name.value})", _wrap("len"))])
        for block, _scope in self.blocks:
            self._resets(block)
            self._breaks(block)

    def _breaks(self, block: cst.IndentedBlock) -> None:
        """``break`` after an ``if``'s last statement in a ``for`` of ``block`` that binds a name
        the statements after the loop read."""
        body = list(block.body)
        for i, loop in enumerate(body):
            if not isinstance(loop, cst.For):
                continue
            later = set().union(*(_bare_reads(s) for s in body[i + 1:]))
            for inner in _statements(loop.body):
                if binds(inner) & later and id(inner) in self._last_in_if:
                    self._add("break", inner, "break-after", [
                        ("insert `break` after", lambda n: cst.FlattenSentinel([n, cst.SimpleStatementLine(body=[cst.Break()])]))])

    def _resets(self, block: cst.IndentedBlock) -> None:
        """Each initialisation before a loop of ``block``, copied after its consumers in the loop."""
        after: dict[int, tuple[cst.SimpleStatementLine, list[cst.SimpleStatementLine]]] = {}
        body = list(block.body)
        for i, stmt in enumerate(body):
            if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
                    and isinstance(stmt.body[0], cst.Assign) and len(stmt.body[0].targets) == 1
                    and isinstance(stmt.body[0].targets[0].target, cst.Name) and initialiser(stmt.body[0].value)):
                continue
            name = stmt.body[0].targets[0].target.value
            for loop in body[i + 1:]:
                if not isinstance(loop, (cst.For, cst.While)):
                    continue
                for inner in _statements(loop.body):
                    if any(isinstance(s, ENDINGS) for s in inner.body) or name in binds(inner) \
                            or name not in _bare_reads(inner):
                        continue
                    entry = after.setdefault(id(inner), (inner, []))
                    if not any(d.deep_equals(stmt) for d in entry[1]):
                        entry[1].append(stmt)
        for inner, donors in after.values():
            self._add("reset", inner, "reset-after", [
                (f"insert `{source_of(d)}` after", lambda n, d=d: cst.FlattenSentinel([n, d.deep_clone()]))
                for d in donors])
