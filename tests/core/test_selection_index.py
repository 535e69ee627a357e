"""The incremental selection index draws what the scan draws, seed for seed."""

from __future__ import annotations

import math
import random

import pytest

from darwin_core.archive import Archive
from darwin_core.plugins import PluginManager
from darwin_hookspecs import BuildContext, Objective, TaskResult, Variant
from darwin_plugins.mad_selection import median_and_mad
from darwin_plugins.selection_index import Fenwick
from darwin_plugins.thompson import beta_sampler

STRATEGIES = ("score_child_prop", "score_prop", "random", "best", "latest", "map_elites", "islands",
              "score_child_prop_mad", "cmp")


class ScanOnly:
    """The same archive without the incremental API: the strategies scan it."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def variants(self) -> list[Variant]:
        return self.archive.variants()

    def selectable(self) -> list[Variant]:
        return self.archive.selectable()

    def children(self, variant_id: str) -> list[Variant]:
        return self.archive.children(variant_id)

    def get(self, variant_id: str) -> Variant:
        return self.archive.get(variant_id)

    def lineage(self, variant_id: str) -> list[str]:
        return self.archive.lineage(variant_id)

    @property
    def objective(self) -> Objective:
        return self.archive.objective


def strategy(name: str, **options: object):
    return PluginManager().create("selection", name, options, BuildContext())


def grow(archive: Archive, rng: random.Random, generation: int, width: int, zero_scores: bool) -> None:
    """One generation of children of random selectable parents: random statuses and scores,
    some parents' neighbourhoods known (and used up) or flagged exhausted."""
    parents = [v.id for v in archive.selectable()] or [archive.root.id]
    order = list(range(width))
    rng.shuffle(order)  # completion order differs from id order
    for i in order:
        parent = rng.choice(parents)
        meta: dict = {}
        if rng.random() < 0.15:
            meta["neighbourhood"] = rng.randint(1, 4)
        if rng.random() < 0.05:
            meta["exhausted"] = True
        if rng.random() < 0.3:
            meta["edits"] = ["e"] * rng.randint(1, 3)
        results = {t: TaskResult(task_id=t, passed=rng.random() < 0.5, score=1.0) for t in ("t1", "t2")}
        archive.add(Variant(
            id=f"v{generation:04d}a{i:03d}", parent_id=parent, generation=generation,
            status=rng.choice(["accepted", "accepted", "rejected", "invalid", "error"]),
            score=0.0 if zero_scores else round(rng.random(), rng.choice([1, 3, 6])), metadata=meta,
            task_results=results))


@pytest.mark.parametrize("direction", ["maximise", "minimise"])
@pytest.mark.parametrize("name", STRATEGIES)
@pytest.mark.parametrize("seed", range(6))
def test_index_draws_what_the_scan_draws(name: str, seed: int, direction: str) -> None:
    rng = random.Random(seed)
    archive = Archive(objective=Objective(direction=direction))
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=0.3))
    fast, scan = strategy(name), strategy(name)
    for generation in range(1, 40):
        grow(archive, rng, generation, rng.randint(1, 6), zero_scores=seed == 5)
        n = rng.randint(1, 5)
        draw_seed = rng.randrange(2**32)
        got = fast.select(archive, n, random.Random(draw_seed))
        want = scan.select(ScanOnly(archive), n, random.Random(draw_seed))
        assert got == want, f"generation {generation}"


def test_index_follows_an_out_of_order_id_and_a_replaced_variant() -> None:
    archive = Archive()
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=0.3))
    archive.add(Variant(id="v0002a000", parent_id="v0000root", generation=2, status="accepted", score=0.9))
    fast, scan = strategy("score_child_prop"), strategy("score_child_prop")
    assert fast.select(archive, 8, random.Random(1)) == scan.select(ScanOnly(archive), 8, random.Random(1))
    archive.add(Variant(id="v0001a000", parent_id="v0000root", generation=1, status="accepted", score=0.7))
    assert fast.select(archive, 8, random.Random(2)) == scan.select(ScanOnly(archive), 8, random.Random(2))
    archive.replace(Variant(id="v0002a000", parent_id="v0000root", generation=2, status="rejected", score=0.9))
    picks = fast.select(archive, 50, random.Random(3))
    assert picks == scan.select(ScanOnly(archive), 50, random.Random(3)) and "v0002a000" not in picks


def test_fenwick_sums_and_search_match_bisect_on_prefix_sums() -> None:
    import bisect
    import itertools

    rng = random.Random(4)
    weights = [rng.choice([0.0, 1.0, rng.random()]) for _ in range(300)]
    tree = Fenwick(weights[:150])
    for w in weights[150:]:
        tree.append(w)
    for _ in range(200):
        i = rng.randrange(300)
        weights[i] = rng.random()
        tree.set(i, weights[i])
    sums = list(itertools.accumulate(weights))
    assert tree.total() == pytest.approx(sums[-1], rel=1e-12)
    for _ in range(2000):
        x = rng.random() * sums[-1]
        if min(abs(x - s) for s in sums) > 1e-9:  # away from a boundary, the order of addition cannot matter
            assert tree.find(x) == bisect.bisect_right(sums, x)


def test_fenwick_built_at_once_sums_as_appended() -> None:
    rng = random.Random(5)
    for size in (0, 1, 2, 7, 64, 65, 300):
        weights = [rng.choice([0.0, 1.0, rng.random()]) for _ in range(size)]
        built, appended = Fenwick.build(list(weights)), Fenwick(weights)
        assert built.total() == pytest.approx(appended.total(), rel=1e-12, abs=1e-12)
        for _ in range(50):
            x = rng.random() * appended.total()
            assert built.find(x) == appended.find(x) or min(
                abs(x - sum(weights[:k])) for k in range(size + 1)) < 1e-9


def test_median_and_mad_without_a_pass_are_the_statistics_module_s() -> None:
    import statistics

    rng = random.Random(6)
    for _ in range(400):
        size = rng.randint(1, 40)
        values = sorted(rng.choice([round(rng.random(), rng.choice([0, 1, 2, 6])), -rng.random() * 1e3])
                        for _ in range(size))
        median = statistics.median(values)
        assert median_and_mad(values.__getitem__, size) == (
            median, statistics.median(abs(v - median) for v in values))


def test_beta_sampler_draws_what_betavariate_draws() -> None:
    rng = random.Random(7)
    for prior in (1.0, 0.5, 0.3, 2.5):
        params = [(prior + rng.randint(0, 30), prior + rng.choice([0, 0, rng.randint(0, 30)])) for _ in range(60)]
        fast, slow = random.Random(prior), random.Random(prior)
        beta = beta_sampler(fast)
        for _ in range(25):
            assert [beta(a, b) for a, b in params] == [slow.betavariate(a, b) for a, b in params]
        assert fast.getstate() == slow.getstate()


@pytest.mark.parametrize("levels", [0, 3])
def test_mad_draws_make_no_pass_over_the_pool_with_continuous_or_levelled_scores(levels: int) -> None:
    """The rejection draw never weighs the whole pool (no reweigh, no one-pass fallback) while
    the median moves at every generation (continuous scores) or settles (three levels), and it
    stays the scan's, seed for seed."""
    rng = random.Random(8)
    archive = Archive()
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=0.5))
    fast, scan = strategy("score_child_prop_mad"), strategy("score_child_prop_mad")
    calls = []
    fast._weigh_open = lambda *a: calls.append(a)  # type: ignore[method-assign]
    fast.index.reweigh = lambda: calls.append(())  # type: ignore[method-assign]
    for generation in range(1, 120):
        parents = [v.id for v in archive.selectable()]
        for i in range(4):
            score = rng.choice([0.25, 0.5, 0.75]) if levels else rng.random()
            archive.add(Variant(id=f"v{generation:04d}a{i:03d}", parent_id=rng.choice(parents),
                                generation=generation, status="accepted", score=score))
        seed = rng.randrange(2**32)
        assert fast.select(archive, 4, random.Random(seed)) == scan.select(ScanOnly(archive), 4, random.Random(seed))
    assert calls == [] and fast.passes == 0


@pytest.mark.parametrize("direction", ["maximise", "minimise"])
@pytest.mark.parametrize("seed", range(4))
def test_inspirations_from_the_ranking_are_the_scans(seed: int, direction: str) -> None:
    from darwin_core.config import InspirationsSection
    from darwin_core.inspirations import choose

    rng = random.Random(seed)
    archive = Archive(objective=Objective(direction=direction))
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=0.3))
    for generation in range(1, 30):
        grow(archive, rng, generation, rng.randint(1, 6), zero_scores=seed == 3)
        options = InspirationsSection(count=rng.randint(1, 5), drawn=rng.randint(0, 3))
        for parent in rng.sample(archive.ids(), min(4, len(archive))):
            draw = rng.randrange(2**32)
            assert choose(archive, parent, options, random.Random(draw)) == choose(
                ScanOnly(archive), parent, options, random.Random(draw))


def test_inspirations_drawn_by_bisection_are_the_scans_in_a_large_archive() -> None:
    """Hundreds of variants over many lineages, some replaced (accepted <-> rejected): the
    drawn inspirations, found by bisection over the ranking and the parent's branch, are the
    ones the scan finds for the same seed, and every draw still differs from the walk's only in
    cost."""
    from darwin_core.config import InspirationsSection
    from darwin_core.inspirations import choose

    rng = random.Random(11)
    archive = Archive()
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=0.3))
    for generation in range(1, 80):
        grow(archive, rng, generation, rng.randint(3, 8), zero_scores=False)
        if generation % 9 == 0:
            victim = archive.get(rng.choice(archive.ids()[1:]))
            status = "rejected" if victim.status == "accepted" else "accepted"
            archive.replace(Variant(id=victim.id, parent_id=victim.parent_id, generation=victim.generation,
                                    status=status, score=victim.score))
    assert len(archive) > 300 and archive.ranked_in_branch(archive.branch(archive.ids()[-1])) is not None
    for parent in rng.sample(archive.ids(), 60):
        options = InspirationsSection(count=rng.randint(2, 6), drawn=rng.randint(1, 5))
        draw = rng.randrange(2**32)
        assert choose(archive, parent, options, random.Random(draw)) == choose(
            ScanOnly(archive), parent, options, random.Random(draw))


def test_inspirations_from_one_lineage_are_the_scans() -> None:
    """Every other variant in the parent's lineage (the root, the best, is taken first): the
    scan falls back to all the rest."""
    from darwin_core.config import InspirationsSection
    from darwin_core.inspirations import choose

    rng = random.Random(9)
    archive = Archive()
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=2.0))
    archive.add(Variant(id="v0001a000", parent_id="v0000root", generation=1, status="accepted", score=0.4))
    for generation in range(2, 20):
        for i in range(3):
            parent = rng.choice([i for i in archive.ids() if i != "v0000root"])
            archive.add(Variant(id=f"v{generation:04d}a{i:03d}", parent_id=parent, generation=generation,
                                status=rng.choice(["accepted", "rejected"]), score=rng.random()))
    options = InspirationsSection(count=4, drawn=2)
    for parent in archive.ids()[1:]:
        draw = rng.randrange(2**32)
        assert choose(archive, parent, options, random.Random(draw)) == choose(
            ScanOnly(archive), parent, options, random.Random(draw))


class Minimise:
    """An objective as the archive may name one (``darwin_hookspecs`` Objective's members)."""

    unit_interval = False

    def utility(self, score: float) -> float:
        return -score


def test_an_objective_orients_the_ranking_and_turns_accuracy_rules_to_the_scan() -> None:
    archive = Archive()
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=5.0))
    for i, score in enumerate([3.0, 9.0, 1.0, 1.0]):
        archive.add(Variant(id=f"v0001a{i:03d}", parent_id="v0000root", generation=1, status="accepted",
                            score=score))
    archive.objective = Minimise()  # type: ignore[attr-defined]
    assert strategy("best", backtrack=0.0).select(archive, 2, random.Random(0)) == ["v0001a002", "v0001a002"]  # lowest, earliest
    assert strategy("best").select(archive, 2, random.Random(0)) == ["v0001a002", "v0000root"]  # + its ancestor
    rule = strategy("score_child_prop")
    rule.select(archive, 3, random.Random(0))
    assert rule.index.seen == 0  # not indexed: its weights assume accuracies to maximise


def test_a_minimise_objective_set_after_the_variants_reranks_best_and_inspirations() -> None:
    from darwin_core.config import InspirationsSection
    from darwin_core.inspirations import choose

    archive = Archive()
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=5.0,
                        stage_reached=0))
    for i, score in enumerate([3.0, -9.0, 1.0, 7.0]):
        archive.add(Variant(id=f"v0001a{i:03d}", parent_id="v0000root", generation=1, status="accepted",
                            score=score, stage_reached=0))
    best = strategy("best")
    assert archive.best_id == "v0001a003"
    assert best.select(archive, 1, random.Random(0)) == ["v0001a003"]  # maximise: 7.0
    archive.set_objective(Objective(direction="minimise"))  # as a run's recorded objective is
    assert archive.best_id == "v0001a001"
    assert best.select(archive, 1, random.Random(0)) == ["v0001a001"]  # -9.0: lowest is best
    options = InspirationsSection(count=2, drawn=0)
    assert choose(archive, "v0000root", options, random.Random(0)) == ["v0001a001", "v0001a002"]
    assert choose(ScanOnly(archive), "v0000root", options, random.Random(0)) == ["v0001a001", "v0001a002"]


def test_a_nan_fitness_leaving_the_open_ranking_removes_only_itself() -> None:
    """A NaN key bisects to an arbitrary place: removing it must not drop another variant's entry."""
    from darwin_plugins.selection_index import SelectionIndex

    archive = Archive()
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=0.3))
    archive.add(Variant(id="v0001a000", parent_id="v0000root", generation=1, status="accepted", score=0.9))
    archive.add(Variant(id="v0001a001", parent_id="v0000root", generation=1, status="accepted", score=math.nan))
    index = SelectionIndex(lambda summary, children: 1.0, ranked=True)
    index.sync(archive)
    assert {vid for _, vid in index.ranked_open} == {"v0000root", "v0001a000", "v0001a001"}
    archive.add(Variant(id="v0002a000", parent_id="v0001a001", generation=2, status="rejected", score=0.0,
                        metadata={"neighbourhood": 1}))  # its parent's only edit: the NaN one is used up
    index.sync(archive)
    assert {vid for _, vid in index.ranked_open} == {"v0000root", "v0001a000"}
    assert index.nan_open == 0 and index.nan_all == 1


@pytest.mark.parametrize("name", ["cmp", "score_child_prop_mad"])
def test_a_resumed_strategy_draws_what_the_uninterrupted_one_draws(name: str) -> None:
    """A strategy that followed the archive generation by generation and a new one (a resume)
    pick the same parents for the same seed: the draws depend on the archive and the seed only."""
    rng = random.Random(12)
    archive = Archive()
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=0.3,
                        task_results={"t1": TaskResult(task_id="t1", passed=True, score=1.0)}))
    kept = strategy(name)
    for generation in range(1, 60):
        grow(archive, rng, generation, rng.randint(2, 6), zero_scores=False)
        seed = rng.randrange(2**32)
        picks = kept.select(archive, 5, random.Random(seed))
        if generation % 7 == 0:
            assert strategy(name).select(archive, 5, random.Random(seed)) == picks, generation
