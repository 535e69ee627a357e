"""Mutation operators over libcst trees (formatting is kept: libcst round-trips source exactly).

Families, after mutmut, cosmic-ray, Magpie and GenProg:

* ``comparison``: ``<`` / ``<=`` / ``>`` / ``>=`` / ``==`` / ``!=`` / ``is`` / ``in`` swapped;
* ``arithmetic``: ``+ - * / // %`` (also augmented assignments) swapped;
* ``boolean``: ``and`` / ``or``, ``not e`` to ``e``, ``True`` / ``False``;
* ``constant``: integers and floats nudged (``n + 1``, ``n - 1``, ``0``, ``1``, ``x * 2``...);
* ``off_by_one``: ``e`` to ``(e + 1)`` or ``(e - 1)`` for names, calls and subscripts in
  arithmetic, comparisons, indices and arguments;
* ``swap``: operands of a binary operation or comparison, or two call arguments, swapped;
* ``name``: a name or attribute replaced by another one already used in the same file;
* ``return``: ``return e`` to ``return None`` or to another value returned in the same file;
* ``delete``: a statement replaced by ``pass``;
* ``insert``: a statement copied from elsewhere in the file inserted, or two adjacent
  statements swapped.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Union

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

Replacement = Union[cst.CSTNode, cst.FlattenSentinel, cst.RemovalSentinel]

_CMP_SWAPS: dict[type, list[type]] = {
    cst.LessThan: [cst.LessThanEqual, cst.GreaterThanEqual, cst.GreaterThan],
    cst.LessThanEqual: [cst.LessThan, cst.GreaterThan],
    cst.GreaterThan: [cst.GreaterThanEqual, cst.LessThanEqual, cst.LessThan],
    cst.GreaterThanEqual: [cst.GreaterThan, cst.LessThan],
    cst.Equal: [cst.NotEqual],
    cst.NotEqual: [cst.Equal],
    cst.Is: [cst.IsNot],
    cst.IsNot: [cst.Is],
    cst.In: [cst.NotIn],
    cst.NotIn: [cst.In],
}
_BIN_SWAPS: dict[type, list[type]] = {
    cst.Add: [cst.Subtract, cst.Multiply],
    cst.Subtract: [cst.Add],
    cst.Multiply: [cst.Divide, cst.Add, cst.Power],
    cst.Divide: [cst.Multiply, cst.FloorDivide],
    cst.FloorDivide: [cst.Divide, cst.Modulo],
    cst.Modulo: [cst.FloorDivide],
    cst.Power: [cst.Multiply],
}
_AUG_SWAPS: dict[type, list[type]] = {
    cst.AddAssign: [cst.SubtractAssign, cst.MultiplyAssign],
    cst.SubtractAssign: [cst.AddAssign],
    cst.MultiplyAssign: [cst.DivideAssign, cst.AddAssign],
    cst.DivideAssign: [cst.MultiplyAssign, cst.FloorDivideAssign],
    cst.FloorDivideAssign: [cst.DivideAssign],
}

FAMILIES = (
    "comparison", "arithmetic", "boolean", "constant", "off_by_one",
    "swap", "name", "return", "delete", "insert",
)


@dataclass
class Site:
    """One place an operator can act: replace ``node`` by ``make(updated_node, rng)``."""

    family: str
    line: int
    node: cst.CSTNode
    make: Callable[[cst.CSTNode, random.Random], Replacement]
    label: str


def _with_op(node: cst.CSTNode, op_type: type) -> cst.CSTNode:
    old = node.operator  # type: ignore[attr-defined]
    kwargs = {}
    for attr in ("whitespace_before", "whitespace_after"):
        if hasattr(old, attr) and attr in op_type.__dataclass_fields__:  # type: ignore[attr-defined]
            kwargs[attr] = getattr(old, attr)
    if isinstance(old, (cst.NotIn, cst.IsNot)) or op_type in (cst.NotIn, cst.IsNot):
        kwargs = {k: v for k, v in kwargs.items() if k in op_type.__dataclass_fields__}  # type: ignore[attr-defined]
    return node.with_changes(operator=op_type(**kwargs))


def _paren(expr: cst.BaseExpression) -> cst.BaseExpression:
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _nudge(expr: cst.BaseExpression, delta: int) -> cst.BaseExpression:
    op = cst.Add() if delta > 0 else cst.Subtract()
    inner = expr.with_changes(lpar=[], rpar=[]) if getattr(expr, "lpar", None) else expr
    return _paren(cst.BinaryOperation(left=inner, operator=op, right=cst.Integer(str(abs(delta)))))


class SiteCollector(cst.CSTVisitor):
    """Finds every mutation site of a module."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        super().__init__()
        self.sites: list[Site] = []
        self.names: set[str] = set()
        self.attributes: set[str] = set()
        self.return_values: list[cst.BaseExpression] = []
        self.statements: list[cst.SimpleStatementLine] = []
        self._defs: set[str] = set()
        self._in_annotation = 0
        self._skip_names: set[int] = set()

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def _add(self, family: str, node: cst.CSTNode, make: Callable[[cst.CSTNode, random.Random], Replacement], label: str) -> None:
        self.sites.append(Site(family, self._line(node), node, make, label))

    # names that must not be replaced: definitions, imports, keywords, attribute names
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._defs.add(node.name.value)
        self._skip_names.add(id(node.name))
        for param in node.params.params:
            self._skip_names.add(id(param.name))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._skip_names.add(id(node.name))

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._skip_names.add(id(node.keyword))

    def visit_Annotation(self, node: cst.Annotation) -> bool:
        return False

    def visit_Decorator(self, node: cst.Decorator) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._skip_names.add(id(node.attr))
        self.attributes.add(node.attr.value)
        self._add("name", node, lambda n, rng: self._other_attr(n, rng), "attribute")

    def _other_attr(self, node: cst.CSTNode, rng: random.Random) -> cst.CSTNode:
        assert isinstance(node, cst.Attribute)
        choices = sorted(self.attributes - {node.attr.value})
        return node.with_changes(attr=cst.Name(rng.choice(choices))) if choices else node

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) in self._skip_names or node.value in ("True", "False", "None", "self", "cls"):
            if node.value in ("True", "False"):
                self._add("boolean", node, lambda n, rng: cst.Name("False" if n.value == "True" else "True"), "bool-literal")  # type: ignore[attr-defined]
            return
        self.names.add(node.value)
        self._add("name", node, lambda n, rng: self._other_name(n, rng), "name")

    def _other_name(self, node: cst.CSTNode, rng: random.Random) -> cst.CSTNode:
        assert isinstance(node, cst.Name)
        choices = sorted(self.names - {node.value} - self._defs)
        return node.with_changes(value=rng.choice(choices)) if choices else node

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for i, target in enumerate(node.comparisons):
            swaps = _CMP_SWAPS.get(type(target.operator))
            if swaps:
                def make(n: cst.CSTNode, rng: random.Random, i: int = i, swaps: list[type] = swaps) -> cst.CSTNode:
                    comps = list(n.comparisons)  # type: ignore[attr-defined]
                    comps[i] = _with_op(comps[i], rng.choice(swaps))
                    return n.with_changes(comparisons=comps)
                self._add("comparison", node, make, "comparison")
        if len(node.comparisons) == 1:
            def swap(n: cst.CSTNode, rng: random.Random) -> cst.CSTNode:
                comp = n.comparisons[0]  # type: ignore[attr-defined]
                return n.with_changes(left=comp.comparator, comparisons=[comp.with_changes(comparator=n.left)])  # type: ignore[attr-defined]
            self._add("swap", node, swap, "comparison-operands")
            for side in ("left", "right"):
                self._add("off_by_one", node, self._cmp_nudge(side), f"comparison-{side}")

    def _cmp_nudge(self, side: str) -> Callable[[cst.CSTNode, random.Random], cst.CSTNode]:
        def make(n: cst.CSTNode, rng: random.Random) -> cst.CSTNode:
            delta = rng.choice((1, -1))
            if side == "left":
                return n.with_changes(left=_nudge(n.left, delta))  # type: ignore[attr-defined]
            comp = n.comparisons[0]  # type: ignore[attr-defined]
            return n.with_changes(comparisons=[comp.with_changes(comparator=_nudge(comp.comparator, delta))])
        return make

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        swaps = _BIN_SWAPS.get(type(node.operator))
        if swaps:
            self._add("arithmetic", node, lambda n, rng, s=swaps: _with_op(n, rng.choice(s)), "binary-operator")
        self._add("swap", node, lambda n, rng: n.with_changes(left=n.right, right=n.left), "binary-operands")  # type: ignore[attr-defined]
        for side in ("left", "right"):
            def make(n: cst.CSTNode, rng: random.Random, side: str = side) -> cst.CSTNode:
                return n.with_changes(**{side: _nudge(getattr(n, side), rng.choice((1, -1)))})
            self._add("off_by_one", node, make, f"binary-{side}")

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        swaps = _AUG_SWAPS.get(type(node.operator))
        if swaps:
            self._add("arithmetic", node, lambda n, rng, s=swaps: _with_op(n, rng.choice(s)), "augmented")

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        def make(n: cst.CSTNode, rng: random.Random) -> cst.CSTNode:
            new = cst.Or() if isinstance(n.operator, cst.And) else cst.And()  # type: ignore[attr-defined]
            old = n.operator  # type: ignore[attr-defined]
            return n.with_changes(operator=new.with_changes(whitespace_before=old.whitespace_before, whitespace_after=old.whitespace_after))
        self._add("boolean", node, make, "and-or")
        self._add("swap", node, lambda n, rng: n.with_changes(left=n.right, right=n.left), "boolean-operands")  # type: ignore[attr-defined]

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if isinstance(node.operator, cst.Not):
            self._add("boolean", node, lambda n, rng: n.expression, "drop-not")  # type: ignore[attr-defined]
        elif isinstance(node.operator, cst.Minus):
            self._add("arithmetic", node, lambda n, rng: n.expression, "drop-minus")  # type: ignore[attr-defined]

    def visit_If(self, node: cst.If) -> None:
        self._add("boolean", node.test, lambda n, rng: cst.UnaryOperation(operator=cst.Not(), expression=_paren(n)), "negate-condition")  # type: ignore[arg-type]

    def visit_Integer(self, node: cst.Integer) -> None:
        def make(n: cst.CSTNode, rng: random.Random) -> cst.CSTNode:
            value = int(n.value, 0)  # type: ignore[attr-defined]
            options = sorted({value + 1, value - 1, 0, 1, -1, 2 * value} - {value})
            new = rng.choice(options)
            return cst.Integer(str(new)) if new >= 0 else cst.UnaryOperation(operator=cst.Minus(), expression=cst.Integer(str(-new)))
        self._add("constant", node, make, "integer")

    def visit_Float(self, node: cst.Float) -> None:
        def make(n: cst.CSTNode, rng: random.Random) -> cst.CSTNode:
            value = float(n.value)  # type: ignore[attr-defined]
            new = rng.choice([value * 2, value / 2, value + 1, value - 1, 0.0, 1.0])
            return cst.Float(repr(abs(new))) if new >= 0 else cst.UnaryOperation(operator=cst.Minus(), expression=cst.Float(repr(-new)))
        self._add("constant", node, make, "float")

    def visit_Subscript(self, node: cst.Subscript) -> None:
        for i, element in enumerate(node.slice):
            if isinstance(element.slice, cst.Index):
                def make(n: cst.CSTNode, rng: random.Random, i: int = i) -> cst.CSTNode:
                    elements = list(n.slice)  # type: ignore[attr-defined]
                    index = elements[i].slice
                    elements[i] = elements[i].with_changes(slice=index.with_changes(value=_nudge(index.value, rng.choice((1, -1)))))
                    return n.with_changes(slice=elements)
                self._add("off_by_one", node, make, "index")

    def visit_Call(self, node: cst.Call) -> None:
        positional = [i for i, a in enumerate(node.args) if a.keyword is None and not a.star]
        if len(positional) >= 2:
            def swap(n: cst.CSTNode, rng: random.Random, pos: list[int] = positional) -> cst.CSTNode:
                i, j = rng.sample(pos, 2)
                args = list(n.args)  # type: ignore[attr-defined]
                args[i], args[j] = args[i].with_changes(value=args[j].value), args[j].with_changes(value=args[i].value)
                return n.with_changes(args=args)
            self._add("swap", node, swap, "call-arguments")
        for i in positional:
            def nudge(n: cst.CSTNode, rng: random.Random, i: int = i) -> cst.CSTNode:
                args = list(n.args)  # type: ignore[attr-defined]
                args[i] = args[i].with_changes(value=_nudge(args[i].value, rng.choice((1, -1))))
                return n.with_changes(args=args)
            self._add("off_by_one", node, nudge, "call-argument")

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.return_values.append(node.value)

            def make(n: cst.CSTNode, rng: random.Random) -> cst.CSTNode:
                others = [v for v in self.return_values if not v.deep_equals(n.value)]  # type: ignore[attr-defined]
                if others and rng.random() < 0.7:
                    return n.with_changes(value=rng.choice(others).deep_clone())
                return n.with_changes(value=cst.Name("None"))
            self._add("return", node, make, "return-value")

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if any(isinstance(s, (cst.Import, cst.ImportFrom)) for s in node.body):
            return
        self.statements.append(node)
        self._add("delete", node, lambda n, rng: n.with_changes(body=[cst.Pass()]), "statement")

        def insert(n: cst.CSTNode, rng: random.Random) -> Replacement:
            donor = rng.choice(self.statements).deep_clone()
            return cst.FlattenSentinel([donor, n])  # type: ignore[list-item]
        self._add("insert", node, insert, "copy-statement")

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        if len(node.body) >= 2:
            def swap(n: cst.CSTNode, rng: random.Random) -> cst.CSTNode:
                body = list(n.body)  # type: ignore[attr-defined]
                i = rng.randrange(len(body) - 1)
                body[i], body[i + 1] = body[i + 1], body[i]
                return n.with_changes(body=body)
            self._add("insert", node, swap, "swap-statements")


class _Replace(cst.CSTTransformer):
    def __init__(self, target: cst.CSTNode, replacement: Callable[[cst.CSTNode], Replacement]) -> None:
        super().__init__()
        self.target = target
        self.replacement = replacement
        self.done = False

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Replacement:  # type: ignore[override]
        if original_node is self.target and not self.done:
            self.done = True
            return self.replacement(updated_node)
        return updated_node


@dataclass
class ParsedModule:
    module: cst.Module
    sites: list[Site]
    statement_of: dict[int, int]
    """``id(site.node)`` -> index of the top-level statement holding it."""
    chunks: list[str] | None = None
    """The source split as [header, statement 0, ..., statement n-1, footer], when that split
    reproduces it exactly: a mutant then regenerates only one statement's code."""


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
    return ParsedModule(module, collector.sites, statement_of, split)


def apply_site(parsed: ParsedModule, site: Site, rng: random.Random) -> str:
    """The module's source with ``site`` mutated; only the enclosing top-level statement is
    transformed (libcst transforms are the expensive part)."""
    transformer = _Replace(site.node, lambda updated: site.make(updated, rng))
    index = parsed.statement_of.get(id(site.node))
    if index is None:
        return parsed.module.visit(transformer).code
    body = list(parsed.module.body)
    replaced = body[index].visit(transformer)
    if parsed.chunks is not None:
        if isinstance(replaced, cst.FlattenSentinel):
            code = "".join(parsed.module.code_for_node(n) for n in replaced.nodes)
        elif isinstance(replaced, cst.RemovalSentinel):
            code = ""
        else:
            code = parsed.module.code_for_node(replaced)
        chunks = list(parsed.chunks)
        chunks[index + 1] = code
        return "".join(chunks)
    if isinstance(replaced, cst.FlattenSentinel):
        body[index:index + 1] = list(replaced.nodes)
    elif isinstance(replaced, cst.RemovalSentinel):
        del body[index]
    else:
        body[index] = replaced
    return parsed.module.with_changes(body=body).code
