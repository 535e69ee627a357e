"""Repair anti-patterns: edits that tend to overfit the tests (Tan et al., FSE 2016).

A patch passing every visible test but failing held-out inputs usually *removes* behaviour:
it deletes a statement, a block or a loop, keeps one operand of an ``and``/``or``, makes an
augmented assignment plain (``x += y`` to ``x = y``: the old ``x`` dropped), drops a unary
operator, or inserts an early exit (``return``/``break``/``continue``/``raise``) the tests do
not reach past. :func:`kinds` names the anti-patterns in a proposal's description (the
mutation generator's ``"label (alternative) in file line N"`` parts joined by ``"; "``), so a
choice among plausible patches can prefer one with none (docs/search.md, session 8).
"""

from __future__ import annotations

_EXITS = ("return", "break", "continue", "raise")


def kind(part: str) -> str | None:
    """The anti-pattern of one edit's description, or ``None``."""
    label, _, rest = part.partition(" (")
    alternative = rest.rpartition(") in ")[0] if ") in " in rest else rest.rstrip(")")
    if alternative in ("statement deleted", "block deleted"):
        return "delete"
    if alternative in ("left operand only", "right operand only") or (
            label == "augmented-assignment" and alternative.endswith("-> =")):
        return "drop-operand"
    if label == "insert-before" and alternative.startswith("insert `"):
        code = alternative[len("insert `"):]
        if code.split(" ", 1)[0].rstrip("`") in _EXITS:
            return "early-exit"
    return None


def kinds(description: str) -> list[str]:
    """The anti-patterns of every edit in ``description`` (empty: none)."""
    return [k for k in (kind(p) for p in description.split("; ") if p) if k is not None]


def count(descriptions: list[str]) -> int:
    """Anti-pattern edits along a lineage (one description per generation)."""
    return sum(len(kinds(d)) for d in descriptions)
