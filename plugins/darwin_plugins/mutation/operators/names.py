"""Name and attribute sites: a name becomes another name in scope, an attribute a sibling
(a called method also its usual confusions, :data:`~.tables.METHOD_SWAPS`).

Candidates are known only once a scope is fully visited, so sites are recorded as pending and
their alternatives built when the function (or the module) is left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from .tables import BUILTIN_SWAPS, METHOD_SWAPS, Make

KEPT = {"True", "False", "None", "self", "cls", "super", "__name__"}


@dataclass
class Scope:
    """Names seen in one function (or at module level)."""

    names: set[str] = field(default_factory=set)
    called: set[str] = field(default_factory=set)
    statements: list[cst.SimpleStatementLine] = field(default_factory=list)
    pending: list[tuple[cst.Name, bool]] = field(default_factory=list)
    """(name node, is it a call's function) awaiting alternatives."""
    indexes: dict[str, set[str]] = field(default_factory=dict)
    """Sequence name -> the names that index or slice it in this scope (``b[j]``, ``b[i:]``)."""
    index_of: dict[int, str] = field(default_factory=dict)
    """``id(name node)`` of an index -> the name of the sequence it indexes."""
    integers: set[str] = field(default_factory=set)
    """Names bound to integers here (``i = 0``, ``i += 1``, ``for i in range(n)``, ``n = len(xs)``)."""
    collections: dict[str, str] = field(default_factory=dict)
    """Names bound to an empty collection -> the method recording an element (:mod:`.updates`)."""
    updated: set[str] = field(default_factory=set)
    """Names whose collection some call updates (``seen.add(x)``)."""


def _integer(value: cst.BaseExpression) -> bool:
    """An integer-valued expression: a literal, ``len(...)``, or arithmetic with one of them."""
    if isinstance(value, cst.Integer):
        return True
    if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus):
        return _integer(value.expression)
    if isinstance(value, cst.Call):
        return isinstance(value.func, cst.Name) and value.func.value == "len"
    if isinstance(value, cst.BinaryOperation) and not isinstance(value.operator, cst.Divide):
        return _integer(value.left) or _integer(value.right)
    return False


class NameSites:
    """Mixin of :class:`~.collector.SiteCollector`."""

    _add: Any

    def _init_names(self) -> None:
        self.scopes: list[Scope] = [Scope()]
        self.module_scope = self.scopes[0]
        self.defs: set[str] = set()
        self.attributes: set[str] = set()
        self.methods: set[str] = set()
        self.pending_attributes: list[tuple[cst.Attribute, bool]] = []
        self._skip: set[int] = set()
        self._call_funcs: set[int] = set()
        self._finished: list[tuple[Scope, Scope]] = []  # (function scope, enclosing scope)

    @property
    def scope(self) -> Scope:
        return self.scopes[-1]

    # names that must not be replaced: definitions, parameters, keywords, attribute names
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.defs.add(node.name.value)
        self.scope.names.add(node.name.value)
        self._skip.add(id(node.name))
        inner = Scope()
        for param in [*node.params.params, *node.params.kwonly_params, *node.params.posonly_params]:
            self._skip.add(id(param.name))
            inner.names.add(param.name.value)
        for star in (node.params.star_arg, node.params.star_kwarg):
            if isinstance(star, cst.Param):
                self._skip.add(id(star.name))
                inner.names.add(star.name.value)
        self.scopes.append(inner)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        inner = self.scopes.pop()
        self._finished.append((inner, self.scope))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._skip.add(id(node.name))
        self.defs.add(node.name.value)

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._skip.add(id(node.keyword))

    def visit_Annotation(self, node: cst.Annotation) -> bool:
        return False

    def visit_Decorator(self, node: cst.Decorator) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        self._call_funcs.add(id(node.func))
        if isinstance(node.func, cst.Name):
            self.scope.called.add(node.func.value)
        elif isinstance(node.func, cst.Attribute):
            self.methods.add(node.func.attr.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._skip.add(id(node.attr))
        is_call = id(node) in self._call_funcs
        if not is_call:
            self.attributes.add(node.attr.value)
        self.pending_attributes.append((node, is_call))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) in self._skip or node.value in KEPT:
            return
        self.scope.names.add(node.value)
        self.scope.pending.append((node, id(node) in self._call_funcs))

    def note_integer(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        """Record ``target`` as an integer name when ``value`` is one (``None``: a ``range`` loop)."""
        if isinstance(target, cst.Name) and (value is None or _integer(value)):
            self.scope.integers.add(target.value)

    def note_subscript(self, node: cst.Subscript) -> None:
        """Record the names indexing a named sequence (``b[j]``, ``b[i:]``, ``b[j - 1]``)."""
        if not isinstance(node.value, cst.Name):
            return
        parts: list[cst.BaseExpression | None] = []
        for element in node.slice:
            part = element.slice
            parts += [part.value] if isinstance(part, cst.Index) else [part.lower, part.upper]  # type: ignore[union-attr]
        for expr in parts:
            if isinstance(expr, cst.BinaryOperation):
                expr = expr.left if isinstance(expr.left, cst.Name) else expr.right
            if isinstance(expr, cst.Name) and expr.value not in KEPT:
                self.scope.indexes.setdefault(node.value.value, set()).add(expr.value)
                self.scope.index_of[id(expr)] = node.value.value

    def _finish_names(self) -> None:
        """Build the alternatives of every pending name and attribute site."""
        module = self.module_scope
        callables = set(self.defs)
        for scope in [module, *(inner for inner, _ in self._finished)]:
            callables |= scope.called
        for scope in [module, *(inner for inner, _ in self._finished)]:
            visible = scope.names | module.names | self.defs
            for node, is_call in scope.pending:
                pool = (callables & visible) if is_call else (visible - self.defs)
                candidates = sorted(pool - {node.value})
                candidates += [b for b in BUILTIN_SWAPS.get(node.value, ()) if b not in candidates]
                self._add("name", node, "name", [
                    (f"{node.value} -> {c}", lambda n, c=c: n.with_changes(value=c)) for c in candidates])
                sequence = scope.index_of.get(id(node))
                fellows = sorted(scope.indexes.get(sequence, set()) - {node.value}) if sequence else []
                fellows = [c for c in fellows if node.value in scope.integers and c in scope.integers]
                self._add("index", node, "index-name", [
                    (f"{node.value} -> {c}", lambda n, c=c: n.with_changes(value=c)) for c in fellows if c in visible])
        for attr, is_call in self.pending_attributes:
            pool = self.methods if is_call else self.attributes
            candidates = sorted(pool - {attr.attr.value})
            if is_call:
                candidates += [m for m in METHOD_SWAPS.get(attr.attr.value, ()) if m not in candidates]
            alternatives: list[tuple[str, Make]] = [
                (f".{attr.attr.value} -> .{c}", lambda n, c=c: n.with_changes(attr=cst.Name(c)))
                for c in candidates]
            self._add("attribute", attr, "attribute", alternatives)
