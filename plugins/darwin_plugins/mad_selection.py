"""``score_child_prop_mad``: sigmoid(lambda (fitness - median) / MAD) / (1 + children).

With an archive that lists what was added (``summaries_since``) the rule draws from a
:class:`~.selection_index.SelectionIndex` whose weights are this rule's under the current median
and MAD: the median is read off the index's fitness ranking in O(1), the MAD (the median of the
absolute deviations) by a binary search over the two sorted runs of deviations either side of the
median in O(log N). A selection whose median and MAD are the previous selection's draws from
the index's Fenwick trees of this rule's weights in O(log N) per draw (new variants and child
counts update them one by one; after a move they are recomputed once, O(N)); one whose median or
MAD moved weighs the open parents in one pass and draws as the scan does (O(N) per generation,
not per draw). With continuous scores the median moves at nearly every generation, so that case
stays O(N) per generation; with scores on a few levels (accuracies over a fixed task set) the
median and MAD settle and a draw is O(log N).

The picks are the scan's (:func:`random.Random.choices` over the open parents in id order, one
``rng.random()`` per draw), up to the Fenwick trees' rounding (see :mod:`.selection_index`).
"""

from __future__ import annotations

import math
import random
import statistics
from typing import Any, Callable, TypeVar

from darwin_hookspecs import ArchiveView

from .exhaustion import open_parents
from .fitness import fitness_of
from .selection_index import SelectionIndex

T = TypeVar("T")


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
    """sigmoid(lambda (score - median) / MAD) / (1 + children)."""

    def __init__(self, steepness: float = 1.0) -> None:
        self.steepness = steepness
        self._params: tuple[float, float] | None = None  # (median, mad) the index's weights use
        self._stale = True  # the index's weights predate the current parameters
        self.index = SelectionIndex(self._weight, ranked=True)

    def _weight(self, summary: Any, children: int) -> float:
        if self._params is None:
            return 1.0  # placeholder until the first median is known (then all are reweighed)
        return mad_weight(self.index.fitness(summary), children, *self._params, self.steepness)

    def select(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        index = self.index
        if index.sync(archive):
            ranked = index.ranked_open or index.ranked_all  # (-fitness, id), best first
            if not ranked:
                raise ValueError("no selectable parent in the archive")
            if not (index.nan_open if index.ranked_open else index.nan_all):  # NaN sorts apart
                size = len(ranked)
                median, mad = median_and_mad(lambda i: -ranked[size - 1 - i][0], size)
                params = (median, mad or 1e-6)
                if params != self._params:  # moved: one pass, as the scan
                    self._params, self._stale = params, True
                    return self._weigh_open(params, n, rng)
                if self._stale:
                    index.reweigh()
                    self._stale = False
                return index.draw(rng, n)
            self._params = None  # the index's weights are stale from here: recomputed next time
        return self._scan(archive, n, rng)

    def _weigh_open(self, params: tuple[float, float], n: int, rng: random.Random) -> list[str]:
        """The scan's draw over the index's open parents (no variant read), O(N)."""
        index = self.index
        median, mad = params
        ids = [vid for vid, m in zip(index.ids, index.pool().counts.values) if m > 0]
        fitness, children, summaries, steep = index.fitness, index.children, index.summaries, self.steepness
        weights = [mad_weight(fitness(summaries[vid]), children.get(vid, 0), median, mad, steep) for vid in ids]
        return weighted_draw(rng, ids, weights, n)

    def _scan(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        items = open_parents(archive)
        if not items:
            raise ValueError("no selectable parent in the archive")
        fitness = fitness_of(archive)
        scores = [fitness(v) for v in items]
        median = statistics.median(scores)
        mad = statistics.median(abs(s - median) for s in scores) or 1e-6
        weights = [mad_weight(s, len(archive.children(v.id)), median, mad, self.steepness)
                   for v, s in zip(items, scores)]
        return [v.id for v in weighted_draw(rng, list(items), weights, n)]
