"""Per-alternative prior weights: near-miss fixes first.

Studies of one-line bug fixes (ManySStuBs4J, PraPR, Getafix) find operator fixes are mostly
near misses: a comparison's boundary twin (``<`` / ``<=``), negation or mirror (``<`` / ``>``), ``+`` / ``-``,
``+=`` / ``-=``, an integer moved by one, a variable for a similarly named one (ssFix, CapGen
rank candidate names by similarity). Each alternative of a site gets a multiplier (1 by
default) read from its description (``"< -> <="``, ``"25 -> 26"``...); within a family, edits
share the family's weight in proportion to their multipliers, so a family's share is unchanged.
"""

from __future__ import annotations

NEAR = 3.0
"""Boundary twins, negations, inverse operators, integers moved by one."""
FAR = 0.5
"""Alternatives that rarely fix a bug (an augmented assignment made plain, ``return None``)."""

TWIN = 0.01
"""An edit equal on integers to a comparison's boundary twin (``x + 1 > c`` and ``x > c - 1`` are
``x >= c``): when both pass the tests the twin is the one that also holds between integers (a
score of 79.5), so the equivalent comes after it (:mod:`.operators.expressions` marks them)."""

_PAIRS: dict[str, set[frozenset[str]]] = {
    "comparison": {frozenset(p) for p in (("<", "<="), (">", ">="), ("==", "!="), ("<", ">="), (">", "<="), ("<", ">"), ("<=", ">="),
                                          ("is", "is not"), ("in", "not in"))},
    "arithmetic": {frozenset(p) for p in (("+", "-"), ("*", "/"), ("/", "//"), ("//", "%"))},
    "bitwise": {frozenset(p) for p in (("&", "|"), ("<<", ">>"), ("|", "^"))},
    "augmented": {frozenset(p) for p in (("+=", "-="), ("*=", "/="), ("/=", "//="), ("//=", "%="),
                                         ("&=", "|="), ("<<=", ">>="), ("|=", "^="))},
}


_COMPLEMENTS = {frozenset(p) for p in (("<", ">="), (">", "<="), ("==", "!="), ("is", "is not"), ("in", "not in"))}


def complement(family: str, description: str) -> bool:
    """Whether the edit inverts a test's outcome on every input: a negated condition, a
    comparison made its complement (``==`` / ``!=``, ``<`` / ``>=``...), a ``not`` dropped."""
    if family == "condition":
        return True
    if family == "boolean":
        return description == "unary operator dropped"
    left, sep, right = description.partition(" -> ")
    return family == "comparison" and bool(sep) and frozenset((left, right)) in _COMPLEMENTS


def multiplier(family: str, description: str) -> float:
    """The prior multiplier of one alternative (1 when nothing is known about it)."""
    left, sep, right = description.partition(" -> ")
    if family in _PAIRS and sep:
        if right == "=":
            return FAR
        return NEAR if frozenset((left, right)) in _PAIRS[family] else 1.0
    if family == "constant" and sep:
        try:
            return NEAR if abs(int(left) - int(right)) == 1 else 1.0
        except ValueError:
            return 1.0
    if family == "return" and description == "return None":
        return FAR
    if family == "name" and sep:
        return NEAR if similar(left, right) else 1.0
    return 1.0


def similar(a: str, b: str) -> bool:
    """Names easily confused: one a prefix of the other (``item``/``items``), of one length with
    at most half the characters changed (``rows``/``cols``), or both short (``i``/``j``, ``lo``/``hi``)."""
    if a.startswith(b) or b.startswith(a):
        return True
    if len(a) == len(b) and (len(a) <= 2 or sum(x != y for x, y in zip(a, b)) <= len(a) // 2):
        return True
    return False
