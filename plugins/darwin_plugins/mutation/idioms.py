"""Prior overrides for edits unlike a programmer's slip: step and scale constants moved by one,
updates made degenerate.

A literal that is a *step* (the operand of an augmented update, ``hi -= 1``, ``i += 2``) or a
*scale* (an operand of ``*``, ``/``, ``//``, ``**``, ``<<``, ``>>``: ``i // 2``, ``n * 60``) is not
a boundary: moving it by one (``i // 3``, ``hi -= 2``) changes the algorithm's stride, not an
off-by-one (a modulus is a size, ``% 25`` for ``% 26`` is a fencepost error, so ``%`` is not
among them), so the near-miss prior of an integer moved by one (:mod:`.priors`, from studies of
one-line fixes whose numeric changes are boundaries) does not carry to it. On the repair suite
such edits pass weak tests without fixing them (``heap_push``: ``i // 2`` -> ``i // 3``,
``closest_pair_sum``: ``hi -= 1`` -> ``hi -= 2``; docs/search.md). Their alternatives get
:data:`STRIDE` instead.

An edit that makes an update or an operation an identity or a constant on numbers
(``size -= 0``, ``size *= 1``, ``size //= 1``, ``size **= 1``, ``hi %= 1``, ``x * 1``, ``x + 0``) is
a statement or operand deletion in disguise: an *equivalent mutant* of a deletion the neighbourhood
already holds (mutation testing's redundant mutants), and a repair anti-pattern (Tan et al., FSE
2016). Each gets :data:`DEGENERATE`, so it comes after the deletion it duplicates.

A third rule, comparisons changed between equality and ordering given 0.1, was measured and
dropped: it repaired one seen program (``is_anagram``) but moved the quickstart's genuine
``n % 5 == 1`` -> ``n % 5 < 1`` behind a test-gaming negation on 3 of 6 seeds (docs/search.md).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

STRIDE = 0.5
"""Prior of an alternative of a step or scale literal (an integer moved by one elsewhere: 3)."""
DEGENERATE = 0.05
"""Prior of an edit making an update or an operation an identity or a constant."""

_SCALE = (cst.Multiply, cst.Divide, cst.FloorDivide, cst.Power, cst.LeftShift, cst.RightShift)
_AUG_OF = {cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract, cst.MultiplyAssign: cst.Multiply,
           cst.DivideAssign: cst.Divide, cst.FloorDivideAssign: cst.FloorDivide, cst.ModuloAssign: cst.Modulo,
           cst.PowerAssign: cst.Power, cst.BitAndAssign: cst.BitAnd, cst.BitOrAssign: cst.BitOr,
           cst.BitXorAssign: cst.BitXor, cst.LeftShiftAssign: cst.LeftShift, cst.RightShiftAssign: cst.RightShift}
_IDENTITY = {1: (cst.Multiply, cst.Divide, cst.FloorDivide, cst.Power),
             0: (cst.Add, cst.Subtract, cst.BitOr, cst.BitXor, cst.LeftShift, cst.RightShift)}
"""``x op v`` is ``x`` (on numbers) for these operators of a right operand ``v``."""
_CONSTANT = {1: (cst.Modulo,), 0: (cst.Multiply, cst.BitAnd)}
"""``x op v`` is a constant for these."""


def _int(node: cst.CSTNode | None) -> int | None:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = _int(node.expression)
        return None if inner is None else -inner
    if isinstance(node, cst.Integer):
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError:
            return None
    return None


def degenerate(op: type, right: cst.CSTNode | None) -> bool:
    """Whether ``x op right`` is ``x`` or a constant for every number ``x``."""
    value = _int(right)
    if value is None:
        return False
    return op in _IDENTITY.get(value, ()) or op in _CONSTANT.get(value, ())


class _Roles(cst.CSTVisitor):
    """Integer literals that are steps or scales, and their operator (``id(literal) -> op``)."""

    def __init__(self) -> None:
        super().__init__()
        self.roles: dict[int, type] = {}

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        op = _AUG_OF.get(type(node.operator))
        if op is not None and isinstance(node.value, cst.Integer):
            self.roles[id(node.value)] = op

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        op = type(node.operator)
        if op in _SCALE:
            for side in (node.left, node.right):
                if isinstance(side, cst.Integer):
                    self.roles.setdefault(id(side), op)


def overrides(module: cst.Module, sites: list[Any]) -> dict[tuple[int, int], float]:
    """``{(index in sites, alternative): prior}`` for the edits above (none for the others)."""
    roles = _Roles()
    module.visit(roles)
    out: dict[tuple[int, int], float] = {}
    for i, site in enumerate(sites):
        if site.family == "constant" and id(site.node) in roles.roles:
            op = roles.roles[id(site.node)]
            for alt, (desc, _) in enumerate(site.alternatives):
                new = _number(desc.partition(" -> ")[2])
                out[(i, alt)] = DEGENERATE if new is not None and degenerate(op, _literal(new)) else STRIDE
        elif site.family in ("augmented", "arithmetic") and isinstance(site.node, (cst.AugAssign, cst.BinaryOperation)):
            right = site.node.value if isinstance(site.node, cst.AugAssign) else site.node.right
            for alt, (desc, _) in enumerate(site.alternatives):
                new_op = _operator(desc.partition(" -> ")[2], site.family == "augmented")
                if new_op is not None and degenerate(new_op, right):
                    out[(i, alt)] = DEGENERATE
    return out


def _number(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _literal(value: int) -> cst.BaseExpression:
    node: cst.BaseExpression = cst.Integer(str(abs(value)))
    return cst.UnaryOperation(operator=cst.Minus(), expression=node) if value < 0 else node


def _operator(symbol: str, augmented: bool) -> type | None:
    from .operators.tables import SYMBOL

    for op, text in SYMBOL.items():
        if text == symbol:
            return _AUG_OF.get(op) if augmented else op
    return None
