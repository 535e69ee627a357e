"""Each parent's recorded children, for generators that read their siblings' outcomes (the
mutation generator's numeric line search: a move of a literal that failed is tried mirrored,
then through the parabola of the three points).

Like :mod:`.operator_stats`, only children of generations before the asking attempt's count, so
what a generator sees does not depend on the executor's timing, and a resumed run (whose code
book is rebuilt from storage) sees the same. The orchestrator folds in each newly recorded
variant once and hands each job a list of small :class:`~darwin_hookspecs.Sibling` records (no
code, no task results), so no generator reads the run's storage.
"""

from __future__ import annotations

from dataclasses import replace

from darwin_hookspecs import Sibling

from .snapshots import CodeBook

LIMIT = 256
"""At most this many siblings (the latest) are handed to a job."""


class Siblings:
    """Children per parent, folded in from the code book's new variants."""

    def __init__(self, codebook: CodeBook) -> None:
        self.codebook = codebook
        self._seen = 0
        self._children: dict[str, list[Sibling]] = {}

    def _sync(self) -> None:
        for variant_id in self.codebook.added_since(self._seen):
            self._seen += 1
            child = self.codebook.variant(variant_id)
            if child.parent_id is None:
                continue
            meta = child.metadata or {}
            duplicate = meta.get("duplicate_of")
            score = child.score
            if duplicate and self.codebook.has(str(duplicate)):
                score = self.codebook.variant(str(duplicate)).score
            self._children.setdefault(child.parent_id, []).append(Sibling(
                variant_id=child.id, generation=child.generation, status=child.status, score=float(score or 0.0),
                edits=[str(e) for e in meta.get("edits") or []], families=[str(f) for f in meta.get("families") or []],
                sibling_index=int(meta.get("sibling_index") or 0), duplicate_of=str(duplicate) if duplicate else None))

    def before(self, parent_id: str, generation: int) -> list[Sibling]:
        """The parent's children of generations ``< generation``, oldest first (the latest ``LIMIT``)."""
        self._sync()
        found = [s for s in self._children.get(parent_id, []) if s.generation < generation]
        found.sort(key=lambda s: (s.generation, s.sibling_index, s.variant_id))
        return [replace(s, edits=list(s.edits), families=list(s.families)) for s in found[-LIMIT:]]
