"""Per-label outcomes of the run's children, for generators that adapt (the mutation bandit).

For each label in a recorded child's ``metadata["families"]`` (each counted once per child):
``(children that scored higher than their parent, children)``. Only variants of generations
before the asking attempt's count, so what a generator sees does not depend on the executor's
timing (a local and a Ray run see the same). The orchestrator keeps it up to date by folding in
each newly recorded variant once (O(1) per child; a duplicate, never evaluated, is left out), and hands a copy to each job
(``GenerationContext.operator_stats``), so no generator reads the run's storage.
"""

from __future__ import annotations

from .snapshots import CodeBook

Stats = dict[str, tuple[int, int]]


class OperatorStats:
    """Outcomes per label and generation, folded in from the code book's new variants."""

    def __init__(self, codebook: CodeBook) -> None:
        self.codebook = codebook
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
            improved = child.score > self.codebook.variant(child.parent_id).score + 1e-12
            bucket = self._by_generation.setdefault(child.generation, {})
            for label in {str(f) for f in families}:
                entry = bucket.setdefault(label, [0, 0])
                entry[0] += int(improved)
                entry[1] += 1
            self._cache = {g: s for g, s in self._cache.items() if g <= child.generation}

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
