"""Collect every mutation site of a module, and apply chosen edits (formatting kept)."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .assignments import AssignmentSites
from .conditions import ConditionSites
from .crossed import CrossedSites
from .expressions import ExpressionSites
from .library import LibrarySites
from .lookups import LookupSites
from .mirror import MirrorSites
from .names import NameSites
from .parallel import ParallelSites
from .shapes import Shapes, shapes_of
from .splice import Splicer
from .stale import StaleSites
from .statements import StatementSites
from .subexpr import SubexprSites
from .systematic import SystematicSites
from .tables import Make, Replacement
from .templates import TemplateSites
from .transplant import TransplantSites
from .updates import UpdateSites
from .wraps import WrapSites


@dataclass
class Site:
    """One place operators act on: ``node`` may become any of ``alternatives``."""

    family: str
    line: int
    end_line: int
    node: cst.CSTNode
    label: str
    alternatives: list[tuple[str, Make]]
    """``(description, build)``: ``build(updated node)`` returns the replacement."""
    priors: dict[int, float] = field(default_factory=dict)
    """Prior multipliers the operator knows from the context (alternative index -> multiplier),
    in place of :func:`~darwin_plugins.mutation.priors.multiplier`'s."""


class SiteCollector(ExpressionSites, NameSites, StatementSites, UpdateSites, TemplateSites, ConditionSites,
                    LibrarySites, WrapSites, LookupSites, TransplantSites, SubexprSites, AssignmentSites,
                    ParallelSites, SystematicSites, MirrorSites, CrossedSites, StaleSites,
                    cst.CSTVisitor):
    """Finds every site of a module (expression, name, statement, update, template, condition,
    library, wrap, lookup, transplant, sub-expression, assignment, parallel-code and systematic
    families)."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        super().__init__()
        self.sites: list[Site] = []
        self.functions: list[cst.FunctionDef] = []  # every function of the module, in source order
        self._twins: dict[int, int] = {}
        self._init_names()
        self._init_statements()
        self._init_updates()
        self._init_templates()
        self._init_conditions()
        self._init_library()
        self._init_wraps()
        self._init_subexpr()
        self._init_assignments()
        self._init_crossed()

    def _add(self, family: str, node: cst.CSTNode, label: str, alternatives: list[tuple[str, Make]],
             priors: dict[int, float] | None = None) -> None:
        if alternatives:
            pos = self.get_metadata(PositionProvider, node)
            self.sites.append(Site(family, pos.start.line, pos.end.line, node, label, alternatives, dict(priors or {})))

    # hooks shared by several mixins
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)
        NameSites.visit_FunctionDef(self, node)
        AssignmentSites.note_assignment_function(self, node)

    def visit_Call(self, node: cst.Call) -> None:
        NameSites.visit_Call(self, node)
        ExpressionSites.visit_Call(self, node)
        UpdateSites.note_call(self, node)
        TemplateSites.note_template_call(self, node)
        ConditionSites.note_condition_call(self, node)
        LibrarySites.note_library_call(self, node)
        WrapSites.note_wrap_call(self, node)
        SubexprSites.note_subexpr_call(self, node)
        AssignmentSites.note_conversion_call(self, node)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        ExpressionSites.visit_Comparison(self, node)
        TemplateSites.note_template_comparison(self, node)
        ConditionSites.note_condition_comparison(self, node)
        LibrarySites.note_library_comparison(self, node)

    def visit_Assign(self, node: cst.Assign) -> None:
        ExpressionSites.visit_Assign(self, node)
        UpdateSites.note_assign(self, node)
        TemplateSites.note_template_assign(self, node)
        LibrarySites.note_library_assign(self, node)
        AssignmentSites.note_assignment(self, node)
        for target in node.targets:
            NameSites.note_integer(self, target.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        ExpressionSites.visit_AugAssign(self, node)
        TemplateSites.note_template_augassign(self, node)
        AssignmentSites.note_assignment_binding(self, node.target)
        NameSites.note_integer(self, node.target, node.value)

    def visit_For(self, node: cst.For) -> None:
        SubexprSites.note_subexpr_context(self, node)
        StatementSites.visit_For(self, node)
        UpdateSites.note_nesting(self, "loop")
        TemplateSites.note_template_for(self, node)
        ConditionSites.note_condition_for(self, node)
        LibrarySites.note_library_loop(self, node.target, node.iter)
        WrapSites.note_wrap_iterable(self, node.iter)
        AssignmentSites.note_assignment_for(self, node)
        it = node.iter
        if isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "range":
            NameSites.note_integer(self, node.target, None)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        NameSites.note_subscript(self, node)
        ExpressionSites.visit_Subscript(self, node)
        LibrarySites.note_library_subscript(self, node)
        WrapSites.note_wrap_subscript(self, node)
        SubexprSites.note_subexpr_subscript(self, node)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        LibrarySites.note_library_loop(self, node.target, node.iter)
        WrapSites.note_wrap_iterable(self, node.iter)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        LibrarySites.note_library_value(self, node.elt)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        LibrarySites.note_library_value(self, node.elt)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        LibrarySites.note_library_value(self, node.elt)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        ExpressionSites.visit_BinaryOperation(self, node)
        WrapSites.note_wrap_binary(self, node)

    def visit_If(self, node: cst.If) -> None:
        SubexprSites.note_subexpr_context(self, node)
        ExpressionSites.visit_If(self, node)
        StatementSites.visit_If(self, node)
        UpdateSites.note_if(self, node)
        ConditionSites.note_condition(self, node.test, "if")
        WrapSites.note_wrap_if(self, node)
        AssignmentSites.note_length_check(self, node.test)

    def visit_While(self, node: cst.While) -> None:
        SubexprSites.note_subexpr_context(self, node)
        ExpressionSites.visit_While(self, node)
        StatementSites.visit_While(self, node)
        UpdateSites.note_nesting(self, "loop")
        ConditionSites.note_condition(self, node.test, "while")
        AssignmentSites.note_length_check(self, node.test)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        ExpressionSites.visit_IfExp(self, node)
        ConditionSites.note_condition(self, node.test, "ifexp")

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        SubexprSites.note_subexpr_context(self, node)
        StatementSites.visit_SimpleStatementLine(self, node)
        UpdateSites.note_statement(self, node)

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        ExpressionSites.visit_BooleanOperation(self, node)
        CrossedSites.note_crossed_chain(self, node)

    def visit_Return(self, node: cst.Return) -> None:
        ExpressionSites.visit_Return(self, node)
        StatementSites.visit_Return(self, node)
        LibrarySites.note_library_value(self, node.value)

    def leave_Module(self, original_node: cst.Module) -> None:
        self.module = original_node  # for the shapes of its nodes (operators/shapes.py)
        self._finish_names()
        self._finish_statements()
        self._finish_updates()
        self._finish_templates()
        self._finish_conditions()
        self._finish_library()
        self._finish_wraps()
        self._finish_lookups()
        self._finish_transplant(original_node)
        self._finish_subexpr()
        self._finish_assignments()
        self._finish_parallel()
        self._finish_systematic(lambda n: self.get_metadata(PositionProvider, n))
        self._finish_mirror()
        self._finish_crossed()
        self._finish_stale()


class _Replace(cst.CSTTransformer):
    def __init__(self, targets: dict[int, Make]) -> None:
        super().__init__()
        self.targets = targets

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Replacement:  # type: ignore[override]
        make = self.targets.pop(id(original_node), None)
        return make(updated_node) if make is not None else updated_node


@dataclass
class ParsedModule:
    module: cst.Module
    sites: list[Site]
    statement_of: dict[int, int]
    """``id(site.node)`` -> index of the top-level statement holding it."""
    chunks: list[str] | None = None
    """The source split as [header, statement 0, ..., statement n-1, footer], when that split
    reproduces it exactly: a mutant then regenerates only the edited statements' code."""
    shapes: Shapes | None = None
    """The parse's shapes: their code generation is the splicer's too."""
    splicer: Splicer | None = None
    """Made on the first edit: expression edits spliced into the module's tokens (:mod:`.splice`)."""


def parse_module(source: str) -> ParsedModule:
    wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
    collector = SiteCollector()
    wrapper.visit(collector)
    positions = wrapper.resolve(PositionProvider)
    spans = [(positions[stmt].start.line, positions[stmt].end.line) for stmt in wrapper.module.body]
    statement_of: dict[int, int] = {}
    for site in collector.sites:
        for index, (first, last) in enumerate(spans):
            if first <= site.line <= last:
                statement_of[id(site.node)] = index
                break
    module = wrapper.module
    chunks = [module.code_for_node(stmt) for stmt in module.body]
    start = source.find(chunks[0]) if chunks else -1
    split: list[str] | None = None
    if start >= 0:
        end = start + sum(len(c) for c in chunks)
        if source[start:end] == "".join(chunks):
            split = [source[:start], *chunks, source[end:]]
    return ParsedModule(module, collector.sites, statement_of, split, shapes_of(collector))


def _code(module: cst.Module, replaced: Replacement) -> str:
    if isinstance(replaced, cst.FlattenSentinel):
        return "".join(module.code_for_node(n) for n in replaced.nodes)
    if isinstance(replaced, cst.RemovalSentinel):
        return ""
    return module.code_for_node(replaced)


def splicer_of(parsed: ParsedModule) -> Splicer:
    """The parse's :class:`~.splice.Splicer`, made on first use."""
    if parsed.splicer is None:
        spans = (parsed.shapes or Shapes(parsed.module)).generated()
        assert spans is not None
        parsed.splicer = Splicer(parsed.module, spans)
    return parsed.splicer


def apply_edits(parsed: ParsedModule, edits: list[tuple[Site, int]]) -> str:
    """The module's source with each ``(site, alternative index)`` applied (sites on distinct
    nodes); expression edits are spliced into the module's code (:mod:`.splice`), otherwise only
    the top-level statements holding them are transformed (libcst transforms are the expensive
    part)."""
    if parsed.chunks is not None:
        spliced = splicer_of(parsed).code([(site.node, site.alternatives[alt][1]) for site, alt in edits])
        if spliced is not None:
            return spliced
    by_statement: dict[int | None, dict[int, Make]] = {}
    for site, alt in edits:
        index = parsed.statement_of.get(id(site.node))
        by_statement.setdefault(index, {})[id(site.node)] = site.alternatives[alt][1]
    if None in by_statement or parsed.chunks is None:
        targets = {k: v for group in by_statement.values() for k, v in group.items()}
        return parsed.module.visit(_Replace(targets)).code
    chunks = list(parsed.chunks)
    for index, targets in by_statement.items():
        assert index is not None
        chunks[index + 1] = _code(parsed.module, parsed.module.body[index].visit(_Replace(dict(targets))))
    return "".join(chunks)
