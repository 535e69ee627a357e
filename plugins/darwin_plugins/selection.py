"""Parent-selection strategies.

``score_child_prop`` is DGM's rule exactly: s_i = sigmoid(10 (score_i - 0.5)),
h_i = 1 / (1 + children_i), p_i proportional to s_i h_i, drawn with replacement.
``score_child_prop_mad`` replaces the fixed 0.5 and 10 by the archive's median and MAD
(ShinkaEvolve's scale-robust form; :mod:`.mad_selection`). ``best`` takes the best (highest score, earliest on ties);
``latest`` is DGM's no-archive baseline. ``map_elites`` (:mod:`.map_elites`) and ``islands``
(:mod:`.islands`) keep a diverse population. Every rule skips exhausted parents
(:mod:`.exhaustion`).

Objectives: every rule ranks by the archive's *fitness* (the score oriented so that higher is
better: the score itself, or minus it when the objective minimises). DGM's sigmoid and
``score_prop`` assume an accuracy in [0, 1]; for any other objective (a metric, a weighted sum,
a minimised value) they use the **rank-normalised** fitness instead: (rank - 1) / (n - 1), the
worst selectable variant 0 and the best 1, ties sharing their mean rank. The MAD rule is
scale-free already and uses the fitness as is.
"""

from __future__ import annotations

import random
from typing import Any, Sequence

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import ArchiveView, Variant, hookimpl

from .exhaustion import open_parents, remaining
from .fitness import fitness_of
from .islands import Islands, IslandsOptions
from .mad_selection import ScoreChildPropMAD, sigmoid, weighted_draw
from .map_elites import MapElites, MapElitesOptions
from .selection_index import SelectionIndex


def _fitness(archive: ArchiveView, items: Sequence[Variant]) -> list[float]:
    fitness = fitness_of(archive)
    return [fitness(v) for v in items]


def _unit(archive: ArchiveView, items: Sequence[Variant]) -> list[float]:
    """Scores in [0, 1] for rules built for accuracies: the scores themselves under the default
    objective, else the rank-normalised fitness (ties share their mean rank)."""
    objective = getattr(archive, "objective", None)
    if objective is None or objective.unit_interval:
        return [v.score for v in items]
    fitness = _fitness(archive, items)
    if len(items) == 1:
        return [1.0]
    ordered = sorted(range(len(items)), key=lambda i: fitness[i])
    ranks = [0.0] * len(items)
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and fitness[ordered[end + 1]] == fitness[ordered[start]]:
            end += 1
        for k in range(start, end + 1):
            ranks[ordered[k]] = (start + end) / 2 / (len(items) - 1)
        start = end + 1
    return ranks


def _unit_scores(archive: ArchiveView) -> bool:
    """Whether the scores are accuracies to maximise, which DGM's weights assume (always, unless
    the archive names another objective); rules built on them index only then."""
    objective = getattr(archive, "objective", None)
    return objective is None or bool(getattr(objective, "unit_interval", False))


def _draw(rng: random.Random, items: Sequence[Variant], weights: Sequence[float], n: int) -> list[str]:
    if not items:
        raise ValueError("no selectable parent in the archive")
    return [v.id for v in weighted_draw(rng, list(items), list(weights), n)]


class ScoreChildProp:
    """DGM's ``score_child_prop``."""

    def __init__(self, steepness: float = 10.0, midpoint: float = 0.5) -> None:
        self.steepness, self.midpoint = steepness, midpoint
        self.index = SelectionIndex(
            lambda v, children: sigmoid(self.steepness * (v.score - self.midpoint)) / (1 + children))

    def select(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        if _unit_scores(archive) and self.index.sync(archive):
            return self.index.draw(rng, n)
        items = open_parents(archive)
        weights = [
            sigmoid(self.steepness * (s - self.midpoint)) / (1 + len(archive.children(v.id)))
            for v, s in zip(items, _unit(archive, items))
        ]
        return _draw(rng, items, weights, n)


class ScoreProp:
    """p_i proportional to score_i (uniform when all scores are 0)."""

    def __init__(self) -> None:
        self.index = SelectionIndex(lambda v, children: max(v.score, 0.0))

    def select(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        if _unit_scores(archive) and self.index.sync(archive):
            return self.index.draw(rng, n)
        items = open_parents(archive)
        return _draw(rng, items, [max(s, 0.0) for s in _unit(archive, items)], n)


class Best:
    """Always the best-scoring variant (the earliest among equals).

    With ``backtrack = f > 0`` a share ``f`` of each generation's draws goes to the best's open
    ancestors instead (its parent, then further up, in turn): a climb onto a partial fix that
    games the tests does not abandon the walk of the neighbourhoods it came from, where the real
    fix may be a single edit away."""

    def __init__(self, backtrack: float = 0.0, patience: int = 0) -> None:
        self.backtrack, self.patience = backtrack, patience
        self.index = SelectionIndex(lambda v, children: 1.0, ranked=True)

    def select(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        if self.index.sync(archive):
            index = self.index
            if not index.ranked_all:
                raise ValueError("no selectable parent in the archive")
            best_id = (index.ranked_open or index.ranked_all)[0][1]
            back = self._indexed_ancestor_draws(archive, best_id, n)
            return _interleave(self._from_index(n - len(back)), back, n)
        items = open_parents(archive)
        if not items:
            raise ValueError("no selectable parent in the archive")
        fitness = dict(zip((v.id for v in items), _fitness(archive, items)))
        ranked = sorted(items, key=lambda v: -fitness[v.id])  # stable: the earliest among equals first
        back = self._ancestor_draws(archive, ranked[0], n)
        picks: list[str] = []
        want = n - len(back)
        for v in ranked:  # the best, then the next ones once its known neighbourhood is used up
            left = remaining(archive, v)
            take = want - len(picks) if left is None else min(left, want - len(picks))
            picks += [v.id] * take
            if len(picks) == want:
                break
        picks += [ranked[0].id] * (want - len(picks))
        return _interleave(picks, back, n)

    def _ancestor_draws(self, archive: ArchiveView, best: Variant, n: int) -> list[str]:
        if self.backtrack <= 0 or best.parent_id is None or len(archive.children(best.id)) < self.patience:
            return []
        selectable = {v.id for v in archive.selectable()}  # an island's pool, with islands
        chain: list[Variant] = []
        parent_id = best.parent_id
        while parent_id is not None:
            try:
                parent = archive.get(parent_id)
            except KeyError:
                break
            if parent.id in selectable:
                chain.append(parent)
            parent_id = parent.parent_id
        return self._spread(int(n * self.backtrack + 1e-9), {v.id: remaining(archive, v) for v in chain})

    def _indexed_ancestor_draws(self, archive: ArchiveView, best_id: str, n: int) -> list[str]:
        """:meth:`_ancestor_draws` from the index: O(depth), no variant decoded (the ancestors'
        parents, membership and remaining neighbourhoods are the index's)."""
        index = self.index
        best = index.summaries[best_id]
        if self.backtrack <= 0 or best.parent_id is None or index.children.get(best_id, 0) < self.patience:
            return []
        budget: dict[str, int | None] = {}
        parent_id = best.parent_id
        while parent_id is not None:
            summary = index.summaries.get(parent_id)  # accepted ones; others read from the archive
            if summary is None:
                try:
                    summary = archive.get(parent_id)
                except KeyError:
                    break
            elif index.selectable(parent_id):
                budget[parent_id] = index.remaining(parent_id)
            parent_id = summary.parent_id
        return self._spread(int(n * self.backtrack + 1e-9), budget)

    @staticmethod
    def _spread(count: int, budget: dict[str, int | None]) -> list[str]:
        """``count`` draws over the chain ``budget`` (id -> remaining, nearest first), one each
        in turn, a parent dropped once its known neighbourhood is used up."""
        chain = list(budget)
        draws: list[str] = []
        while len(draws) < count and chain:
            for vid in list(chain):  # nearest first, one draw each in turn
                left = budget[vid]
                if left is not None and left <= 0:
                    chain.remove(vid)
                    continue
                draws.append(vid)
                budget[vid] = None if left is None else left - 1
                if len(draws) == count:
                    break
        return draws

    def _from_index(self, n: int) -> list[str]:
        index = self.index
        if not index.ranked_all:
            raise ValueError("no selectable parent in the archive")
        if not index.ranked_open:  # every one exhausted: the scan ends on the best
            return [index.ranked_all[0][1]] * n
        picks: list[str] = []
        for _, variant_id in index.ranked_open:
            left = index.remaining(variant_id)
            picks += [variant_id] * (n - len(picks) if left is None else min(left, n - len(picks)))
            if len(picks) == n:
                return picks
        return picks + [index.ranked_open[0][1]] * (n - len(picks))


def _interleave(main: list[str], back: list[str], n: int) -> list[str]:
    """``back`` spread evenly among ``main`` (draw ``j`` is a backtrack draw when its share ticks)."""
    if not back:
        return main
    out: list[str] = []
    share = len(back) / n
    mi = bi = 0
    for j in range(n):
        if bi < len(back) and int((j + 1) * share + 1e-9) > bi:
            out.append(back[bi])
            bi += 1
        else:
            out.append(main[mi])
            mi += 1
    return out


class Uniform:
    """Uniformly at random among selectable variants."""

    def __init__(self) -> None:
        self.index = SelectionIndex(lambda v, children: 1.0)

    def select(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        if self.index.sync(archive):
            return self.index.draw(rng, n)
        items = open_parents(archive)
        return _draw(rng, items, [1.0] * len(items), n)


class Latest:
    """The most recent selectable variant (DGM's "no archive" baseline)."""

    def __init__(self) -> None:
        self.index = SelectionIndex(lambda v, children: 1.0)

    def select(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        if self.index.sync(archive):
            return [self.index.last()] * n
        items = open_parents(archive)
        if not items:
            raise ValueError("no selectable parent in the archive")
        return [items[-1].id] * n


class ScoreChildPropOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steepness: float = Field(10.0, gt=0)
    midpoint: float = 0.5


class MADOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steepness: float = Field(1.0, gt=0)


class BestOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    backtrack: float = Field(0.5, ge=0.0, lt=1.0)
    """Share of each generation's draws given to the best's open ancestors (0: pure greedy; 0.5
    repaired the most programs of benchmarks/bench_repair.py, see docs/search.md)."""
    patience: int = Field(0, ge=0)
    """Children the best must have had (none better) before its ancestors get draws."""


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


@hookimpl
def darwin_register_selectors(registry: Any) -> None:
    registry.add(
        "score_child_prop",
        lambda o, c: ScoreChildProp(o.steepness, o.midpoint),
        options=ScoreChildPropOptions,
        description="DGM: sigmoid(10 (score - 0.5)) / (1 + children), with replacement.",
    )
    registry.add(
        "score_child_prop_mad",
        lambda o, c: ScoreChildPropMAD(o.steepness),
        options=MADOptions,
        description="Scale-robust DGM rule: sigmoid((score - median) / MAD) / (1 + children).",
    )
    registry.add("score_prop", lambda o, c: ScoreProp(), options=NoOptions,
                 description="Proportional to score.")
    registry.add("best", lambda o, c: Best(o.backtrack, o.patience), options=BestOptions,
                 description="The best-scoring variant (earliest on ties); a share of draws (backtrack) to its ancestors.")
    registry.add("random", lambda o, c: Uniform(), options=NoOptions,
                 description="Uniform over selectable variants.")
    registry.add("latest", lambda o, c: Latest(), options=NoOptions,
                 description="The newest variant (DGM's no-archive baseline).")
    registry.add("map_elites", lambda o, c: MapElites(o), options=MapElitesOptions,
                 description="MAP-Elites: an elite per cell of a feature grid; exploit the best or explore the grid.")
    registry.add("islands", _islands, options=IslandsOptions,
                 description="Sub-populations by lineage, each with its own rule; ring migration every K generations.")


def _islands(options: IslandsOptions, context: Any) -> Islands:
    from .cmp_selection import CladeMetaproductivity

    made: dict[str, Any] = {
        "best": lambda: Best(0.0), "score_child_prop": ScoreChildProp, "score_child_prop_mad": ScoreChildPropMAD,
        "score_prop": ScoreProp, "random": Uniform, "latest": Latest, "cmp": CladeMetaproductivity,
    }
    # one rule per island (each keeps its own index of its island's pool), in the cycled order
    rules = options.rules
    return Islands(options, [made[rules[i % len(rules)]]() for i in range(options.islands)])
