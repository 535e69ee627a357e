"""The archive: every recorded variant as a tree, and the best-so-far.

The best variant is the best-scoring accepted variant evaluated on every stage (highest, or
lowest when the objective minimises); ties keep the earlier one (in id order), so a later
variant displaces it only by scoring strictly better.
"""

from __future__ import annotations

import bisect
from collections import defaultdict

from darwin_hookspecs import Objective, Variant


class Archive:
    """In-memory index of a run's variants (the storage holds the durable copy).

    Variants are kept in id order (generation, then attempt index), not completion order, so
    that selection is reproducible whatever the executor's timing.
    """

    def __init__(self, last_stage: int = 0, objective: Objective | None = None) -> None:
        self.last_stage = last_stage
        self.objective = objective or Objective()
        self._variants: dict[str, Variant] = {}
        self._order: list[str] = []
        self._children: dict[str, list[str]] = defaultdict(list)
        self._added: list[str] = []  # insertion order (the archive only grows)
        self.best_id: str | None = None

    # ---------------------------------------------------------------- ArchiveView

    def variants(self) -> list[Variant]:
        return [self._variants[i] for i in self._order]

    def selectable(self) -> list[Variant]:
        return [v for v in self.variants() if v.status == "accepted"]

    def children(self, variant_id: str) -> list[Variant]:
        return [self._variants[i] for i in self._children.get(variant_id, [])]

    def get(self, variant_id: str) -> Variant:
        return self._variants[variant_id]

    def added_since(self, count: int) -> list[Variant]:
        """The variants added after the first ``count``, in the order they were added."""
        return [self._variants[i] for i in self._added[count:]]

    # ---------------------------------------------------------------- mutation

    def add(self, variant: Variant) -> bool:
        """Add a recorded variant; return ``True`` if it became the new best."""
        if variant.id in self._variants:
            return False
        self._variants[variant.id] = variant
        self._added.append(variant.id)
        bisect.insort(self._order, variant.id)  # ids sort by generation, then attempt
        if variant.parent_id is not None:
            bisect.insort(self._children[variant.parent_id], variant.id)
        if self._beats_best(variant):
            self.best_id = variant.id
            return True
        return False

    def replace(self, variant: Variant) -> None:
        """A recorded copy of a held variant (same id) supersedes it; the best is recomputed."""
        self._variants[variant.id] = variant
        self.best_id = None
        for variant_id in self._order:
            if self._beats_best(self._variants[variant_id]):
                self.best_id = variant_id

    def _beats_best(self, variant: Variant) -> bool:
        if variant.status != "accepted" or variant.stage_reached < self.last_stage:
            return False
        if self.best_id is None:
            return True
        best = self._variants[self.best_id]
        return self.objective.better(variant.score, best.score) or (
            variant.score == best.score and variant.id < best.id)

    def set_objective(self, objective: Objective) -> None:
        """Rank by ``objective`` from now on (the best is recomputed)."""
        self.objective, self.best_id = objective, None
        for variant_id in self._added:
            if self._beats_best(self._variants[variant_id]):
                self.best_id = variant_id

    def fitness(self, variant: Variant) -> float:
        """``variant.score`` oriented so that higher is better (for selection rules)."""
        return self.objective.utility(variant.score)

    def __contains__(self, variant_id: object) -> bool:
        return variant_id in self._variants

    def __len__(self) -> int:
        return len(self._order)

    @property
    def root(self) -> Variant | None:
        return self._variants[self._order[0]] if self._order else None

    @property
    def best(self) -> Variant | None:
        return self._variants[self.best_id] if self.best_id else None

    def depth(self, variant_id: str) -> int:
        depth, current = 0, self._variants[variant_id].parent_id
        while current is not None:
            depth += 1
            current = self._variants[current].parent_id
        return depth

    def lineage(self, variant_id: str) -> list[str]:
        """Ids from the root down to ``variant_id``."""
        chain: list[str] = []
        current: str | None = variant_id
        while current is not None:
            chain.append(current)
            current = self._variants[current].parent_id
        return chain[::-1]
