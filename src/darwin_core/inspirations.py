"""Inspirations: other accepted variants a generator is shown besides its parent.

At planning time :func:`choose` picks, deterministically from the seed and the archive, a few
accepted variants other than the parent: the best ones (in the objective's direction), plus some drawn from other
lineages (variants that do not descend from the parent's branch off the root). Their ids go to
``attempt.metadata["inspirations"]``, so a resume (or a retry) shows the generator the same
ones and an LLM's response cache still hits. At submit :func:`build` turns the ids into
:class:`~darwin_hookspecs.Inspiration` records: each variant's code as text and that of its
most recent common ancestor with the parent, bounded in size (binary and huge files are left
out of both, and inspirations past the total byte cap are dropped whole).
"""

from __future__ import annotations

import bisect
import random
from collections import OrderedDict
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import Inspiration, Objective, Variant


class InspirationsSection(BaseModel):
    """``[inspirations]``: what the engine shows generators besides the parent."""

    model_config = ConfigDict(extra="forbid")
    count: int = Field(3, ge=0)
    """Inspirations per attempt (0: none)."""
    drawn: int = Field(1, ge=0)
    """How many of them are drawn at random from other lineages (the rest are the best)."""
    max_file_bytes: int = Field(64_000, ge=1)
    """Files larger than this (or not UTF-8 text) are left out."""
    max_total_bytes: int = Field(400_000, ge=1)
    """Cap on the text shipped per attempt (inspirations and their ancestors)."""


def _branch(archive: Any, variant_id: str) -> str:
    """The child of the root a variant descends from (its lineage); the root for the root."""
    chain = archive.lineage(variant_id)
    return chain[1] if len(chain) > 1 else chain[0]


def choose(archive: Any, parent_id: str, options: InspirationsSection, rng: random.Random) -> list[str]:
    """Ids of up to ``count`` accepted variants other than the parent (best first)."""
    if options.count <= 0:
        return []
    if hasattr(archive, "ranked_accepted"):
        return _choose_ranked(archive, parent_id, options, rng)
    objective = getattr(archive, "objective", None) or Objective()
    pool = sorted((v for v in archive.variants() if v.status == "accepted" and v.id != parent_id),
                  key=lambda v: (-objective.utility(v.score), v.id))
    drawn = min(options.drawn, max(options.count - 1, 0))
    chosen = [v.id for v in pool[: options.count - drawn]]
    rest = [v for v in pool if v.id not in chosen]
    own = _branch(archive, parent_id)
    others = [v.id for v in rest if _branch(archive, v.id) != own] or [v.id for v in rest]
    while others and len(chosen) < options.count:
        chosen.append(others.pop(rng.randrange(len(others))))
    return chosen


def _choose_ranked(archive: Any, parent_id: str, options: InspirationsSection, rng: random.Random) -> list[str]:
    """:func:`choose` from the archive's ranking and branches: the same ids for the same
    ``rng``, walking the ranking only as far as the picks lie, instead of sorting the archive
    and walking every lineage."""
    ranked = archive.ranked_accepted()
    drawn = min(options.drawn, max(options.count - 1, 0))
    chosen: list[str] = []
    for _, variant_id in ranked:
        if len(chosen) == options.count - drawn:
            break
        if variant_id != parent_id:
            chosen.append(variant_id)
    taken = {*chosen, parent_id}
    own = archive.branch(parent_id)
    parent_in = parent_id in archive and archive.summary(parent_id).status == "accepted"
    rest = len(ranked) - parent_in - len(chosen)
    own_rest = archive.accepted_in_branch(own) - (parent_in and archive.branch(parent_id) == own) - sum(
        archive.branch(c) == own for c in chosen)
    apart = rest - own_rest > 0  # the scan's `others`: other lineages, else all the rest
    size = rest - own_rest if apart else rest
    own_ranked = archive.ranked_in_branch(own) if hasattr(archive, "ranked_in_branch") else None
    while size > 0 and len(chosen) < options.count:
        k = rng.randrange(size)
        if own_ranked is not None:
            variant_id = _kth(ranked, own_ranked if apart else [], [archive.rank_key(t) for t in taken], k)
        else:  # some branch unknown: walk the ranking
            for _, variant_id in ranked:
                if variant_id in taken or (apart and archive.branch(variant_id) == own):
                    continue
                if k == 0:
                    break
                k -= 1
        chosen.append(variant_id)
        taken.add(variant_id)
        size -= 1
    return chosen


def _kth(ranked: list, own: list, taken: list, k: int) -> str:
    """The id of the ``k``-th entry (from 0) of ``ranked`` that is in neither ``own`` (a sorted
    subset of it) nor ``taken`` (keys, ``None`` for one not ranked): O(log^2 N) by bisection,
    where the scan walked the ranking."""
    def rank(key: tuple) -> int:  # entries of ranked minus own before key
        return bisect.bisect_left(ranked, key) - bisect.bisect_left(own, key)

    def in_own(key: tuple) -> bool:
        i = bisect.bisect_left(own, key)
        return i < len(own) and own[i] == key

    for r in sorted(rank(key) for key in taken if key is not None and not in_own(key)):
        if r <= k:
            k += 1
    lo, hi = 0, len(ranked) - 1  # the first p with k + 1 entries not in own among ranked[: p + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if mid + 1 - bisect.bisect_right(own, ranked[mid]) > k:
            hi = mid
        else:
            lo = mid + 1
    return ranked[lo][1]


def common_ancestor(archive: Any, a: str, b: str) -> str | None:
    """The most recent variant both ``a`` and ``b`` descend from (or are)."""
    seen = set(archive.lineage(a))
    for variant_id in reversed(archive.lineage(b)):
        if variant_id in seen:
            return variant_id
    return None


def _texts(files: dict[str, bytes], limit: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for rel, data in files.items():
        if len(data) > limit or b"\0" in data:
            continue
        try:
            out[rel] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return out


TEXTS_KEPT = 64
"""Variants whose text files :class:`TextCache` keeps (the most recently used)..."""
TEXTS_CHARS = 16_000_000
"""... within this many characters in all (a variant with more is not kept)."""


class TextCache:
    """Each variant's text files, as :func:`build` hands them out, and the paths it leaves out:
    a variant's code never changes, and the same few best variants inspire attempt after
    attempt (each was read and decoded again per attempt, with its ancestor's). Bounded by
    count and by size (a large repository's variants are read each time, as before)."""

    def __init__(self, kept: int = TEXTS_KEPT, chars: int = TEXTS_CHARS) -> None:
        self.kept, self.chars, self.held = kept, chars, 0
        self._texts: OrderedDict[tuple[str, int], tuple[dict[str, str], frozenset[str], int]] = OrderedDict()

    def of(self, codebook: Any, variant_id: str, limit: int) -> tuple[dict[str, str], frozenset[str]]:
        """``variant_id``'s text files of at most ``limit`` bytes (never change the dict) and
        the paths of its other files."""
        key = (variant_id, limit)
        found = self._texts.get(key)
        if found is not None:
            self._texts.move_to_end(key)
            return found[0], found[1]
        raw = codebook.files(variant_id)
        texts = _texts(raw, limit)
        left_out = frozenset(raw).difference(texts)
        size = sum(len(t) for t in texts.values())
        if self.kept and size <= self.chars:
            self._texts[key] = (texts, left_out, size)
            self.held += size
            while len(self._texts) > self.kept or self.held > self.chars:
                self.held -= self._texts.popitem(last=False)[1][2]
        return texts, left_out


def build(ids: list[str], parent: Variant, archive: Any, codebook: Any,
          options: InspirationsSection, texts: TextCache | None = None) -> list[Inspiration]:
    """The :class:`Inspiration` records of ``ids`` (those still in the archive), size-bounded
    (``texts``: the run's cache of each variant's text files)."""
    texts = texts or TextCache(kept=0)
    budget, limit = options.max_total_bytes, options.max_file_bytes
    out: list[Inspiration] = []
    for variant_id in ids:
        if variant_id not in archive or variant_id == parent.id:
            continue
        files, left_out = texts.of(codebook, variant_id, limit)
        ancestor_id = common_ancestor(archive, parent.id, variant_id)
        ancestor: dict[str, str] | None = None
        if ancestor_id:  # a path left out of one side is left out of both
            ancestor, ancestor_left_out = texts.of(codebook, ancestor_id, limit)
            dropped = left_out | ancestor_left_out
            files = {rel: t for rel, t in files.items() if rel not in dropped}
            ancestor = {rel: t for rel, t in ancestor.items() if rel not in dropped}
        else:
            files = dict(files)
        size = sum(len(t) for t in files.values()) + sum(len(t) for t in (ancestor or {}).values())
        if size > budget:
            continue
        budget -= size
        out.append(Inspiration(variant=archive.get(variant_id), files=files,
                               ancestor_id=ancestor_id, ancestor_files=ancestor))
    return out
