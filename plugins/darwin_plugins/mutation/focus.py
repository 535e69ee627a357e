"""Focused pairs: two-edit children among the edits at a parent's most suspicious lines.

A two-edit bug whose first edit does not change a test (two swapped comparisons, say) sits at
the lines the failing tasks point to. With ``pairs_focus = N`` the pairs (:mod:`.pairs`) are
drawn from ``pairs`` valid edits at the ``N`` most suspicious lines (the line weights the
neighbourhood was ordered by: Ochiai, or the share of failing tasks; ties go to the line whose
first edit comes first in the order), each line's likeliest in turn. They start at
``pairs_after`` of the neighbourhood as before; with ``pairs_early = K`` the first ``K`` of them
already take every other turn as soon as the single edits they combine have all been tried. A
parent without coverage has no suspicious line: its pairs are the global ones.

The pool is found without validating the whole order up to it: only the focus lines' edits are
made and compiled (kept for :meth:`.Neighbourhood.nth`); an earlier edit is made only where it
could repeat one of them (:mod:`.repeats`), and a pair repeating an edit the plan passed is
skipped as if that edit had been validated, so the children are those of validating first.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from .neighbourhood import Neighbourhood
from .repeats import repeats


@dataclass(frozen=True)
class Focus:
    """Where a parent's pairs come from and when they start."""

    start: int
    """Attempts before the pairs take every other turn (``pairs_after`` of the neighbourhood)."""
    early: tuple[int, int]
    """``(edit, count)``: the first ``count`` pairs take every other turn once the single edits up
    to index ``edit`` of the neighbourhood's ``edits`` are tried, if that is before ``start``
    (:func:`early_from`); ``(0, 0)``: none early."""
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
    if hood.focus is not None:
        return hood.focus  # type: ignore[no-any-return]
    with hood.turn_lock:  # outside ``hood.lock``, as in :func:`.pairs.slot`
        if hood.focus is None:
            default = int(after * len(hood.edits))
            lines = top_lines(hood, n) if n > 0 else []
            firsts = _pool(hood, lines, top) if lines else []
            if len(firsts) > 1:
                hood.focus = Focus(default, (max(firsts), early) if early else (0, 0), firsts, lines)
            else:
                hood.focus = Focus(default, (0, 0), None, lines)
        return hood.focus  # type: ignore[no-any-return]


def early_from(hood: Neighbourhood, focus_early: tuple[int, int], start: int) -> int | None:
    """The attempt the early pairs start from: the number of valid single edits up to the pool's
    last (once that edit is validated), if it is below ``start``; None: not (yet) known to be, so
    no early pair at this turn (before it is known, every turn so far was a single)."""
    edit, count = focus_early
    if count <= 0 or hood.scanned <= edit:
        return None
    tried = bisect.bisect_right(hood.valid, edit, key=lambda v: v[0])
    return tried if tried < start else None


def _pool(hood: Neighbourhood, lines: list[tuple[str, int]], top: int) -> list[int]:
    """Up to ``top`` valid edits at ``lines``, taken from each line in turn (its likeliest first),
    so a two-edit fix across two lines is in the pool even when one line has many alternatives."""
    with hood.lock:
        fresh = hood.scanned == 0
        found = _scan(hood, lines, top) if fresh else []
    if not fresh:  # singles already validated: the pool is read from them
        found = _validated(hood, lines, top)
    per: dict[tuple[str, int], list[int]] = {where: [] for where in lines}
    for i in found:
        per[(hood.edits[i].rel, hood.edits[i].site.line)].append(i)
    pool: list[int] = []
    depth = 0
    while len(pool) < top and any(len(v) > depth for v in per.values()):
        pool += [v[depth] for v in per.values() if len(v) > depth][: top - len(pool)]
        depth += 1
    return sorted(pool)


def _scan(hood: Neighbourhood, lines: list[tuple[str, int]], top: int) -> list[int]:
    """The valid edits at ``lines`` that validating the order would find until every focus line
    has ``top`` of them or the first valid edit at or after the last focus edit (under ``hood.lock``,
    nothing validated yet). Every mutant up to there is made (kept in ``hood.codes``) to find
    repeats; only the focus edits and those after the last focus edit are compiled."""
    wanted = set(lines)
    last = max(i for i, e in enumerate(hood.edits) if (e.rel, e.site.line) in wanted)
    counts = dict.fromkeys(lines, 0)
    found: list[int] = []
    for index, edit in enumerate(hood.edits):
        where = (edit.rel, edit.site.line)
        if where not in counts and index < last:
            continue  # decides nothing, unless a later mutant repeats it (:func:`.repeats.repeats`)
        new = hood.code(index)
        if new is None or new == hood.sources[edit.rel] or not hood.compiles(index, new):
            continue
        if repeats(hood, edit.rel, new, 0, index):
            continue
        if where in counts:
            found.append(index)
            counts[where] += 1
        if index >= last or min(counts.values()) >= top:
            break
    hood.planned = index + 1
    return found


def _validated(hood: Neighbourhood, lines: list[tuple[str, int]], top: int) -> list[int]:
    """:func:`_scan` by validating the order (:meth:`.Neighbourhood.nth`), for a neighbourhood
    whose singles were already being validated."""
    wanted = set(lines)
    last = max(i for i, e in enumerate(hood.edits) if (e.rel, e.site.line) in wanted)
    counts, counted = dict.fromkeys(lines, 0), 0
    while hood.scanned <= last and min(counts.values()) < top and hood.nth(len(hood.valid)) is not None:
        for i, _ in hood.valid[counted:]:
            where = (hood.edits[i].rel, hood.edits[i].site.line)
            if where in counts:
                counts[where] += 1
        counted = len(hood.valid)
    return [i for i, _ in hood.valid if (hood.edits[i].rel, hood.edits[i].site.line) in wanted]
