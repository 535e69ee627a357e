"""Focused pairs: two-edit children among the edits at a parent's most suspicious lines.

A two-edit bug whose first edit does not change a test (two swapped comparisons, say) sits at
the lines the failing tasks point to. With ``pairs_focus = N`` the pairs (:mod:`.pairs`) are
drawn from ``pairs`` valid edits at the ``N`` most suspicious lines (the line weights the
neighbourhood was ordered by: Ochiai, or the share of failing tasks; ties go to the line whose
first edit comes first in the order), each line's likeliest in turn. They start at
``pairs_after`` of the neighbourhood as before; with ``pairs_early = K`` the first ``K`` of them
already take every other turn as soon as the single edits they combine have all been tried. A
parent without coverage has no suspicious line: its pairs are the global ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from .neighbourhood import Neighbourhood


@dataclass(frozen=True)
class Focus:
    """Where a parent's pairs come from and when they start."""

    start: int
    """Attempts before the pairs take every other turn (``pairs_after`` of the neighbourhood)."""
    early: tuple[int, int]
    """``(from, count)``: the first ``count`` pairs take every other turn from attempt ``from`` on
    (once the single edits they combine are tried); ``(0, 0)``: none early."""
    firsts: list[int] | None
    """Indices into the neighbourhood's ``edits`` the pairs combine (``None``: its ``top`` first
    valid edits, the global pairs)."""
    lines: list[tuple[str, int]]
    """The focus lines, most suspicious first (empty: none)."""


def top_lines(hood: Neighbourhood, n: int) -> list[tuple[str, int]]:
    """The ``n`` most suspicious lines that carry an edit, most suspicious first."""
    first: dict[tuple[str, int], int] = {}
    for index, edit in enumerate(hood.edits):
        first.setdefault((edit.rel, edit.site.line), index)
    scored = [(-hood.suspicion.get(rel, {}).get(line, 0.0), order, (rel, line))
              for (rel, line), order in first.items() if line in hood.suspicion.get(rel, {})]
    return [where for _, _, where in sorted(scored)[:n]]


def plan(hood: Neighbourhood, n: int, top: int, after: float, early: int = 0) -> Focus:
    """The parent's :class:`Focus` (computed once per neighbourhood; deterministic in its order)."""
    cached = hood.focus
    if cached is not None:
        return cached
    default = int(after * len(hood.edits))
    lines = top_lines(hood, n) if n > 0 else []
    firsts = _pool(hood, lines, top) if lines else []
    if len(firsts) > 1:
        tried = sum(1 for i, _ in hood.valid if i <= max(firsts))  # once the pool's singles are tried
        focus = Focus(default, (tried, early) if early and tried < default else (0, 0), firsts, lines)
    else:
        focus = Focus(default, (0, 0), None, lines)
    with hood.lock:
        if hood.focus is None:
            hood.focus = focus
        return hood.focus


def _pool(hood: Neighbourhood, lines: list[tuple[str, int]], top: int) -> list[int]:
    """Up to ``top`` valid edits at ``lines``, taken from each line in turn (its likeliest first),
    so a two-edit fix across two lines is in the pool even when one line has many alternatives."""
    wanted = set(lines)
    last = max(i for i, e in enumerate(hood.edits) if (e.rel, e.site.line) in wanted)
    counts, counted = dict.fromkeys(lines, 0), 0
    # validate the order until every focus line has ``top`` valid edits or its last edit is passed
    while hood.scanned <= last and min(counts.values()) < top and hood.nth(len(hood.valid)) is not None:
        for i, _ in hood.valid[counted:]:
            where = (hood.edits[i].rel, hood.edits[i].site.line)
            if where in counts:
                counts[where] += 1
        counted = len(hood.valid)
    per: dict[tuple[str, int], list[int]] = {where: [] for where in lines}
    for i, _ in hood.valid:
        where = (hood.edits[i].rel, hood.edits[i].site.line)
        if where in per:
            per[where].append(i)
    pool: list[int] = []
    depth = 0
    while len(pool) < top and any(len(v) > depth for v in per.values()):
        pool += [v[depth] for v in per.values() if len(v) > depth][: top - len(pool)]
        depth += 1
    return sorted(pool)
