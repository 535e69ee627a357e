"""Shapes of expressions: the variables an expression reads and its skeleton (its code with every
variable made ``_``), shared by the ``copy_paste``, ``name_swap`` and ``systematic`` families.

:class:`Shapes` answers both for every node of one module from a single code generation of it
(each node's span of tokens recorded), instead of a libcst transform per node.
"""

from __future__ import annotations

import bisect
from typing import Any

import libcst as cst
from libcst._nodes.internal import CodegenState

from .tables import source_of

KEPT = {"True", "False", "None", "self", "cls"}
"""Names never taken for variables."""


def _fixed_names(node: cst.CSTNode) -> set[int]:
    """``id`` of the names in ``node`` that are not variables read: a call's function, an
    attribute's name, a keyword."""
    fixed: set[int] = set()

    class _V(cst.CSTVisitor):
        def visit_Call(self, n: cst.Call) -> None:
            if isinstance(n.func, cst.Name):
                fixed.add(id(n.func))

        def visit_Attribute(self, n: cst.Attribute) -> None:
            fixed.add(id(n.attr))

        def visit_Arg(self, n: cst.Arg) -> None:
            if n.keyword is not None:
                fixed.add(id(n.keyword))
    node.visit(_V())
    return fixed


def variables(node: cst.CSTNode) -> list[cst.Name]:
    """The variable names ``node`` reads, in source order (not called names, attributes, keywords)."""
    fixed = _fixed_names(node)
    found: list[cst.Name] = []

    class _V(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            if id(n) not in fixed and n.value not in KEPT:
                found.append(n)
    node.visit(_V())
    return found


def skeleton(node: cst.CSTNode) -> str:
    """``node``'s code with every variable name made ``_`` and no whitespace: equal for two
    expressions of one shape (``0 <= nr < rows`` and ``0<=nc<cols``: ``0<=_<_``)."""
    targets = {id(n) for n in variables(node)}

    class _T(cst.CSTTransformer):
        def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
            return updated.with_changes(value="_") if id(original) in targets else updated
    return "".join(source_of(node.visit(_T())).split())


class CodeSpans(CodegenState):
    """Code generation that records each node's span of tokens, each expression's indentation and
    each name's own token (one per parse: :class:`Shapes` and :class:`~.splice.Splicer` read it)."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.spans: dict[int, tuple[int, int]] = {}
        self.names: list[tuple[int, cst.Name]] = []  # (token index, name), in source order
        self.fixed: set[int] = set()  # as :func:`_fixed_names` of the module
        self.indents: dict[int, tuple[str, ...]] = {}  # an expression's indentation where it stands
        self._open: list[int] = []

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._open.append(len(self.tokens))
        if isinstance(node, cst.BaseExpression):  # a multi-line expression's lines take the indentation
            self.indents[id(node)] = tuple(self.indent_tokens)

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._open.pop()
        self.spans[id(node)] = (start, len(self.tokens))
        if isinstance(node, cst.Name):  # its parentheses, then its value
            self.names.append((self.tokens.index(node.value, start), node))
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            self.fixed.add(id(node.func))
        elif isinstance(node, cst.Attribute):
            self.fixed.add(id(node.attr))
        elif isinstance(node, cst.Arg) and node.keyword is not None:
            self.fixed.add(id(node.keyword))


class Shapes:
    """:func:`skeleton` and :func:`variables` of the nodes of one module, each computed once, from
    one code generation of the module (a node from elsewhere falls back to the functions)."""

    def __init__(self, module: cst.Module | None = None) -> None:
        self._module = module
        self._spans: CodeSpans | None = None
        self._at: list[int] = []
        self._skeletons: dict[int, str] = {}
        self._variables: dict[int, list[cst.Name]] = {}
        self._alive: list[cst.CSTNode] = []  # keeps every cached node alive, so no id is reused

    def generated(self) -> CodeSpans | None:
        """The module's code generation with its spans (made once, on first use)."""
        if self._spans is None and self._module is not None:
            self._spans = CodeSpans(self._module)
            self._module._codegen(self._spans)
            self._spans.names.sort(key=lambda pair: pair[0])
            self._at = [i for i, _ in self._spans.names]
        return self._spans

    def _own_variables(self, node: cst.CSTNode, spans: CodeSpans) -> list[tuple[int, cst.Name]]:
        start, end = spans.spans[id(node)]
        if isinstance(node, cst.Name):  # a lone name is fixed only by a parent outside it
            return [(spans.tokens.index(node.value, start), node)] if node.value not in KEPT else []
        return [(i, n) for i, n in spans.names[bisect.bisect_left(self._at, start):bisect.bisect_left(self._at, end)]
                if id(n) not in spans.fixed and n.value not in KEPT]

    def _memo(self, cache: dict[int, Any], node: cst.CSTNode, from_spans: Any, alone: Any) -> Any:
        """``cache[id(node)]``, computed once: from the module's spans, or ``alone(node)`` for a
        node from elsewhere."""
        if id(node) not in cache:
            self._alive.append(node)
            spans = self.generated()
            known = spans is not None and id(node) in spans.spans
            cache[id(node)] = from_spans(node, spans) if known else alone(node)
        return cache[id(node)]

    def skeleton(self, node: cst.CSTNode) -> str:
        def from_spans(node: cst.CSTNode, spans: CodeSpans) -> str:
            start, end = spans.spans[id(node)]
            tokens = spans.tokens[start:end]
            for i, _ in self._own_variables(node, spans):
                tokens[i - start] = "_"
            return "".join("".join(tokens).split())
        return self._memo(self._skeletons, node, from_spans, skeleton)  # type: ignore[no-any-return]

    def variables(self, node: cst.CSTNode) -> list[cst.Name]:
        return self._memo(self._variables, node,  # type: ignore[no-any-return]
                          lambda n, spans: [v for _, v in self._own_variables(n, spans)], variables)


def shapes_of(collector: Any) -> Shapes:
    """The collector's :class:`Shapes` (one per parse, shared by the parallel and systematic
    families); ``collector.module`` is the module being parsed, where set."""
    if not hasattr(collector, "_shapes"):
        collector._shapes = Shapes(getattr(collector, "module", None))
    return collector._shapes  # type: ignore[no-any-return]
