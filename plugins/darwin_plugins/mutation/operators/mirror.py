"""``mirror``: a neighbour comparison given its other side, the missing-condition class of
scans over neighbours (a peak greater than both neighbours, a run's two ends).

An ``if``/``while`` test with a comparison reading ``s[i - k]`` (or ``s[i + k]``), ``i`` a name and
``k`` an integer literal, gets ``and`` the same comparison with every such index mirrored:
``if xs[i] > xs[i - 1]:`` to ``if xs[i] > xs[i - 1] and xs[i] > xs[i + 1]:``. A test that already
makes the mirrored comparison gets nothing. The condition-synthesis repairs of Nopol and ACS,
with the ingredient built from the test itself instead of searched for.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from .conditions import _atoms, _join, _operands
from .tables import source_of

SIGNS = {cst.Add: cst.Subtract, cst.Subtract: cst.Add}


def _offset(index: cst.BaseExpression) -> bool:
    """``i - k`` / ``i + k``: a name and an integer literal."""
    return (isinstance(index, cst.BinaryOperation) and type(index.operator) in SIGNS
            and isinstance(index.left, cst.Name) and isinstance(index.right, cst.Integer))


class _Mirror(cst.CSTTransformer):
    def __init__(self) -> None:
        super().__init__()
        self.flipped = 0

    def leave_SubscriptElement(self, original: cst.SubscriptElement, updated: cst.SubscriptElement) -> cst.SubscriptElement:
        index = updated.slice
        if isinstance(index, cst.Index) and _offset(index.value):
            value = index.value
            self.flipped += 1
            flipped = value.with_changes(operator=SIGNS[type(value.operator)]())  # type: ignore[union-attr]
            return updated.with_changes(slice=index.with_changes(value=flipped))
        return updated


def mirrored(comparison: cst.Comparison) -> cst.Comparison | None:
    """``comparison`` with each ``s[i -/+ k]`` index mirrored; None if it has none."""
    mirror = _Mirror()
    out = comparison.visit(mirror)
    return out if mirror.flipped and isinstance(out, cst.Comparison) else None  # type: ignore[return-value]


class MirrorSites:
    """Mixin of :class:`~.collector.SiteCollector` (reads :class:`~.conditions.ConditionSites`'
    tests, found when the module is left)."""

    _add: Any
    joinable: list[tuple[cst.BaseExpression, bool, Any]]

    def _finish_mirror(self) -> None:
        for test, _, _ in self.joinable:
            here = _atoms(test)
            alternatives = []
            for operand in _operands(test):
                if not isinstance(operand, cst.Comparison) or len(operand.comparisons) != 1:
                    continue
                other = mirrored(operand.with_changes(lpar=[], rpar=[]))
                if other is None or source_of(other) in here:
                    continue
                alternatives.append((f"and {source_of(other)}", _join(cst.And, other, False)))
            self._add("mirror", test, "mirror-condition", alternatives)
