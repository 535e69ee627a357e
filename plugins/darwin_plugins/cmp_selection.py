"""Parent selection ``cmp``: the Huxley-Gödel Machine's clade-metaproductivity rule.

A node's clade is the node and all its descendants. Every task outcome evaluated anywhere in
the clade is pooled: ``s`` passes and ``f`` failures. Each parent draw samples, for every
selectable node, ``theta ~ Beta(prior + s, prior + f)`` and picks the node with the largest
sample (Thompson sampling), so clades whose descendants keep doing well are expanded more, and
unexplored ones still get tried.
"""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import ArchiveView, hookimpl

from .exhaustion import open_parents


class CMPOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prior: float = Field(1.0, gt=0)
    """Pseudo-count of the Beta prior on each side (HGM: 1)."""


def clade_outcomes(archive: ArchiveView) -> dict[str, tuple[int, int]]:
    """``{variant id: (passes, failures)}`` pooled over each variant's clade."""
    variants = archive.variants()
    own = {
        v.id: (sum(r.passed for r in v.task_results.values()),
               sum(not r.passed for r in v.task_results.values()))
        for v in variants
    }
    pooled = dict(own)
    # variants come in creation order, so children after parents: sum bottom-up
    for v in reversed(variants):
        if v.parent_id is not None and v.parent_id in pooled:
            ps, pf = pooled[v.parent_id]
            cs, cf = pooled[v.id]
            pooled[v.parent_id] = (ps + cs, pf + cf)
    return pooled


class CladeMetaproductivity:
    """Thompson sampling over clade task outcomes."""

    def __init__(self, prior: float = 1.0) -> None:
        self.prior = prior

    def select(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        items = open_parents(archive)
        if not items:
            raise ValueError("no selectable parent in the archive")
        pooled = clade_outcomes(archive)
        chosen = []
        for _ in range(n):
            best_id, best_theta = items[0].id, -1.0
            for v in items:
                s, f = pooled[v.id]
                theta = rng.betavariate(self.prior + s, self.prior + f)
                if theta > best_theta:
                    best_id, best_theta = v.id, theta
            chosen.append(best_id)
        return chosen


@hookimpl
def darwin_register_selectors(registry: Any) -> None:
    registry.add(
        "cmp",
        lambda o, c: CladeMetaproductivity(o.prior),
        options=CMPOptions,
        description="HGM: Thompson sampling from Beta(1 + passes, 1 + failures) pooled over each clade.",
    )
