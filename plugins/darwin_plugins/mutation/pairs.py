"""Two-edit children once a parent's single edits are spent.

A bug that needs two edits, neither of which changes a test's outcome alone (two swapped
comparisons, say), is out of reach of single edits whose intermediate step never scores better.
Once every valid single edit of a parent has been tried, its attempts go on with pairs of its
``top`` likeliest distinct edits (its first ``top`` valid mutants), enumerated without
replacement by the sum of the two edits' priority keys (the product of their weighted draws:
the likeliest pair first). A pair whose code equals a single mutant or an earlier pair is
skipped; so is one that does not compile.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .focus import early_from
from .neighbourhood import Edit, Neighbourhood
from .operators import apply_edits
from .repeats import repeats


@dataclass
class Pairs:
    """The lazily validated pair sequence of one neighbourhood."""

    order: list[tuple[int, int]]
    """Index pairs into the neighbourhood's ``edits``, likeliest first."""
    valid: list[tuple[tuple[int, int], dict[str, str]]] = field(default_factory=list)
    scanned: int = 0


def size(top: int) -> int:
    """The most pairs ``top`` edits give (an upper bound of the valid ones)."""
    return top * (top - 1) // 2


def _order(hood: Neighbourhood, top: int, firsts: list[int] | None = None) -> list[tuple[int, int]]:
    if firsts is None:
        firsts = [index for index, _ in hood.valid[:top]]
    pairs = []
    for a, i in enumerate(firsts):
        for j in firsts[a + 1:]:
            if hood.edits[i].site.node is not hood.edits[j].site.node:
                pairs.append((i, j))
    pairs.sort(key=lambda p: (-(hood.edits[p[0]].priority + hood.edits[p[1]].priority), p))
    return pairs


def slot(hood: Neighbourhood, k: int, start: int, top: int, firsts: list[int] | None = None,
         early: tuple[int, int] = (0, 0)) -> tuple[bool, int] | None:
    """Attempt ``k``'s turn: ``(is_pair, index)`` into the singles or the pairs, ``None`` once both
    are spent. Singles before ``start``, then a single and a pair in turn; when one kind is spent
    the other takes its turns. ``early = (edit, count)``: the first ``count`` pairs already take
    every other turn from the attempt after the single edits up to ``edit`` on, when that is
    before ``start`` (:func:`.focus.early_from`). Deterministic in ``k`` (a resume finds the same
    turns)."""
    early_count = early[1]
    with hood.turn_lock:
        pairs = sum(1 for is_pair, _ in hood.turns if is_pair)
        singles = len(hood.turns) - pairs
        while len(hood.turns) <= k:
            j = len(hood.turns)
            has_single = hood.nth(singles) is not None  # before ``early_from``, which it may settle
            begin = early_from(hood, early, start) if pairs < early_count else None
            want_pair = ((j >= start and (j - start) % 2 == 1)
                         or (begin is not None and j >= begin and (j - begin) % 2 == 1))
            has_pair = (want_pair or not has_single) and nth(hood, pairs, top, firsts) is not None
            if not has_single and not has_pair:
                return None
            is_pair = has_pair if want_pair else not has_single
            hood.turns.append((is_pair, pairs if is_pair else singles))
            pairs, singles = pairs + is_pair, singles + (not is_pair)
        return hood.turns[k]


def nth(hood: Neighbourhood, k: int, top: int,
        firsts: list[int] | None = None) -> tuple[list[Edit], dict[str, str]] | None:
    """The ``k``-th valid, distinct pair of ``hood``'s ``top`` likeliest valid edits (or of the
    edits ``firsts``, indices into its ``edits``: :mod:`.focus`)."""
    if hood.pairs is None and firsts is None:
        hood.nth(top - 1)  # validates the first ``top`` single edits (outside the lock it takes)
    with hood.lock:
        if hood.pairs is None:
            hood.pairs = Pairs(_order(hood, top, firsts))
        pairs: Pairs = hood.pairs
        while len(pairs.valid) <= k and pairs.scanned < len(pairs.order):
            i, j = pairs.order[pairs.scanned]
            pairs.scanned += 1
            changes = _apply(hood, [hood.edits[i], hood.edits[j]])
            if changes is None:
                continue
            digest = hashlib.sha1("\0".join(f"{r}\0{t}" for r, t in sorted(changes.items())).encode()).hexdigest()
            if digest in hood.seen or _repeats_planned(hood, changes):
                continue
            hood.seen.add(digest)
            pairs.valid.append(((i, j), changes))
        if k < len(pairs.valid):
            (i, j), changes = pairs.valid[k]
            return [hood.edits[i], hood.edits[j]], changes
        return None


def _repeats_planned(hood: Neighbourhood, changes: dict[str, str]) -> bool:
    """Whether a pair's one-file mutant is a single edit the focus plan passed but :meth:`nth`
    has not validated yet (it is a repeat: validating first would have seen it). A mutant of two
    files never equals a single one."""
    if len(changes) != 1 or hood.scanned >= hood.planned:
        return False
    (rel, text), = changes.items()
    return repeats(hood, rel, text, hood.scanned, hood.planned)


def _apply(hood: Neighbourhood, edits: list[Edit]) -> dict[str, str] | None:
    changes: dict[str, str] = {}
    for rel in sorted({e.rel for e in edits}):
        try:
            new = apply_edits(hood.parsed[rel], [(e.site, e.alt) for e in edits if e.rel == rel])
            compile(new, rel, "exec")  # syntax check only; nothing is executed
        except Exception:  # noqa: BLE001 - a combination that yields invalid code is skipped
            return None
        if new == hood.sources[rel]:
            return None
        changes[rel] = new
    return changes
