"""Parent selection ``cmp``: the Huxley-Gödel Machine's clade-metaproductivity rule.

A node's clade is the node and all its descendants. Every task outcome evaluated anywhere in
the clade is pooled: ``s`` passes and ``f`` failures. Each parent draw samples, for every
selectable node, ``theta ~ Beta(prior + s, prior + f)`` and picks the node with the largest
sample (Thompson sampling), so clades whose descendants keep doing well are expanded more, and
unexplored ones still get tried.

With an archive that lists what was added (``summaries_since``), the pooled outcomes are kept
as variants arrive (:class:`CladeIndex`: a new variant's own counts are added along its
ancestor chain, O(depth) per variant, depth at most the run's generations and a few in practice)
and the open parents come from a :class:`~.selection_index.SelectionIndex`; no variant is decoded.
A draw still samples one Beta per open parent (O(N) per draw, by the rule's definition: the
same samples in the same order as the scan, so the same picks seed for seed); :func:`thompson`
takes them with :meth:`random.Random.betavariate`'s arithmetic and random numbers exactly, its
per-shape constants computed once per shape instead of once per sample (about 2x faster; any
other sampler, or fewer samples, would change the seed-to-parent mapping).
"""

from __future__ import annotations

import math
import random
from typing import Any, Sequence

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import ArchiveView, hookimpl

from .exhaustion import open_parents
from .selection_index import SelectionIndex


_LOG4, _SG_MAGIC, _E = math.log(4.0), 1.0 + math.log(4.5), math.e  # as in the random module
Shape = tuple[float, ...]


def _shape(alpha: float) -> Shape:
    """``gammavariate(alpha, 1)``'s constants: (1, alpha, ainv, bbb, ccc) for Cheng's method
    (alpha > 1), (0,) for the exponential (alpha = 1), (-1, alpha, b, 1 / alpha, alpha - 1) for
    Kennedy & Gentle's GS (alpha < 1)."""
    if alpha > 1.0:
        ainv = math.sqrt(2.0 * alpha - 1.0)
        return (1.0, alpha, ainv, alpha - _LOG4, alpha + ainv)
    if alpha == 1.0:
        return (0.0,)
    return (-1.0, alpha, (_E + alpha) / _E, 1.0 / alpha, alpha - 1.0)


def thompson(rng: random.Random, params: Sequence[tuple[float, float]], n: int) -> list[int]:
    """``n`` times, the index of the largest of one ``rng.betavariate(a, b)`` per ``(a, b)`` in
    ``params`` (the first on ties): the same random numbers and the same floats as calling it."""
    if type(rng).betavariate is not random.Random.betavariate or \
            type(rng).gammavariate is not random.Random.gammavariate:  # a custom sampler: its own
        picks = []
        for _ in range(n):
            thetas = [rng.betavariate(a, b) for a, b in params]
            picks.append(thetas.index(max(thetas)))  # the first largest, as the loop below
        return picks
    uniform, log, exp = rng.random, math.log, math.exp
    cache: dict[float, Shape] = {}
    shapes = [(cache.get(a) or cache.setdefault(a, _shape(a)), cache.get(b) or cache.setdefault(b, _shape(b)))
              for a, b in params]

    def gamma(c: Shape) -> float:
        if c[0] > 0.0:
            _, alpha, ainv, bbb, ccc = c
            while True:
                u1 = uniform()
                if not 1e-7 < u1 < 0.9999999:
                    continue
                u2 = 1.0 - uniform()
                v = log(u1 / (1.0 - u1)) / ainv
                x = alpha * exp(v)
                z = u1 * u1 * u2
                r = bbb + ccc * v - x
                if r + _SG_MAGIC - 4.5 * z >= 0.0 or r >= log(z):
                    return x
        if c[0] == 0.0:
            return -log(1.0 - uniform())
        _, alpha, b, inverse, less = c
        while True:
            u = uniform()
            p = b * u
            x = p ** inverse if p <= 1.0 else -log((b - p) / alpha)
            u1 = uniform()
            if p > 1.0:
                if u1 <= x ** less:
                    break
            elif u1 <= exp(-x):
                break
        return x

    chosen = []
    for _ in range(n):
        best, best_theta = 0, -1.0
        for k, (a, b) in enumerate(shapes):
            y = gamma(a)
            theta = y / (y + gamma(b)) if y else 0.0
            if theta > best_theta:
                best, best_theta = k, theta
        chosen.append(best)
    return chosen


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

    def sync(self, archive: Any) -> bool:
        since = getattr(archive, "summaries_since", None)
        if since is None:
            return False
        key = (archive, getattr(archive, "epoch", 0))
        if key != self._key:
            self.__init__()  # type: ignore[misc]
            self._key = key
        new = since(self.seen)
        self.seen += len(new)
        pooled, parents = self.pooled, self.parent
        for summary in new:
            vid, parent = summary.id, summary.parent_id
            passed, failed = summary.passed, summary.evaluated - summary.passed
            if vid in self.awaited or (parent is not None and parent >= vid):
                self.ordered = False
            pooled[vid], parents[vid] = [passed, failed], parent
            if parent is not None and parent not in pooled:
                self.awaited.add(parent)
            while parent is not None and parent in pooled:
                counts = pooled[parent]
                counts[0] += passed
                counts[1] += failed
                parent = parents[parent]
        return self.ordered


class CladeMetaproductivity:
    """Thompson sampling over clade task outcomes."""

    def __init__(self, prior: float = 1.0) -> None:
        self.prior = prior
        self.clades = CladeIndex()
        self.index = SelectionIndex(lambda v, children: 1.0)

    def select(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        if self.clades.sync(archive) and self.index.sync(archive):
            index = self.index
            pool = index.pool()
            if not pool.open:
                raise ValueError("no selectable parent in the archive")
            member = pool.counts.values
            ids = [vid for vid, m in zip(index.ids, member) if m > 0]
            pooled = self.clades.pooled
            params = [(self.prior + pooled[vid][0], self.prior + pooled[vid][1]) for vid in ids]
        else:
            items = open_parents(archive)
            if not items:
                raise ValueError("no selectable parent in the archive")
            outcomes = clade_outcomes(archive)
            ids = [v.id for v in items]
            params = [(self.prior + outcomes[vid][0], self.prior + outcomes[vid][1]) for vid in ids]
        return [ids[k] for k in thompson(rng, params, n)]


@hookimpl
def darwin_register_selectors(registry: Any) -> None:
    registry.add(
        "cmp",
        lambda o, c: CladeMetaproductivity(o.prior),
        options=CMPOptions,
        description="HGM: Thompson sampling from Beta(1 + passes, 1 + failures) pooled over each clade.",
    )
