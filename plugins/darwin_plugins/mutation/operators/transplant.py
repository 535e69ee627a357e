"""Statements transplanted from a sibling function (GenProg's insertion across functions).

A method that forgets a side effect its sibling performs (``get`` not marking a key as recently
used with the ``self.data.move_to_end(key)`` that ``put`` makes; a counter one method updates and
another does not) needs a statement that is nowhere in its own body, so the ``insert`` family
(copies within one function) cannot express it. The ``transplant`` family copies, before each
statement of a function, the *effect statements* of its siblings (the other methods of its class,
or the other functions of its module): a call made for its effect (``x.m(...)``, ``f(...)``) or
an augmented assignment of an attribute (``self.count += 1``), never one the target already has.

A method that reads state without recording its new value (a refill that never stores the time it
refilled up to) needs the assignment its constructor makes: the family also copies a sibling's
``self.a = <expr>`` *after* each statement of a function that reads ``self.a`` when the function
never assigns ``self.a`` itself and ``<expr>`` reads one of the function's own parameters, with the
same name (label ``record-after``).

Names are rebound to the target's scope: a donor parameter the target also has keeps its name,
another one becomes the target's parameter at the same position; a donor-local name must be
bound in the target too. A donor that cannot be rebound so is not copied.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from .tables import jumps, source_of

MAX_DONORS = 8
"""Most transplanted statements offered at one insertion point (siblings in source order)."""


def _params(function: cst.FunctionDef) -> list[str]:
    p = function.params
    return [q.name.value for q in [*p.posonly_params, *p.params, *p.kwonly_params]] + \
        [s.name.value for s in (p.star_arg, p.star_kwarg) if isinstance(s, cst.Param)]


def _statements(function: cst.FunctionDef) -> list[tuple[cst.BaseStatement, bool]]:
    """``(statement, is it simple)`` of every block of the function (not nested functions)."""
    found: list[tuple[cst.BaseStatement, bool]] = []

    class _V(cst.CSTVisitor):
        def visit_IndentedBlock(self, n: cst.IndentedBlock) -> None:
            found.extend((s, isinstance(s, cst.SimpleStatementLine)) for s in n.body)

        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return n is function

        def visit_ClassDef(self, n: cst.ClassDef) -> bool:
            return False
    function.visit(_V())
    return found


def _bound(function: cst.FunctionDef) -> set[str]:
    """Names the function binds (parameters, assignment and loop targets, ``with ... as``)."""
    found = set(_params(function))

    class _V(cst.CSTVisitor):
        def _targets(self, target: cst.BaseExpression) -> None:
            if isinstance(target, cst.Name):
                found.add(target.value)
            elif isinstance(target, (cst.Tuple, cst.List)):
                for e in target.elements:
                    self._targets(e.value)

        def visit_AssignTarget(self, n: cst.AssignTarget) -> None:
            self._targets(n.target)

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            self._targets(n.target)

        def visit_For(self, n: cst.For) -> None:
            self._targets(n.target)

        def visit_AsName(self, n: cst.AsName) -> None:
            self._targets(n.name)  # type: ignore[arg-type]

        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return n is function
    function.visit(_V())
    return found


def effect(stmt: cst.BaseStatement) -> bool:
    """A statement made for its effect: a lone call, or an augmented assignment of an attribute."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return False
    small = stmt.body[0]
    if isinstance(small, cst.Expr):
        return isinstance(small.value, cst.Call)
    return isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Attribute)


class _Rename(cst.CSTTransformer):
    """Renames variables (``skip``: the ``id`` of attribute names and keywords, left alone)."""

    def __init__(self, mapping: dict[str, str], skip: set[int]) -> None:
        super().__init__()
        self.mapping, self.skip = mapping, skip

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        new = None if id(original_node) in self.skip else self.mapping.get(updated_node.value)
        return updated_node.with_changes(value=new) if new else updated_node


def _reads(stmt: cst.CSTNode) -> tuple[set[str], set[int]]:
    """Variable names ``stmt`` uses, and the ``id`` of its other names (attributes, keywords)."""
    found: set[str] = set()
    skip: set[int] = set()

    class _V(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            if id(n) not in skip:
                found.add(n.value)

        def visit_Attribute(self, n: cst.Attribute) -> None:
            skip.add(id(n.attr))

        def visit_Arg(self, n: cst.Arg) -> None:
            if n.keyword is not None:
                skip.add(id(n.keyword))
    stmt.visit(_V())
    return found, skip


def rebind(stmt: cst.SimpleStatementLine, donor: cst.FunctionDef, target: cst.FunctionDef) -> cst.SimpleStatementLine | None:
    """``stmt`` of ``donor`` with its names rebound to ``target``'s scope, or ``None`` when one
    cannot be (a donor-local name the target does not bind, a parameter with no counterpart)."""
    donor_params, target_params = _params(donor), _params(target)
    donor_bound, target_bound = _bound(donor), _bound(target)
    mapping: dict[str, str] = {}
    reads, skip = _reads(stmt)
    for name in reads:
        if name in target_bound and (name in donor_params) == (name in target_params):
            continue
        if name in donor_params:
            i = donor_params.index(name)
            if i >= len(target_params):
                return None
            mapping[name] = target_params[i]
        elif name in donor_bound:
            return None
    if len(set(mapping.values())) < len(mapping):
        return None
    renamed = stmt.visit(_Rename(mapping, skip)) if mapping else stmt
    return renamed.with_changes(leading_lines=[])  # type: ignore[union-attr]


def _attribute_records(function: cst.FunctionDef) -> dict[str, cst.SimpleStatementLine]:
    """``self.a = <expr>`` statements of ``function``, by the attribute's code."""
    found: dict[str, cst.SimpleStatementLine] = {}
    for stmt, simple in _statements(function):
        if simple and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign):  # type: ignore[attr-defined]
            targets = stmt.body[0].targets  # type: ignore[attr-defined]
            if len(targets) == 1 and isinstance(targets[0].target, cst.Attribute) \
                    and isinstance(targets[0].target.value, cst.Name):
                found.setdefault(source_of(targets[0].target), stmt)  # type: ignore[arg-type]
    return found


def _attributes_read(stmt: cst.CSTNode) -> set[str]:
    """The ``name.attr`` codes a statement mentions."""
    found: set[str] = set()

    class _V(cst.CSTVisitor):
        def visit_Attribute(self, n: cst.Attribute) -> None:
            if isinstance(n.value, cst.Name):
                found.add(f"{n.value.value}.{n.attr.value}")
    stmt.visit(_V())
    return found


class TransplantSites:
    """Mixin of :class:`~.collector.SiteCollector`: once the module is visited (needs only it)."""

    _add: Any

    def _finish_transplant(self, module: cst.Module) -> None:
        groups: list[list[cst.FunctionDef]] = [[s for s in module.body if isinstance(s, cst.FunctionDef)]]

        class _C(cst.CSTVisitor):
            def visit_ClassDef(self, n: cst.ClassDef) -> None:
                groups.append([s for s in n.body.body if isinstance(s, cst.FunctionDef)])
        module.visit(_C())
        for group in groups:
            blocks = {id(f): _statements(f) for f in group}  # once per function, not per pair
            effects = {id(f): [s for s, _ in blocks[id(f)] if effect(s)] for f in group}
            for target in group:
                if target.name.value == "__init__":
                    continue  # a constructor creates the state the siblings' effects act on
                self._transplant_into(target, [f for f in group if f is not target], blocks[id(target)], effects)
                self._records_into(target, [f for f in group if f is not target], blocks[id(target)])

    def _records_into(self, target: cst.FunctionDef, siblings: list[cst.FunctionDef],
                      statements: list[tuple[cst.BaseStatement, bool]]) -> None:
        """A sibling's ``self.a = ...`` after each statement of ``target`` reading ``self.a``, when
        ``target`` assigns ``self.a`` nowhere."""
        own = _attribute_records(target)
        assigned = own.keys() | {source_of(s.body[0].target) for s, simple in statements  # type: ignore[attr-defined]
                                 if simple and len(s.body) == 1 and isinstance(s.body[0], cst.AugAssign)}  # type: ignore[attr-defined]
        donors: dict[str, list[tuple[str, cst.SimpleStatementLine]]] = {}
        inputs = set(_params(target)[1:])  # a recorded value comes from the target's own inputs
        for sibling in siblings:
            for attribute, stmt in _attribute_records(sibling).items():
                moved = rebind(stmt, sibling, target) if attribute not in assigned else None
                code = source_of(moved).strip() if moved is not None else ""
                if moved is not None and code == source_of(stmt).strip() \
                        and _reads(stmt.body[0].value)[0] & inputs:  # type: ignore[attr-defined]
                    if all(code != c for c, _ in donors.get(attribute, [])):
                        donors.setdefault(attribute, []).append((code, moved))
        if not donors:
            return
        for stmt, simple in statements:
            if not simple or jumps(stmt):
                continue
            chosen = [d for a in sorted(_attributes_read(stmt) & donors.keys()) for d in donors[a]][:MAX_DONORS]
            self._add("transplant", stmt, "record-after", [
                (f"insert `{code[:60]}` after", lambda n, d=d: cst.FlattenSentinel([n, d.deep_clone()]))
                for code, d in chosen])

    def _transplant_into(self, target: cst.FunctionDef, siblings: list[cst.FunctionDef],
                         statements: list[tuple[cst.BaseStatement, bool]], effects: dict[int, list[Any]]) -> None:
        donors: dict[str, cst.SimpleStatementLine] = {}
        own: set[str] | None = None
        for sibling in siblings:
            for stmt in effects[id(sibling)]:
                if own is None:  # the target's own statements, only when a sibling has an effect
                    own = {source_of(s.with_changes(leading_lines=[])) for s, simple in statements if simple}
                moved = rebind(stmt, sibling, target)  # type: ignore[arg-type]
                code = source_of(moved) if moved is not None else ""
                if moved is not None and code not in own and code not in donors:
                    donors[code] = moved
        chosen = list(donors.items())[:MAX_DONORS]
        if not chosen:
            return
        for stmt, simple in statements:
            if simple and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr) \
                    and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)):
                continue  # a docstring
            self._add("transplant", stmt, "transplant-before", [
                (f"insert `{code.strip()[:60]}` from a sibling",
                 lambda n, d=d: cst.FlattenSentinel([d.deep_clone(), n])) for code, d in chosen])
