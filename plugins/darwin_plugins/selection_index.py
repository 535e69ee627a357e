"""Incremental parent selection: the archive's selectable variants, child counts and exhaustion
kept up to date as variants are added, so a draw costs O(log N) instead of a scan.

The engine's archive offers ``summaries_since(count)`` (summaries of the variants added after
the first ``count``, each with ``id``, ``parent_id``, ``status``, ``score``, ``exhausted`` and
``neighbourhood``) and ``epoch`` (bumped when a held variant is replaced). A view of part of
the archive (an island, :mod:`.island_index`) also offers ``member(summary)`` (whether an
accepted variant is in its pool) and ``admitted_since(count)`` (ids that joined the pool later):
every accepted variant keeps its position in id order, weighed 0 while not a member. A
:class:`SelectionIndex` consumes the new summaries at each draw; an archive without them (an
island's pool, a test double) gets ``None`` and the strategy scans it as before.

Draws reproduce :func:`random.Random.choices` over the open parents in id order (the scan's
rule): one ``rng.random()`` per draw, mapped through the cumulative weights. Those are kept in
Fenwick trees, so a cumulative sum is added in another order than ``choices`` adds it: the
two can differ in the last bits, and a draw with it only when ``random()`` falls within about
1e-16 of a boundary between two parents.
"""

from __future__ import annotations

import bisect
import math
import random
from typing import Any, Callable

from .fitness import fitness_of


class Fenwick:
    """Prefix sums of a growing list of weights: append, update and search in O(log N)."""

    def __init__(self, weights: list[float] | None = None) -> None:
        self.values: list[float] = []
        self._tree: list[float] = [0.0]
        for w in weights or []:
            self.append(w)

    def __len__(self) -> int:
        return len(self.values)

    @classmethod
    def build(cls, weights: list[float]) -> "Fenwick":
        """A tree over ``weights`` in O(N) (each node passes its sum to its parent once)."""
        tree = cls()
        tree.values = weights
        nodes = [0.0, *weights]
        size = len(nodes)
        for i in range(1, size):
            up = i + (i & -i)
            if up < size:
                nodes[up] += nodes[i]
        tree._tree = nodes
        return tree

    def append(self, weight: float) -> None:
        self.values.append(weight)
        i = len(self.values)
        node, low, j = weight, i & -i, i - 1
        while j > i - low:  # the node covers (i - low, i]: add the nodes below it
            node += self._tree[j]
            j -= j & -j
        self._tree.append(node)

    def set(self, index: int, weight: float) -> None:
        delta = weight - self.values[index]
        self.values[index] = weight
        i = index + 1
        while i < len(self._tree):
            self._tree[i] += delta
            i += i & -i

    def total(self) -> float:
        total, i = 0.0, len(self.values)
        while i > 0:
            total += self._tree[i]
            i -= i & -i
        return total

    def find(self, x: float) -> int:
        """The first index whose prefix sum exceeds ``x`` (``bisect_right`` on the sums)."""
        pos, step = 0, 1 << len(self.values).bit_length()
        while step:
            nxt = pos + step
            if nxt < len(self._tree) and self._tree[nxt] <= x:
                pos = nxt
                x -= self._tree[nxt]
            step >>= 1
        return pos


class _Pool:
    """Weights of one population (the open parents, or every selectable one)."""

    def __init__(self) -> None:
        self.weights, self.counts = Fenwick(), Fenwick()
        self.open = 0
        self.nonfinite = 0
        self._bad: set[int] = set()

    def put(self, index: int, weight: float, member: bool) -> None:
        """Give position ``index`` (appended when new) ``weight``, or 0 if not a member."""
        weight = weight if member else 0.0
        count = 1.0 if member else 0.0
        bad = member and not math.isfinite(weight)
        if index == len(self.weights):
            self.weights.append(0.0 if bad else weight)
            self.counts.append(count)
            self.open += int(member)
            self.nonfinite += int(bad)
            if bad:
                self._bad.add(index)
            return
        was_member, was_bad = self.counts.values[index] > 0, index in self._bad
        self.open += int(member) - int(was_member)
        self.nonfinite += int(bad) - int(was_bad)
        (self._bad.add if bad else self._bad.discard)(index)
        self.weights.set(index, 0.0 if bad else weight)
        self.counts.set(index, count)

    def reweigh(self, weights: list[float]) -> None:
        """Every position's weight at once (0 where not a member), in O(N)."""
        member = self.counts.values
        kept = [w if m > 0 else 0.0 for w, m in zip(weights, member)]
        self._bad = {i for i, w in enumerate(kept) if not math.isfinite(w)}
        self.nonfinite = len(self._bad)
        for i in self._bad:
            kept[i] = 0.0
        self.weights = Fenwick.build(kept)

    def draw(self, rng: random.Random, n: int) -> list[int]:
        """``n`` positions, as ``rng.choices(members, weights, k=n)`` would pick them."""
        total = self.weights.total()
        if self.nonfinite or total <= 0:  # the scan's rule: uniform weights then
            return [self._nth(min(int(rng.random() * self.open), self.open - 1)) for _ in range(n)]
        return [self._clamp(self.weights.find(rng.random() * total)) for _ in range(n)]

    def at(self, x: float) -> int:
        """The member whose span of the cumulative weights (in id order) holds ``x``."""
        return self._clamp(self.weights.find(x))

    def _nth(self, k: int) -> int:
        return self.counts.find(float(k))

    def _clamp(self, index: int) -> int:
        # past the last sum (rounding): choices returns its last member
        return index if index < len(self.weights) and self.counts.values[index] > 0 else self._nth(self.open - 1)


Weight = Callable[[Any, int], float]
"""``(summary, children) -> weight`` of a selectable variant."""


class SelectionIndex:
    """Selectable variants in id order with their weights under one rule, child counts and
    exhaustion (:mod:`.exhaustion`'s rule), maintained from ``archive.summaries_since``."""

    def __init__(self, weight: Weight, ranked: bool = False) -> None:
        """``ranked``: also keep the selectable variants sorted by fitness, best first (ties in
        id order), as ``ranked_open`` / ``ranked_all`` lists of ``(-fitness, id)``. Fitness is
        :func:`.fitness.fitness_of` the archive (a minimised score ranks lower = better)."""
        self.weight = weight
        self.ranked = ranked
        self.fitness: Callable[[Any], float] = lambda v: v.score
        self._archive: Any = None
        self._member: Callable[[Any], bool] | None = None
        self._epoch: Any = None
        self._objective: Any = None
        self._reset()

    def _reset(self) -> None:
        self.seen = 0
        self.ids: list[str] = []  # selectable, in id order
        self.position: dict[str, int] = {}
        self.summaries: dict[str, Any] = {}
        self.children: dict[str, int] = {}
        self.flagged: set[str] = set()
        self.size: dict[str, int] = {}
        self.open_pool, self.all_pool = _Pool(), _Pool()
        self.ranked_open: list[tuple[float, str]] = []
        self.ranked_all: list[tuple[float, str]] = []
        self._is_open: dict[str, bool] = {}
        self.nan_open = self.nan_all = 0  # NaN fitnesses in the ranked lists (they sort apart)
        self.admitted = 0

    def sync(self, archive: Any) -> bool:
        """Take in what was added since the last call; ``False`` if ``archive`` cannot say."""
        since = getattr(archive, "summaries_since", None)
        if since is None:
            return False
        epoch, objective = getattr(archive, "epoch", 0), getattr(archive, "objective", None)
        if archive is not self._archive or epoch != self._epoch or objective is not self._objective:
            self._archive, self._epoch, self._objective = archive, epoch, objective
            self.fitness = fitness_of(archive)
            self._member = getattr(archive, "member", None)
            self._reset()
        new = since(self.seen)
        self.seen += len(new)
        rebuild = False
        for summary in new:
            rebuild |= self._take(summary, defer=rebuild)
        if rebuild:
            self._rebuild()
        admitted = getattr(archive, "admitted_since", None)
        if admitted is not None:
            joined = admitted(self.admitted)
            self.admitted += len(joined)
            for variant_id in joined:
                if variant_id in self.position:
                    self._place(variant_id)
        return True

    def remaining(self, variant_id: str) -> int | None:
        """:func:`.exhaustion.remaining` from the index."""
        if variant_id in self.flagged:
            return 0
        size = self.size.get(variant_id, 0)
        return max(size - self.children.get(variant_id, 0), 0) if size > 0 else None

    def selectable(self, variant_id: str) -> bool:
        """Whether ``variant_id`` is accepted and in the view's pool (``archive.selectable()``)."""
        summary = self.summaries.get(variant_id)
        return summary is not None and (self._member is None or self._member(summary))

    def exhausted(self, variant_id: str) -> bool:
        return self.remaining(variant_id) == 0

    def _take(self, summary: Any, defer: bool) -> bool:
        """Index one new variant; ``True`` if positions must be rebuilt (an id out of order)."""
        rebuild = False
        if summary.status == "accepted":
            self.summaries[summary.id] = summary
            if self.ids and summary.id < self.ids[-1]:
                bisect.insort(self.ids, summary.id)
                rebuild = True
            else:
                self.ids.append(summary.id)
                self.position[summary.id] = len(self.ids) - 1
                if not defer:
                    self._place(summary.id)
        parent = summary.parent_id
        if parent is not None:
            self.children[parent] = self.children.get(parent, 0) + 1
            if summary.exhausted:
                self.flagged.add(parent)
            if summary.neighbourhood and summary.neighbourhood > self.size.get(parent, 0):
                self.size[parent] = summary.neighbourhood
            if parent in self.position and not (defer or rebuild):
                self._place(parent)
        return rebuild

    def _place(self, variant_id: str) -> None:
        index = self.position[variant_id]
        summary = self.summaries[variant_id]
        member = self._member is None or self._member(summary)
        if not member and index < len(self.all_pool.weights):
            return  # outside the view's pool, and weighed 0 already
        weight = self.weight(summary, self.children.get(variant_id, 0))
        is_open = not self.exhausted(variant_id)
        self.all_pool.put(index, weight, member)
        self.open_pool.put(index, weight, is_open and member)
        if not self.ranked or not member:
            return
        was_open = self._is_open.get(variant_id)
        key = (-self.fitness(summary), variant_id)
        nan = key[0] != key[0]
        if was_open is None:
            bisect.insort(self.ranked_all, key)
            self.nan_all += nan
        if is_open and not was_open:
            bisect.insort(self.ranked_open, key)
            self.nan_open += nan
        elif was_open and not is_open:
            ranked, at = self.ranked_open, bisect.bisect_left(self.ranked_open, key)
            if nan:  # a NaN key bisects anywhere: found by id, never another variant's entry
                at = next(i for i, (_, vid) in enumerate(ranked) if vid == variant_id)
            del ranked[at]
            self.nan_open -= nan
        self._is_open[variant_id] = is_open

    def _rebuild(self) -> None:
        self.position = {variant_id: i for i, variant_id in enumerate(self.ids)}
        self.open_pool, self.all_pool = _Pool(), _Pool()
        self.ranked_open, self.ranked_all, self._is_open = [], [], {}
        self.nan_open = self.nan_all = 0
        for variant_id in self.ids:
            self._place(variant_id)

    def reweigh(self) -> None:
        """Recompute every weight (the rule's parameters changed), O(N)."""
        weight, children, summaries = self.weight, self.children, self.summaries
        weights = [weight(summaries[vid], children.get(vid, 0)) for vid in self.ids]
        self.all_pool.reweigh(weights)
        self.open_pool.reweigh(weights)

    def pool(self) -> _Pool:
        """The open parents, or every selectable variant if all are exhausted."""
        return self.open_pool if self.open_pool.open else self.all_pool

    def draw(self, rng: random.Random, n: int) -> list[str]:
        pool = self.pool()
        if not pool.open:
            raise ValueError("no selectable parent in the archive")
        return [self.ids[i] for i in pool.draw(rng, n)]

    def last(self) -> str:
        pool = self.pool()
        if not pool.open:
            raise ValueError("no selectable parent in the archive")
        return self.ids[pool._nth(pool.open - 1)]
