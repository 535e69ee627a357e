"""Parent selection ``cmp``: the Huxley-Gödel Machine's clade-metaproductivity rule.

A node's clade is the node and all its descendants. Every task outcome evaluated anywhere in
the clade is pooled: ``s`` passes and ``f`` failures. Each parent draw samples, for every
selectable node, ``theta ~ Beta(prior + s, prior + f)`` and picks the node with the largest
sample (Thompson sampling), so clades whose descendants keep doing well are expanded more, and
unexplored ones still get tried.

A draw is :func:`.thompson_pruned.pruned_thompson`: the open parents grouped by shape
``(prior + s, prior + f)`` (equal shapes are exchangeable: one draw of the group's maximum, then
a uniform member), the groups in blocks of similar ``a + b``, and most groups never drawn: a
dominating Beta shows, by coupling, that the rest of a block lies below the best draw so far.
The pick has the law of one independent Beta per parent exactly; a draw costs about one CDF
evaluation per block plus the few groups drawn (O(log N) in practice; docs/performance.md).

With an archive that lists what was added (``summaries_since``), the pooled outcomes are kept
as variants arrive (:class:`CladeIndex`: a new variant's own counts are added along its
ancestor chain, O(depth) per variant, depth at most the run's generations and a few in practice),
the open parents come from a :class:`~.selection_index.SelectionIndex` and the groups are moved
for the variants touched (:class:`.thompson.Groups`); no variant is decoded. The scan (an
archive without ``summaries_since``) builds the same groups, so both pick the same parents seed
for seed. The picks differ from those of sessions before the groups (one Beta per parent in id
order, the same law): a run from then resumes with the groups' picks.
"""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import ArchiveView, hookimpl

from .exhaustion import open_parents
from .selection_index import SelectionIndex
from .thompson import Groups, Shape
from .thompson_pruned import Plan, blocks, pruned_thompson


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


class CladeIndex:
    """:func:`clade_outcomes` kept from ``archive.summaries_since``: each new variant's
    ``(passed, evaluated - passed)`` is added to it and to each ancestor present. The scan sums
    children into parents in reverse id order; when a variant's parent comes after it in id
    order, or arrives after it, the two could differ, and :meth:`sync` says it cannot follow."""

    def __init__(self) -> None:
        self._key: Any = None
        self.pooled: dict[str, list[int]] = {}
        self.parent: dict[str, str | None] = {}
        self.awaited: set[str] = set()  # parents named by a variant before they arrived
        self.seen, self.ordered = 0, True
        self.touched: set[str] = set()  # ids whose counts, children or exhaustion moved (the caller clears it)
        self.fresh = True  # rebuilt from nothing at the last sync
    def sync(self, archive: Any) -> bool:
        since = getattr(archive, "summaries_since", None)
        if since is None:
            return False
        key = (archive, getattr(archive, "epoch", 0))
        if key != self._key:
            self.__init__()  # type: ignore[misc]
            self._key = key
        else:
            self.fresh = False
        new = since(self.seen)
        self.seen += len(new)
        pooled, parents = self.pooled, self.parent
        for summary in new:
            vid, parent = summary.id, summary.parent_id
            passed, failed = summary.passed, summary.evaluated - summary.passed
            if vid in self.awaited or (parent is not None and parent >= vid):
                self.ordered = False
            pooled[vid], parents[vid] = [passed, failed], parent
            self.touched.add(vid)
            if parent is not None:
                self.touched.add(parent)  # its children and exhaustion moved
                if parent not in pooled:
                    self.awaited.add(parent)
            while parent is not None and parent in pooled:
                self.touched.add(parent)
                counts = pooled[parent]
                counts[0] += passed
                counts[1] += failed
                parent = parents[parent]
        return self.ordered


class CladeMetaproductivity:
    """Thompson sampling over clade task outcomes, one draw per group of equal Beta shape."""

    def __init__(self, prior: float = 1.0) -> None:
        self.prior = prior
        self.clades = CladeIndex()
        self.index = SelectionIndex(lambda v, children: 1.0)
        self.open, self.all = Groups(), Groups()  # the index's two pools, by shape
        self.open_plan, self.all_plan = Plan(), Plan()
        self.admitted = 0

    def select(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        if self.clades.sync(archive) and self.index.sync(archive):
            self._follow(archive)
            groups, plan = (self.open, self.open_plan) if self.index.open_pool.open else (self.all, self.all_plan)
            if not len(groups):
                raise ValueError("no selectable parent in the archive")
            return pruned_thompson(rng, groups, plan.update(groups), n)
        else:
            items = open_parents(archive)
            if not items:
                raise ValueError("no selectable parent in the archive")
            outcomes = clade_outcomes(archive)
            groups = Groups((v.id, self._shape(*outcomes[v.id])) for v in items)
        return pruned_thompson(rng, groups, blocks(groups), n)

    def _shape(self, passed: int, failed: int) -> Shape:
        return (self.prior + passed, self.prior + failed)

    def _follow(self, archive: Any) -> None:
        """Bring the groups to the index: every variant whose counts or pool membership may have
        moved since the last call (all of them after a reset)."""
        clades, index = self.clades, self.index
        if clades.fresh:
            self.open, self.all, self.admitted = Groups(), Groups(), 0
            self.open_plan, self.all_plan = Plan(), Plan()
            touched: Any = index.ids
        else:
            touched = clades.touched
        admitted = getattr(archive, "admitted_since", None)
        if admitted is not None:  # an island's pool: ids that joined it
            joined = admitted(self.admitted)
            self.admitted += len(joined)
            touched = set(touched) | set(joined)
        in_open, in_all = index.open_pool.counts.values, index.all_pool.counts.values
        for vid in touched:
            at = index.position.get(vid)
            if at is None:
                continue  # not accepted
            shape = self._shape(*clades.pooled[vid])
            self.open.put(vid, shape if in_open[at] > 0 else None)
            self.all.put(vid, shape if in_all[at] > 0 else None)
        clades.touched = set()


@hookimpl
def darwin_register_selectors(registry: Any) -> None:
    registry.add(
        "cmp",
        lambda o, c: CladeMetaproductivity(o.prior),
        options=CMPOptions,
        description="HGM: Thompson sampling from Beta(1 + passes, 1 + failures) pooled over each clade.",
    )
