"""``bound_swap``: two sibling comparisons of an ``and``/``or`` chain with crossed operands.

``0 <= r < len(grid[0]) and 0 <= c < len(grid)`` checks each index against the other's bound;
the fix exchanges the two bounds: ``0 <= r < len(grid) and 0 <= c < len(grid[0])``. For two
comparisons of one chain with the same operators that differ in at least two operands, the last
differing operand is exchanged between them (exchanging the first instead gives the same test
with its operands reordered; where they differ in one operand only, the exchange is a reordering
and nothing is offered). A generalisation of the ``swap`` family's argument swap across two
sub-expressions (DeepBugs' swapped-arguments class).

A chain of one comparison over names (``a == b or b == c``) that pairs some of its names but not
all is offered each missing pair too (``or a == c``: the ``weaken`` family for ``or``, ``strengthen``
for ``and``): the case of three sides, three points or three ranges that one pairing forgot.
"""

from __future__ import annotations

import itertools
from typing import Any

import libcst as cst

from .parallel import MAX_SIBLINGS, _flatten, merged
from .tables import source_of

MAX_PAIRED = 4
"""Most names a chain may pair for its missing pairs to be offered."""


def _operands(c: cst.Comparison) -> list[cst.BaseExpression]:
    return [c.left, *(t.comparator for t in c.comparisons)]


def crossed_position(a: cst.BaseExpression, b: cst.BaseExpression) -> int | None:
    """The operand position to exchange between comparisons ``a`` and ``b``; None if none."""
    if not (isinstance(a, cst.Comparison) and isinstance(b, cst.Comparison)) or len(a.comparisons) != len(b.comparisons):
        return None
    if any(type(x.operator) is not type(y.operator) for x, y in zip(a.comparisons, b.comparisons)):
        return None
    differ = [k for k, (x, y) in enumerate(zip(_operands(a), _operands(b))) if source_of(x) != source_of(y)]
    return differ[-1] if len(differ) >= 2 else None


def _with_operand(c: cst.Comparison, k: int, value: cst.BaseExpression) -> cst.Comparison:
    if k == 0:
        return c.with_changes(left=value)
    targets = list(c.comparisons)
    targets[k - 1] = targets[k - 1].with_changes(comparator=value)
    return c.with_changes(comparisons=targets)


class _Put(cst.CSTTransformer):
    def __init__(self, replacements: dict[int, cst.CSTNode]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:  # type: ignore[override]
        return self.replacements.get(id(original_node), updated_node)


def _exchange(p: int, q: int, k: int) -> Any:
    def make(n: cst.CSTNode) -> cst.CSTNode:
        operands = _flatten(n)  # type: ignore[arg-type]
        a, b = operands[p], operands[q]
        if crossed_position(a, b) != k:  # another edit changed them: leave the chain as it is
            return n
        x, y = _operands(a)[k], _operands(b)[k]  # type: ignore[arg-type]
        return n.visit(_Put({id(a): _with_operand(a, k, y.deep_clone()),  # type: ignore[arg-type]
                             id(b): _with_operand(b, k, x.deep_clone())}))  # type: ignore[arg-type]
    return make


class CrossedSites:
    """Mixin of :class:`~.collector.SiteCollector`: ``bound_swap`` sites, one per ``and``/``or`` chain."""

    _add: Any

    def _init_crossed(self) -> None:
        self._chains: list[cst.BooleanOperation] = []
        self._inner_chains: set[int] = set()

    def note_crossed_chain(self, node: cst.BooleanOperation) -> None:
        """An ``and``/``or`` operation (the outermost of a chain is kept; sites come at the end)."""
        if id(node) not in self._inner_chains:
            self._chains.append(node)
            self._inner_chains.update(id(n) for n in _chain_nodes(node))

    def _finish_crossed(self) -> None:
        for node in self._chains:
            self._crossed_in(node)

    def _crossed_in(self, node: cst.BooleanOperation) -> None:
        operands = _flatten(node)
        if len(operands) > MAX_SIBLINGS:
            return
        alternatives = []
        for p, q in itertools.combinations(range(len(operands)), 2):
            k = crossed_position(operands[p], operands[q])
            if k is None:
                continue
            x = _operands(operands[p])[k]  # type: ignore[arg-type]
            y = _operands(operands[q])[k]  # type: ignore[arg-type]
            alternatives.append((f"{source_of(x)} <-> {source_of(y)}", _exchange(p, q, k)))
        self._add("bound_swap", node, "bound-swap", alternatives)
        self._complete_pairs(node, operands)

    def _complete_pairs(self, node: cst.BooleanOperation, operands: list[cst.BaseExpression]) -> None:
        """``or x OP y`` (``and``) for each pair of the chain's names that no comparison pairs."""
        pairs: set[frozenset[str]] = set()
        ops: set[type] = set()
        for c in operands:
            if not (isinstance(c, cst.Comparison) and len(c.comparisons) == 1
                    and isinstance(c.left, cst.Name) and isinstance(c.comparisons[0].comparator, cst.Name)):
                return
            pairs.add(frozenset((c.left.value, c.comparisons[0].comparator.value)))  # type: ignore[attr-defined]
            ops.add(type(c.comparisons[0].operator))
        names = sorted({n for p in pairs for n in p}, key=source_of(node).index)
        if len(ops) != 1 or not 3 <= len(names) <= MAX_PAIRED:
            return
        symbol = source_of(operands[0].comparisons[0].operator).strip()  # type: ignore[attr-defined]
        missing = [f"{x} {symbol} {y}" for x, y in itertools.combinations(names, 2) if frozenset((x, y)) not in pairs]
        either = isinstance(node.operator, cst.Or)
        self._add("weaken" if either else "strengthen", node, "pair-completed", [
            (f"`{'or' if either else 'and'} {m}` added",
             lambda n, m=m: cst.BooleanOperation(left=n, operator=n.operator, right=cst.parse_expression(m)))  # type: ignore[attr-defined]
            for m in missing])


def _chain_nodes(node: cst.BooleanOperation) -> list[cst.BooleanOperation]:
    """The nested operations :func:`~.parallel._flatten` merges into ``node``'s chain."""
    out = []
    for side in (node.left, node.right):
        if merged(side, node):
            out += [side, *_chain_nodes(side)]  # type: ignore[list-item, arg-type]
    return out
