"""Fix templates whose ingredients come from the program itself (PAR, TBar, SimFix/CapGen).

* ``method_call``: a name compared or passed as an argument wrapped in a zero-argument method
  call the file already makes (``c`` to ``c.lower()``), or a common normaliser
  (:data:`NORMALISERS`): PAR's and TBar's "missing method call" template;
* ``initial``: the literal an accumulator starts from (a name bound again later in the
  function) replaced by an extreme or identity value (``float("-inf")``, ``float("inf")``,
  ``None``) or the first element of a sequence a loop of the function iterates (``xs[0]``);
* ``guard``: a statement of a loop body that uses the loop variable wrapped in ``if v:`` or
  ``if v.m():`` (``m`` a zero-argument method the statement calls on ``v``, or ``strip``): PAR's
  null/empty checker; a test of what the statement does not use itself weighs :data:`LOOSE`; a
  statement binding a name the rest of the body reads is not wrapped (the later reads would see a
  stale or unbound value: skipping the rest is the ``continue`` template's);
* ``builtin``: a called builtin to its sibling (``min`` <-> ``max``, ``any`` <-> ``all``...), the
  ``name`` family's builtin swaps with a prior of their own (so they are not one of hundreds).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from .tables import BUILTIN_SWAPS, Make, source_of

NORMALISERS = ("lower", "strip")
"""Zero-argument methods a name may be wrapped in even when the file never calls them."""
MUTATORS = {"pop", "popleft", "popitem", "clear", "sort", "reverse", "copy", "close", "__init__"}
"""Zero-argument methods never used as ingredients (they change or consume the object)."""
EXTREMES = ("float('-inf')", "float('inf')", "None")
"""What an accumulator's initial literal may become besides a sequence's first element."""
LOOSE = 1 / 3
"""Prior multiplier of a guard testing something the statement does not use itself: ``if v:``
when the statement only calls methods of ``v``, ``if v.strip():`` when it never strips ``v``.
The statement's own operand is what it fails on (``int(part.strip())`` fails on a blank
``part.strip()``; ``if part:`` lets ``' '`` through), as PAR's checker tests the dereferenced
expression."""
MAX_NAMES = 12
"""Most method ingredients per site (the file's zero-argument methods, alphabetically)."""


def names_in(node: cst.CSTNode, receivers: bool = True) -> set[str]:
    """The names ``node`` reads (``receivers=False``: not counting ``v`` in ``v.attr``)."""
    found: set[str] = set()

    class _V(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            found.add(n.value)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            if receivers or not isinstance(n.value, cst.Name):
                n.value.visit(self)
            return False
    node.visit(_V())
    return found


def zero_calls_on(node: cst.CSTNode, name: str) -> list[str]:
    """Methods called without arguments on ``name`` inside ``node`` (``part.strip()``)."""
    found: list[str] = []

    class _V(cst.CSTVisitor):
        def visit_Call(self, n: cst.Call) -> None:
            f = n.func
            if not n.args and isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) \
                    and f.value.value == name and f.attr.value not in MUTATORS and f.attr.value not in found:
                found.append(f.attr.value)
    node.visit(_V())
    return found


def binds(stmt: cst.SimpleStatementLine) -> set[str]:
    """The names a simple statement (re)binds (``x = ...``, ``a, b = ...``, ``x += ...``)."""
    out: set[str] = set()
    for small in stmt.body:
        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else \
            [small.target] if isinstance(small, (cst.AugAssign, cst.AnnAssign)) else []
        for target in targets:
            elements = [e.value for e in target.elements] if isinstance(target, (cst.Tuple, cst.List)) else [target]
            out |= {e.value for e in elements if isinstance(e, cst.Name)}
    return out


def _wrap(test: str) -> Make:
    def make(n: cst.CSTNode) -> cst.CSTNode:
        stmt = n.with_changes(leading_lines=[])  # type: ignore[attr-defined]
        return cst.If(test=cst.parse_expression(test), body=cst.IndentedBlock(body=[stmt]),
                      leading_lines=n.leading_lines)  # type: ignore[attr-defined]
    return make


def method_call(method: str) -> Make:
    """``n`` -> ``n.method()``."""
    return lambda n: cst.Call(func=cst.Attribute(value=n, attr=cst.Name(method)))  # type: ignore[arg-type]


class TemplateSites:
    """Mixin of :class:`~.collector.SiteCollector` (uses the scopes of :class:`~.names.NameSites`)."""

    _add: Any
    scope: Any
    scopes: list[Any]

    def _init_templates(self) -> None:
        self.zero_methods: set[str] = set()
        self.wrappable: dict[int, cst.Name] = {}
        self.initials: list[tuple[cst.Assign, str, Any]] = []
        self.bound: dict[tuple[int, str], int] = {}
        """``(id(scope), name)`` -> how often the function binds the name."""
        self.iterated: dict[int, list[str]] = {}
        """``id(scope)`` -> the names its ``for`` loops iterate, in order."""

    def note_template_call(self, node: cst.Call) -> None:
        f = node.func
        if not node.args and isinstance(f, cst.Attribute) and f.attr.value not in MUTATORS:
            self.zero_methods.add(f.attr.value)
        if len(self.scopes) > 1:
            for a in node.args:
                if isinstance(a.value, cst.Name) and a.keyword is None and not a.star:
                    self.wrappable[id(a.value)] = a.value
        if isinstance(f, cst.Name) and f.value in BUILTIN_SWAPS and len(self.scopes) > 1:
            self._add("builtin", f, "builtin", [
                (f"{f.value} -> {b}", lambda n, b=b: n.with_changes(value=b)) for b in BUILTIN_SWAPS[f.value]])

    def note_template_comparison(self, node: cst.Comparison) -> None:
        if len(self.scopes) > 1:
            for e in (node.left, *(c.comparator for c in node.comparisons)):
                if isinstance(e, cst.Name) and e.value not in ("True", "False", "None"):
                    self.wrappable[id(e)] = e

    def _bind(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            key = (id(self.scope), target.value)
            self.bound[key] = self.bound.get(key, 0) + 1

    def note_template_assign(self, node: cst.Assign) -> None:
        if len(self.scopes) <= 1:
            return
        for t in node.targets:
            self._bind(t.target)
        value = node.value
        if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus):
            value = value.expression
        literal = isinstance(value, (cst.Integer, cst.Float)) or (isinstance(value, cst.Name) and value.value == "None")
        if literal and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.initials.append((node, node.targets[0].target.value, self.scope))

    def note_template_augassign(self, node: cst.AugAssign) -> None:
        if len(self.scopes) > 1:
            self._bind(node.target)

    def note_template_for(self, node: cst.For) -> None:
        if len(self.scopes) <= 1:
            return
        if isinstance(node.iter, cst.Name):
            self.iterated.setdefault(id(self.scope), []).append(node.iter.value)
        targets = [node.target] if isinstance(node.target, cst.Name) else \
            [e.value for e in node.target.elements] if isinstance(node.target, cst.Tuple) else []
        names = [t.value for t in targets if isinstance(t, cst.Name)]
        if not isinstance(node.body, cst.IndentedBlock):
            return
        body = list(node.body.body)
        for i, stmt in enumerate(body):
            if not isinstance(stmt, cst.SimpleStatementLine) or any(
                    isinstance(s, (cst.Continue, cst.Break, cst.Pass, cst.Return)) for s in stmt.body):
                continue
            later = set().union(*(names_in(s) for s in body[i + 1:]))
            if binds(stmt) & later:
                continue  # guarded, a binding leaves later reads stale: that skip is ``continue``'s
            used, bare = names_in(stmt), names_in(stmt, receivers=False)
            tests: dict[str, float] = {}
            for v in names:
                if v not in used:
                    continue
                called = zero_calls_on(stmt, v)
                for test, exact in [(v, v in bare), *((f"{v}.{m}()", True) for m in called),
                                    (f"{v}.strip()", "strip" in called)]:
                    tests.setdefault(test, 1.0 if exact else LOOSE)
            self._add("guard", stmt, "guard", [(f"guarded by `if {t}:`", _wrap(t)) for t in tests],
                      {i: w for i, w in enumerate(tests.values()) if w != 1.0})

    def _finish_templates(self) -> None:
        methods = sorted(set(self.zero_methods) - set(NORMALISERS))[:MAX_NAMES]
        for name in self.wrappable.values():
            self._add("method_call", name, "method-call", [
                (f"{name.value} -> {name.value}.{m}()", method_call(m)) for m in [*NORMALISERS, *methods]])
        for node, target, scope in self.initials:
            if self.bound.get((id(scope), target), 0) < 2:
                continue  # not an accumulator: the function never binds it again
            current = source_of(node.value)
            options = [code for code in EXTREMES if code != current]
            options += [f"{s}[0]" for s in dict.fromkeys(self.iterated.get(id(scope), [])) if s != target]
            self._add("initial", node, "initial-value", [
                (f"{target} = {current} -> {code}", lambda n, code=code: n.with_changes(value=cst.parse_expression(code)))
                for code in options])
