"""Per-label outcomes of the run's children, for generators that adapt (the mutation bandit).

For each label in a recorded child's ``metadata["families"]`` (each counted once per child):
``(children that improved on their parent, children)``: an improved child is a valid one (not
``invalid`` nor ``error``) whose score is better than its parent's in the objective's direction
(lower when it minimises; the archive's objective, raw scores). Only variants of generations
before the asking attempt's count, so what a generator sees does not depend on the executor's
timing (a local and a Ray run see the same). The orchestrator keeps it up to date by folding in
each newly recorded variant once (O(1) per child; a duplicate, never evaluated, is left out), and hands a copy to each job
(``GenerationContext.operator_stats``), so no generator reads the run's storage.
"""

from __future__ import annotations

from typing import Any

from darwin_hookspecs import Objective

from .snapshots import CodeBook

Stats = dict[str, tuple[int, int]]


class OperatorStats:
    """Outcomes per label and generation, folded in from the code book's new variants."""

    def __init__(self, codebook: CodeBook, archive: Any = None) -> None:
        self.codebook = codebook
        self.archive = archive
        """Whose ``objective`` says which way is better (maximise the score without one)."""
        self._seen = 0
        self._by_generation: dict[int, dict[str, list[int]]] = {}
        self._cache: dict[int, Stats] = {}

    def _sync(self) -> None:
        for variant_id in self.codebook.added_since(self._seen):
            self._seen += 1
            child = self.codebook.variant(variant_id)
            meta = child.metadata or {}
            families = meta.get("families") or []
            if not families or meta.get("duplicate_of") or child.parent_id is None or not self.codebook.has(child.parent_id):
                continue
            improved = self._improved(child.status, child.score, self.codebook.variant(child.parent_id).score)
            bucket = self._by_generation.setdefault(child.generation, {})
            for label in {str(f) for f in families}:
                entry = bucket.setdefault(label, [0, 0])
                entry[0] += int(improved)
                entry[1] += 1
            self._cache = {g: s for g, s in self._cache.items() if g <= child.generation}

    def _improved(self, status: str, score: float, parent_score: float) -> bool:
        if status in ("invalid", "error"):
            return False
        objective = getattr(self.archive, "objective", None) or Objective()
        return objective.utility(score) > objective.utility(parent_score) + 1e-12

    def before(self, generation: int) -> Stats:
        """``{label: (improved, children)}`` over the variants of generations ``< generation``."""
        self._sync()
        if generation not in self._cache:
            total: dict[str, list[int]] = {}
            for g, bucket in self._by_generation.items():
                if g < generation:
                    for label, (wins, n) in bucket.items():
                        entry = total.setdefault(label, [0, 0])
                        entry[0] += wins
                        entry[1] += n
            self._cache[generation] = {label: (w, n) for label, (w, n) in sorted(total.items())}
        return dict(self._cache[generation])
