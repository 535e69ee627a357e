"""``score_child_prop_mad``: sigmoid(lambda (fitness - median) / MAD) / (1 + children).

Every weight moves with the median and the MAD, so the rule is drawn by rejection (exactly, see
:class:`ScoreChildPropMAD`): the proposal ``1 / (1 + children)`` does not depend on them and is
kept in a :class:`~.selection_index.SelectionIndex`'s Fenwick trees, the acceptance probability
``sigmoid(...)`` is computed for the proposed parent only. With an archive that lists what was
added (``summaries_since``) the median is read off the index's fitness ranking in O(1) and the MAD
(the median of the absolute deviations) by a binary search over the two sorted runs of deviations
either side of the median in O(log N): a draw costs O(log N) per proposal, whether the scores
are continuous or on a few levels. Expected proposals per draw: the mean of ``1 / (1 + children)``
over the pool divided by the mean of the weights, 2-4 in practice (at least half the pool sits
at or above the median, where the acceptance is >= 1/2).

Seed for seed, the scan (an archive without ``summaries_since``) makes the same proposals and
decisions by cumulative sums in id order, so the two draw the same parents up to the Fenwick
trees' rounding (see :mod:`.selection_index`). The picks differ from those of sessions before
the rejection draw (one ``rng.random()`` per draw through the full weights): the law is the same.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import statistics
from typing import Callable, TypeVar

from darwin_hookspecs import ArchiveView

from .exhaustion import open_parents
from .fitness import fitness_of
from .selection_index import SelectionIndex

T = TypeVar("T")

TRIALS = 64
"""Rejected proposals in a row after which a draw is made from the full weights in one pass."""


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def weighted_draw(rng: random.Random, items: list[T], weights: list[float], n: int) -> list[T]:
    """``n`` draws with replacement by ``weights``; uniform when they sum to <= 0 or one is not
    finite (the DGM rules' fallback)."""
    if sum(weights) <= 0 or not all(math.isfinite(w) for w in weights):
        weights = [1.0] * len(items)
    return rng.choices(items, weights=weights, k=n)


def mad_weight(fitness: float, children: int, median: float, mad: float, steepness: float) -> float:
    """DGM's weight: the sigmoid of the fitness's distance from the median in MADs, shared among
    the children already drawn from it."""
    return sigmoid(steepness * (fitness - median) / mad) / (1 + children)


def kth_deviation(value: Callable[[int], float], size: int, median: float, k: int) -> float:
    """The ``k``-th smallest (0-based) of ``abs(value(i) - median)`` over ``i < size``, where
    ``value`` is ascending: the deviations below the split point run backwards, those above it
    forwards, each sorted; the answer is found by bisecting how many come from the lower run."""
    split = _split(value, size, median)
    lower, upper = split, size - split

    def low(j: int) -> float:  # j-th smallest deviation below the split
        return abs(value(split - 1 - j) - median)

    def high(j: int) -> float:
        return abs(value(split + j) - median)

    take = k + 1  # elements among the k+1 smallest
    lo, hi = max(0, take - upper), min(take, lower)
    while lo < hi:  # the least count from the lower run such that its next one is not needed
        i = (lo + hi) // 2
        if low(i) < high(take - i - 1):
            lo = i + 1
        else:
            hi = i
    i = lo
    j = take - i
    return max(low(i - 1) if i > 0 else -math.inf, high(j - 1) if j > 0 else -math.inf)


def _split(value: Callable[[int], float], size: int, median: float) -> int:
    lo, hi = 0, size  # the first index whose value is >= median
    while lo < hi:
        mid = (lo + hi) // 2
        if value(mid) < median:
            lo = mid + 1
        else:
            hi = mid
    return lo


def median_and_mad(value: Callable[[int], float], size: int) -> tuple[float, float]:
    """``statistics.median`` of the ascending ``value(i)`` and of their absolute deviations from
    it, without a pass over them (O(log N))."""
    half = size // 2
    if size % 2:
        median = value(half)
        return median, kth_deviation(value, size, median, half)
    median = (value(half - 1) + value(half)) / 2
    return median, (kth_deviation(value, size, median, half - 1) + kth_deviation(value, size, median, half)) / 2


class ScoreChildPropMAD:
    """sigmoid(lambda (score - median) / MAD) / (1 + children), drawn by rejection: a parent is
    proposed with probability proportional to ``1 / (1 + children)`` and accepted with probability
    ``sigmoid(lambda (score - median) / MAD)`` (in (0, 1)), so an accepted one is drawn with
    probability proportional to their product, the rule's weight, exactly. The proposal weights do
    not depend on the median, so they live in the index's Fenwick trees (one update per child);
    a draw costs O(log N) per proposal. After :data:`TRIALS` rejections in a row the draw is made
    by the full weights in one pass (the same law: each stage draws from it)."""

    def __init__(self, steepness: float = 1.0) -> None:
        self.steepness = steepness
        self.index = SelectionIndex(lambda summary, children: 1.0 / (1 + children), ranked=True)
        self.passes = 0  # draws that fell back to one pass over the pool (for tests and benchmarks)

    def select(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        index = self.index
        if index.sync(archive):
            ranked = index.ranked_open or index.ranked_all  # (-fitness, id), best first
            if not ranked:
                raise ValueError("no selectable parent in the archive")
            if not (index.nan_open if index.ranked_open else index.nan_all):  # NaN sorts apart
                size = len(ranked)
                median, mad = median_and_mad(lambda i: -ranked[size - 1 - i][0], size)
                mad = mad or 1e-6
                pool, summaries, fitness, ids = index.pool(), index.summaries, index.fitness, index.ids
                total = pool.weights.total()

                def propose() -> str:
                    return ids[pool.at(rng.random() * total)]

                return self._draw(rng, n, (median, mad), propose, lambda vid: fitness(summaries[vid]),
                                  lambda: self._weigh_open(median, mad))
        return self._scan(archive, n, rng)

    def _draw(self, rng: random.Random, n: int, params: tuple[float, float], propose: Callable[[], T],
              score: Callable[[T], float], weighed: Callable[[], tuple[list[T], list[float]]]) -> list[T]:
        median, mad = params
        if not (math.isfinite(median) and math.isfinite(mad)):  # a weight may be NaN: the one-pass rule
            return weighted_draw(rng, *weighed(), n)
        steepness, picks = self.steepness, []
        full: tuple[list[T], list[float]] | None = None
        for _ in range(n):
            for _ in range(TRIALS):
                pick = propose()
                # mad_weight's arithmetic, so the acceptance is the weight times (1 + children)
                if rng.random() < sigmoid(steepness * (score(pick) - median) / mad):
                    picks.append(pick)
                    break
            else:
                self.passes += 1
                full = full or weighed()
                picks += weighted_draw(rng, *full, 1)
        return picks

    def _weigh_open(self, median: float, mad: float) -> tuple[list[str], list[float]]:
        """The index's pool and the rule's weights (no variant read), O(N)."""
        index = self.index
        ids = [vid for vid, m in zip(index.ids, index.pool().counts.values) if m > 0]
        fitness, children, summaries, steep = index.fitness, index.children, index.summaries, self.steepness
        return ids, [mad_weight(fitness(summaries[vid]), children.get(vid, 0), median, mad, steep) for vid in ids]

    def _scan(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        """The same draws from the archive's variants (the proposal by cumulative sums in id order)."""
        items = open_parents(archive)
        if not items:
            raise ValueError("no selectable parent in the archive")
        fitness = fitness_of(archive)
        scores = {v.id: fitness(v) for v in items}
        children = {v.id: len(archive.children(v.id)) for v in items}
        ids = [v.id for v in items]
        median = statistics.median(scores.values())
        mad = statistics.median(abs(s - median) for s in scores.values()) or 1e-6
        nan = any(s != s for s in scores.values())  # then the one-pass rule: not every weight is finite
        cumulative = list(itertools.accumulate(1.0 / (1 + children[vid]) for vid in ids))
        total = cumulative[-1]

        def propose() -> str:
            return ids[min(bisect.bisect_right(cumulative, rng.random() * total), len(ids) - 1)]

        def weighed() -> tuple[list[str], list[float]]:
            return ids, [mad_weight(scores[vid], children[vid], median, mad, self.steepness) for vid in ids]

        return self._draw(rng, n, (math.nan if nan else median, mad), propose, scores.__getitem__, weighed)
