"""A mutant's code without a libcst transform: the module's code generated once with each
node's span of tokens recorded (:class:`~.shapes.CodeSpans`), and an edited expression's new code
spliced into its span (the parse's one code generation, shared with :class:`~.shapes.Shapes`). Used by :func:`~.collector.apply_edits` for edits that replace
expressions by expressions on disjoint nodes (most of a neighbourhood); anything else is
transformed as before (tests check the two agree on every edit of the repair suite)."""

from __future__ import annotations

from typing import Any

import libcst as cst

from libcst._nodes.internal import CodegenState

from .shapes import CodeSpans


class Splicer:
    """Spans of one parsed module's nodes; :meth:`code` returns None where it cannot splice."""

    def __init__(self, module: cst.Module, spans: CodeSpans) -> None:
        self.module = module
        self.tokens = spans.tokens
        self.spans = spans.spans
        self.indents = spans.indents

    def _code_at(self, node: cst.CSTNode, new: cst.CSTNode) -> str:
        """``new``'s code where ``node`` stands (its lines indented as ``node``'s)."""
        state = CodegenState(default_indent=self.module.default_indent, default_newline=self.module.default_newline,
                             indent_tokens=list(self.indents.get(id(node), ())))
        new._codegen(state)
        return "".join(state.tokens)

    def code(self, edits: list[tuple[cst.CSTNode, Any]]) -> str | None:
        """The module's code with each ``(node, make)`` applied, or None (a node without a span,
        nested or repeated nodes, a replacement that is not an expression)."""
        placed: list[tuple[int, int, str]] = []
        for node, make in edits:
            span = self.spans.get(id(node))
            if span is None or not isinstance(node, cst.BaseExpression):
                return None
            new = make(node)
            if not isinstance(new, cst.BaseExpression):
                return None
            placed.append((span[0], span[1], self._code_at(node, new)))
        placed.sort()
        for (_, end, _), (start, _, _) in zip(placed, placed[1:]):
            if start < end:  # nested or overlapping: the transform composes them
                return None
        out: list[str] = []
        at = 0
        for start, end, text in placed:
            out += self.tokens[at:start]
            out.append(text)
            at = end
        out += self.tokens[at:]
        return "".join(out)
