"""The sublinear draws of ``score_child_prop_mad`` (rejection) and ``cmp`` (one draw per group of
equal Beta shapes) follow their rules' laws exactly: chi-square tests with fixed seeds against
the rule's probabilities (MAD) or against independent Thompson draws over every variant (cmp),
and the same tests reject a deliberately wrong law (so the tolerance has power)."""

from __future__ import annotations

import functools
import math
import random
import statistics
from collections import Counter

import pytest

from darwin_core.archive import Archive
from darwin_core.plugins import PluginManager
from darwin_hookspecs import BuildContext, TaskResult, Variant

Z = 3.719  # one-sided normal quantile of 1e-4: a right law fails about once in 10 000 cells' tests


def critical(df: int) -> float:
    """The chi-square quantile 1 - 1e-4 with ``df`` degrees of freedom (Wilson-Hilferty)."""
    return df * (1 - 2 / (9 * df) + Z * math.sqrt(2 / (9 * df))) ** 3


def goodness(counts: Counter, probs: dict[str, float]) -> tuple[float, int]:
    """Pearson's statistic of ``counts`` against ``probs`` (cells of expected count < 5 pooled)."""
    total = sum(counts.values())
    stat, df, rest_seen, rest_expected = 0.0, -1, 0, 0.0
    for key, p in probs.items():
        expected = p * total
        if expected < 5:
            rest_seen, rest_expected = rest_seen + counts.get(key, 0), rest_expected + expected
            continue
        stat, df = stat + (counts.get(key, 0) - expected) ** 2 / expected, df + 1
    if rest_expected > 0:
        stat, df = stat + (rest_seen - rest_expected) ** 2 / rest_expected, df + 1
    assert set(counts) <= set(probs), "a pick outside the pool"
    return stat, df


def two_sample(a: Counter, b: Counter) -> tuple[float, int]:
    """The chi-square statistic of two samples of equal size being drawn from one law (cells
    with fewer than 10 picks in both pooled)."""
    assert sum(a.values()) == sum(b.values())
    stat, df, rest_a, rest_b = 0.0, -1, 0, 0
    for key in set(a) | set(b):
        x, y = a.get(key, 0), b.get(key, 0)
        if x + y < 10:
            rest_a, rest_b = rest_a + x, rest_b + y
            continue
        stat, df = stat + (x - y) ** 2 / (x + y), df + 1
    if rest_a + rest_b:
        stat, df = stat + (rest_a - rest_b) ** 2 / (rest_a + rest_b), df + 1
    return stat, df


def strategy(name: str, **options: object):
    return PluginManager().create("selection", name, options, BuildContext())


def mad_archive(seed: int, size: int) -> Archive:
    """Continuous scores, parents at random, some children rejected (they count as children)."""
    rng = random.Random(seed)
    archive = Archive()
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=rng.random()))
    for k in range(1, size):
        parent = rng.choice(archive.ids())
        archive.add(Variant(id=f"v{k:04d}a000", parent_id=parent, generation=k,
                            status=rng.choice(["accepted", "accepted", "rejected"]), score=rng.gauss(0, 3)))
    return archive


def mad_law(archive: Archive, steepness: float) -> dict[str, float]:
    """The rule's probabilities, from its formula."""
    pool = archive.selectable()
    scores = [v.score for v in pool]
    median = statistics.median(scores)
    mad = statistics.median(abs(s - median) for s in scores) or 1e-6
    weights = {v.id: 1 / (1 + math.exp(-steepness * (v.score - median) / mad)) / (1 + len(archive.children(v.id)))
               for v in pool}
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()}


def test_mad_rejection_draws_follow_the_rule_s_law() -> None:
    draws = 30000
    for seed, steepness in [(1, 1.0), (2, 4.0), (3, 0.3)]:
        archive = mad_archive(seed, 60)
        rule = strategy("score_child_prop_mad", steepness=steepness)
        picks = Counter(rule.select(archive, draws, random.Random(seed)))
        law = mad_law(archive, steepness)
        stat, df = goodness(picks, law)
        assert stat < critical(df), (seed, stat, df)
        # the same picks against a wrong law (children ignored) fail: the test has power
        wrong = {v.id: law[v.id] * (1 + len(archive.children(v.id))) for v in archive.selectable()}
        total = sum(wrong.values())
        stat, df = goodness(picks, {k: w / total for k, w in wrong.items()})
        assert stat > critical(df), (seed, stat, df)


def test_mad_rejection_draws_follow_the_law_through_the_index_as_the_archive_grows() -> None:
    """Drawn from the index while the median moves: each generation's picks against its law."""
    rng = random.Random(5)
    archive = mad_archive(5, 30)
    rule = strategy("score_child_prop_mad")
    failures = 0
    for generation in range(20):
        for i in range(3):
            archive.add(Variant(id=f"v{1000 + generation:04d}a{i:03d}", parent_id=rng.choice(archive.ids()),
                                generation=1000 + generation, status="accepted", score=rng.random() * 10))
        picks = Counter(rule.select(archive, 4000, random.Random(generation)))
        stat, df = goodness(picks, mad_law(archive, 1.0))
        failures += stat >= critical(df)
    assert failures == 0 and rule.passes == 0


def cmp_archive(seed: int, size: int, tasks: int) -> Archive:
    """Random parents, each variant evaluated on ``tasks`` tasks with a pass rate of its own."""
    rng = random.Random(seed)
    archive = Archive()

    def results() -> dict[str, TaskResult]:
        rate = rng.random()
        return {f"t{t}": TaskResult(task_id=f"t{t}", passed=rng.random() < rate, score=1.0) for t in range(tasks)}

    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=0.1,
                        task_results=results()))
    for k in range(1, size):
        archive.add(Variant(id=f"v{k:04d}a000", parent_id=rng.choice(archive.ids()), generation=k,
                            status=rng.choice(["accepted", "accepted", "rejected"]), score=0.1,
                            task_results=results()))
    return archive


def full_thompson(archive: Archive, draws: int, rng: random.Random, prior: float = 1.0) -> Counter:
    """Independent Thompson draws over every open parent (the rule's definition)."""
    from darwin_plugins.cmp_selection import clade_outcomes

    outcomes = clade_outcomes(archive)
    pool = [v.id for v in archive.selectable()]
    picks: Counter = Counter()
    for _ in range(draws):
        thetas = [rng.betavariate(prior + outcomes[k][0], prior + outcomes[k][1]) for k in pool]
        picks[pool[thetas.index(max(thetas))]] += 1
    return picks


@functools.lru_cache(maxsize=None)
def references(seed: int, size: int, tasks: int, draws: int) -> tuple[Counter, Counter]:
    """Independent draws on ``cmp_archive(seed, size, tasks)``: the rule's, and a wrong one's
    (prior 3), made once for every variant of the draw under test."""
    archive = cmp_archive(seed, size, tasks)
    return (full_thompson(archive, draws, random.Random(seed + 100)),
            full_thompson(archive, draws, random.Random(seed + 200), prior=3.0))


@pytest.mark.parametrize(("direct", "resolve", "ratio"), [(24, 0.5, 1.25), (1, 0.5, 1.25), (24, 0.0, 1.25),
                                                         (24, 0.0, 1e9)])
def test_cmp_group_draws_follow_independent_thompson_draws(direct: int, resolve: float, ratio: float,
                                                            monkeypatch) -> None:
    """Groups of equal shape drawn member by member (24) or through the quantile (1); blocks
    resolved through the dominating Beta once likely below the best (0.5) or at once (0.0); one
    block for all (ratio 1e9: a loose dominating Beta, many of the rest drawn)."""
    import darwin_plugins.thompson
    import darwin_plugins.thompson_pruned

    monkeypatch.setattr(darwin_plugins.thompson, "DIRECT", direct)
    monkeypatch.setattr(darwin_plugins.thompson_pruned, "RESOLVE", resolve)
    monkeypatch.setattr(darwin_plugins.thompson_pruned, "RATIO", ratio)
    draws = 20000
    for seed, size, tasks in [(1, 40, 2), (2, 60, 1), (3, 30, 4)]:
        archive = cmp_archive(seed, size, tasks)
        rule = strategy("cmp")
        got = Counter(rule.select(archive, draws, random.Random(seed)))
        want, wrong = references(seed, size, tasks, draws)
        stat, df = two_sample(got, want)
        assert stat < critical(df), (seed, stat, df)
        # a wrong law (the prior tripled) is told apart by the same test
        stat, df = two_sample(got, wrong)
        assert stat > critical(df), (seed, stat, df)
