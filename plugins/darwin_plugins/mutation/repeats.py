"""Which of a neighbourhood's single edits could make a given mutant, without making them all.

An edit changes its file only inside a known span (:func:`bounds`): the top-level statement
holding its node (what :func:`.operators.apply_edits` regenerates) joined with the node's own
tokens (where an expression is spliced), or the whole file when neither is known. A mutant
``text`` of the file equals an edit's mutant only if that span starts at or before the end of
``text``'s common prefix with the file and ends at or after the start of their common suffix;
only those edits' mutants are made (memoised in :attr:`.Neighbourhood.codes`) and compared.
"""

from __future__ import annotations

from itertools import accumulate

from .neighbourhood import Neighbourhood
from .operators import splicer_of


def repeats(hood: Neighbourhood, rel: str, text: str, lo: int, hi: int) -> bool:
    """Whether an edit of ``rel`` with index in ``[lo, hi)`` makes exactly ``text``."""
    source = hood.sources[rel]
    prefix = _common(text, source, lambda s, n: s[:n])
    suffix_start = len(source) - _common(text, source, lambda s, n: s[len(s) - n:])
    for index in range(lo, hi):
        if hood.edits[index].rel != rel:
            continue
        start, end = bounds(hood, index)
        if start <= prefix and end >= suffix_start and hood.code(index) == text:
            return True
    return False


def bounds(hood: Neighbourhood, index: int) -> tuple[int, int]:
    """``[start, end)`` of the characters of its file that edit ``index`` may change."""
    found = hood.bounds.get(index)
    if found is None:
        edit = hood.edits[index]
        parsed, whole = hood.parsed[edit.rel], (0, len(hood.sources[edit.rel]))
        statement = parsed.statement_of.get(id(edit.site.node))
        offsets = _offsets(hood, edit.rel)
        if statement is None or offsets is None:
            found = whole
        else:
            chunks, tokens = offsets
            found = (chunks[statement + 1], chunks[statement + 2])
            span = splicer_of(parsed).spans.get(id(edit.site.node))
            if span is not None:
                found = (min(found[0], tokens[span[0]]), max(found[1], tokens[span[1]]))
        hood.bounds[index] = found
    return found


def _offsets(hood: Neighbourhood, rel: str) -> tuple[list[int], list[int]] | None:
    """Where each chunk of the parse (header, statements, footer) and each token of its code
    generation start, with their ends; None when either does not reproduce the file."""
    if rel not in hood.offsets:
        parsed, source = hood.parsed[rel], hood.sources[rel]
        tokens = splicer_of(parsed).tokens if parsed.chunks is not None else []
        ok = parsed.chunks is not None and "".join(parsed.chunks) == source and "".join(tokens) == source
        hood.offsets[rel] = ([0, *accumulate(map(len, parsed.chunks or []))],
                             [0, *accumulate(map(len, tokens))]) if ok else None
    return hood.offsets[rel]


def _common(a: str, b: str, part: "callable[[str, int], str]") -> int:  # type: ignore[valid-type]
    """The length of ``a`` and ``b``'s longest common ``part`` (a prefix or a suffix)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if part(a, mid) == part(b, mid):
            lo = mid
        else:
            hi = mid - 1
    return lo
