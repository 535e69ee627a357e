"""Operator tables and small libcst builders shared by the site collectors."""

from __future__ import annotations

from typing import Callable, Union

import libcst as cst

Replacement = Union[cst.CSTNode, cst.FlattenSentinel, cst.RemovalSentinel]
Make = Callable[[cst.CSTNode], Replacement]
"""Builds an alternative from the (already updated) node at a site."""

# every operator of a kind to every other of the same kind (mutmut, cosmic-ray)
COMPARISON: tuple[type, ...] = (cst.LessThan, cst.LessThanEqual, cst.GreaterThan,
                                cst.GreaterThanEqual, cst.Equal, cst.NotEqual)
IDENTITY: tuple[type, ...] = (cst.Is, cst.IsNot)
MEMBERSHIP: tuple[type, ...] = (cst.In, cst.NotIn)
ARITHMETIC: tuple[type, ...] = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide,
                                cst.FloorDivide, cst.Modulo, cst.Power)
BITWISE: tuple[type, ...] = (cst.BitAnd, cst.BitOr, cst.BitXor, cst.LeftShift, cst.RightShift)
AUG_ARITHMETIC: tuple[type, ...] = (cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign,
                                    cst.DivideAssign, cst.FloorDivideAssign, cst.ModuloAssign,
                                    cst.PowerAssign)
AUG_BITWISE: tuple[type, ...] = (cst.BitAndAssign, cst.BitOrAssign, cst.BitXorAssign,
                                 cst.LeftShiftAssign, cst.RightShiftAssign)
SYMBOL: dict[type, str] = {
    cst.LessThan: "<", cst.LessThanEqual: "<=", cst.GreaterThan: ">", cst.GreaterThanEqual: ">=",
    cst.Equal: "==", cst.NotEqual: "!=", cst.Is: "is", cst.IsNot: "is not", cst.In: "in",
    cst.NotIn: "not in", cst.Add: "+", cst.Subtract: "-", cst.Multiply: "*", cst.Divide: "/",
    cst.FloorDivide: "//", cst.Modulo: "%", cst.Power: "**", cst.BitAnd: "&", cst.BitOr: "|",
    cst.BitXor: "^", cst.LeftShift: "<<", cst.RightShift: ">>", cst.AddAssign: "+=",
    cst.SubtractAssign: "-=", cst.MultiplyAssign: "*=", cst.DivideAssign: "/=",
    cst.FloorDivideAssign: "//=", cst.ModuloAssign: "%=", cst.PowerAssign: "**=",
    cst.BitAndAssign: "&=", cst.BitOrAssign: "|=", cst.BitXorAssign: "^=",
    cst.LeftShiftAssign: "<<=", cst.RightShiftAssign: ">>=",
}
BUILTIN_SWAPS: dict[str, tuple[str, ...]] = {
    "min": ("max",), "max": ("min",), "any": ("all",), "all": ("any",),
    "int": ("float", "round"), "float": ("int",), "round": ("int",),
    "sorted": ("reversed",), "reversed": ("sorted",), "list": ("tuple", "set"),
    "tuple": ("list",), "set": ("list",), "str": ("repr",), "repr": ("str",),
}
"""Builtins in scope that a name may become (``min`` <-> ``max``...), PraPR-style."""
METHOD_SWAPS: dict[str, tuple[str, ...]] = {
    "lower": ("upper", "casefold"), "upper": ("lower",), "casefold": ("lower",),
    "startswith": ("endswith",), "endswith": ("startswith",),
    "strip": ("lstrip", "rstrip"), "lstrip": ("rstrip", "strip"), "rstrip": ("lstrip", "strip"),
    "find": ("rfind", "index"), "rfind": ("find",), "index": ("rindex", "find"), "rindex": ("index",),
    "split": ("rsplit",), "rsplit": ("split",), "partition": ("rpartition",), "rpartition": ("partition",),
    "append": ("extend",), "extend": ("append",), "pop": ("popleft",), "popleft": ("pop",),
    "appendleft": ("append",), "remove": ("discard",), "discard": ("remove",),
    "keys": ("values", "items"), "values": ("keys", "items"), "items": ("keys", "values"),
    "isdigit": ("isalpha", "isalnum"), "isalpha": ("isdigit", "isalnum"), "isalnum": ("isalpha",),
    "isupper": ("islower",), "islower": ("isupper",), "add": ("update",), "update": ("add",),
}
"""Methods a called method may become even when the file never calls them (``.lower()`` <->
``.upper()``, ``.find`` <-> ``.rfind``...): common wrong-method bugs."""

JUMPS = (cst.Return, cst.Raise, cst.Continue, cst.Break)
"""Statements after which nothing in their block runs."""


def jumps(stmt: cst.CSTNode) -> bool:
    """Whether ``stmt`` is a simple statement line holding a jump (:data:`JUMPS`)."""
    return isinstance(stmt, cst.SimpleStatementLine) and any(isinstance(small, JUMPS) for small in stmt.body)


NOT_NUDGED = (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString, cst.List, cst.Dict,
              cst.Set, cst.Tuple, cst.Lambda, cst.ListComp, cst.DictComp, cst.SetComp,
              cst.GeneratorExp, cst.Integer, cst.Float, cst.Ellipsis)
"""Expressions ``e`` never nudged to ``e +/- 1`` (not numbers, or literals: ``constant`` does those)."""


def with_op(node: cst.CSTNode, op_type: type) -> cst.CSTNode:
    """``node`` with its operator replaced by ``op_type``, whitespace kept."""
    old = node.operator  # type: ignore[attr-defined]
    fields = op_type.__dataclass_fields__  # type: ignore[attr-defined]
    kwargs = {a: getattr(old, a) for a in ("whitespace_before", "whitespace_after", "whitespace_between")
              if hasattr(old, a) and a in fields}
    if "whitespace_between" in fields and "whitespace_between" not in kwargs:
        kwargs["whitespace_between"] = cst.SimpleWhitespace(" ")
    return node.with_changes(operator=op_type(**kwargs))


def paren(expr: cst.BaseExpression) -> cst.BaseExpression:
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def nudge(expr: cst.BaseExpression, delta: int) -> cst.BaseExpression:
    """``(expr + 1)`` or ``(expr - 1)``."""
    op = cst.Add() if delta > 0 else cst.Subtract()
    inner = expr.with_changes(lpar=[], rpar=[]) if getattr(expr, "lpar", None) else expr
    return paren(cst.BinaryOperation(left=inner, operator=op, right=cst.Integer(str(abs(delta)))))


def number(value: float | int) -> cst.BaseExpression:
    """A literal for ``value`` (negative values as a unary minus)."""
    if isinstance(value, int):
        node: cst.BaseExpression = cst.Integer(str(abs(value)))
    else:
        node = cst.Float(repr(abs(float(value))))
    return cst.UnaryOperation(operator=cst.Minus(), expression=node) if value < 0 else node


_EMPTY = cst.Module(body=[])


def source_of(node: cst.CSTNode) -> str:
    """A node's code, stripped (as it reads in the edit labels)."""
    return _EMPTY.code_for_node(node).strip()


def nudgeable(expr: cst.CSTNode) -> bool:
    return isinstance(expr, cst.BaseExpression) and not isinstance(expr, NOT_NUDGED)
