"""A line search per literal from the parent's recorded children (``GenerationContext.siblings``).

Each single-literal perturbation child of the parent (and the parent's own creating move, whose
old value scored ``metadata["parent_score"]``) is a point ``(value, score)`` on that literal's
line through the parent. For each literal with such points:

* one failed point on one side only: its *mirror* (``x0 * x0 / x1`` for a float, in log
  coordinates, ``2 x0 - x1`` for an integer or a sign change), the move's other direction;
* failed points on both sides (the parent is the best of the three nearest): the vertex of the
  parabola through the three (successive parabolic interpolation); a vertex too close to the
  parent or to a bracket end is replaced by the golden-section point of the larger interval, so
  the bracket keeps shrinking;
* a point better than the parent: nothing (that child is a better parent; its own first
  perturbation repeats its move).

Candidates come newest information first; the attempts of one generation on a parent (which see
the same siblings) take the candidates in turn (``index``). Nothing here keeps state: a resume
sees the same siblings and proposes the same.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any, Iterable

from .perturb import KINDS, Literal

LABEL = "perturb-line"
"""The label of a line-search child (outside the step rule, like a pattern move)."""
GOLDEN = 0.381966
MIN_WIDTH = 1e-6
"""A bracket narrower than this (relative to the value) is done."""
NEAR = 0.05
"""A vertex within this share of the bracket from the parent or an end takes the golden point."""


@dataclass
class Point:
    value: float | int
    utility: float
    order: int
    """When it was learnt (a sibling's index; -1 for the parent's creating move)."""


@dataclass
class Candidate:
    literal: Literal
    value: float | int
    kind: str
    """``mirror`` or ``parabola``."""
    order: int


def _value(text: str) -> float | int | None:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def points(found: list[Literal], parent_meta: dict[str, Any], siblings: Iterable[Any],
           sign: float) -> dict[str, list[Point]]:
    """``{literal label: points off the parent}`` from single-literal perturbation children."""
    by_label = {lit.label: lit for lit in found}
    out: dict[str, list[Point]] = {}
    moves = parent_meta.get("moves") or []
    if len(moves) == 1 and parent_meta.get("parent_score") is not None:
        label, old, new = moves[0]
        lit = by_label.get(label)
        if lit is not None and lit.value == new and old != new:
            out.setdefault(label, []).append(Point(old, sign * float(parent_meta["parent_score"]), -1))
    for sib in siblings:
        families = list(getattr(sib, "families", []) or [])
        edits = list(getattr(sib, "edits", []) or [])
        if not families or families[0] not in KINDS or len(edits) != 1 or "=" not in edits[0]:
            continue
        label, _, text = edits[0].partition("=")
        lit, value = by_label.get(label), _value(text)
        if lit is None or value is None or value == lit.value:
            continue
        broken = sib.status in ("invalid", "error") and not sib.duplicate_of
        utility = -math.inf if broken else sign * float(sib.score)
        out.setdefault(label, []).append(Point(value, utility, int(sib.sibling_index)))
    return out


def _coordinate(lit: Literal, pts: list[Point]) -> tuple[Any, Any]:
    """To and from the line's coordinate: log|x| for a float whose points share its sign."""
    x0 = lit.value
    if isinstance(x0, float) and x0 != 0 and all(p.value != 0 and (p.value > 0) == (x0 > 0) for p in pts):
        s = math.copysign(1.0, x0)
        return (lambda v: math.log(abs(v))), (lambda t: s * math.exp(t))
    return (lambda v: float(v)), (lambda t: t)


def _finish(lit: Literal, t: float, back: Any, known: set[float | int]) -> float | int | None:
    try:
        raw = back(t)
    except OverflowError:
        return None
    if not math.isfinite(raw):
        return None
    value: float | int = int(round(raw)) if isinstance(lit.value, int) else float(f"{raw:.10g}")
    return None if value == lit.value or value in known else value


def candidates(found: list[Literal], table: dict[str, list[Point]], parent_utility: float) -> list[Candidate]:
    """The line-search moves, newest information first."""
    out: list[Candidate] = []
    for lit in found:
        pts = table.get(lit.label)
        if not pts:
            continue
        if any(p.utility > parent_utility for p in pts):
            continue  # a better child exists on this line: it is the better parent
        to, back = _coordinate(lit, pts)
        t0 = to(lit.value)
        known = {p.value for p in pts}
        left = [p for p in pts if to(p.value) < t0]
        right = [p for p in pts if to(p.value) > t0]
        order = max(p.order for p in pts)
        if not left or not right:
            far = max(left or right, key=lambda p: p.order)  # the newest failed move, mirrored
            value = _finish(lit, 2 * t0 - to(far.value), back, known)
            if value is not None:
                out.append(Candidate(lit, value, "mirror", order))
            continue
        a = max(left, key=lambda p: to(p.value))
        c = min(right, key=lambda p: to(p.value))
        ta, tc = to(a.value), to(c.value)
        if tc - ta <= MIN_WIDTH * max(abs(t0), 1.0):
            continue
        t = _vertex(ta, a.utility, t0, parent_utility, tc, c.utility)
        near = NEAR * (tc - ta)
        if t is None or min(abs(t - t0), t - ta, tc - t) < near:
            t = t0 + GOLDEN * ((tc - t0) if tc - t0 > t0 - ta else (ta - t0))
        value = _finish(lit, t, back, known)
        if value is not None:
            out.append(Candidate(lit, value, "parabola", order))
    out.sort(key=lambda c: -c.order)
    return out


def _vertex(ta: float, fa: float, tb: float, fb: float, tc: float, fc: float) -> float | None:
    """The maximum of the parabola through three points (``tb`` the best, between the others)."""
    if not all(math.isfinite(f) for f in (fa, fb, fc)):
        return None
    p = (tb - ta) ** 2 * (fb - fc) - (tb - tc) ** 2 * (fb - fa)
    q = (tb - ta) * (fb - fc) - (tb - tc) * (fb - fa)
    if q == 0:
        return None
    t = tb - 0.5 * p / q
    return t if ta < t < tc else None


def offset(siblings: list[Any]) -> int:
    """The parent's first attempt of the current generation: one past its siblings' (they are of
    earlier generations), so the attempts of one generation take candidates in turn."""
    return max((int(s.sibling_index) for s in siblings), default=-1) + 1
