"""Parent selection strategies, against their formulas."""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter

import pytest

from darwin_core.archive import Archive
from darwin_core.plugins import PluginManager
from darwin_hookspecs import BuildContext, Variant


def make_archive(scores: dict[str, float], children: dict[str, int]) -> Archive:
    archive = Archive()
    for vid, score in scores.items():
        archive.add(Variant(id=vid, parent_id=None, generation=0, status="accepted", score=score))
    n = 0
    for parent, count in children.items():
        for _ in range(count):
            n += 1
            archive.add(Variant(id=f"z{n:03d}", parent_id=parent, generation=1, status="invalid"))
    return archive


def strategy(name: str, **options):
    return PluginManager().create("selection", name, options, BuildContext())


def frequencies(name: str, archive: Archive, draws: int = 40000, **options) -> dict[str, float]:
    picks = strategy(name, **options).select(archive, draws, random.Random(7))
    counts = Counter(picks)
    return {k: counts[k] / draws for k in counts}


SCORES = {"a": 0.2, "b": 0.5, "c": 0.8, "d": 0.8}
CHILDREN = {"a": 0, "b": 1, "c": 3, "d": 0}


def test_score_child_prop_is_dgm_formula() -> None:
    archive = make_archive(SCORES, CHILDREN)
    weights = {
        k: (1 / (1 + math.exp(-10 * (s - 0.5)))) * (1 / (1 + CHILDREN[k])) for k, s in SCORES.items()
    }
    total = sum(weights.values())
    observed = frequencies("score_child_prop", archive)
    for key, weight in weights.items():
        assert observed.get(key, 0.0) == pytest.approx(weight / total, abs=0.01)
    assert set(observed) <= set(SCORES)  # invalid variants are never parents


def test_mad_variant_uses_median_and_mad() -> None:
    archive = make_archive(SCORES, CHILDREN)
    median = statistics.median(SCORES.values())
    mad = statistics.median(abs(s - median) for s in SCORES.values())
    weights = {k: 1 / (1 + math.exp(-(s - median) / mad)) / (1 + CHILDREN[k]) for k, s in SCORES.items()}
    total = sum(weights.values())
    observed = frequencies("score_child_prop_mad", archive)
    for key, weight in weights.items():
        assert observed.get(key, 0.0) == pytest.approx(weight / total, abs=0.01)


def test_score_prop() -> None:
    observed = frequencies("score_prop", make_archive(SCORES, {}))
    for key, score in SCORES.items():
        assert observed[key] == pytest.approx(score / sum(SCORES.values()), abs=0.01)


def test_best_picks_the_best_not_the_worst_and_earliest_on_ties() -> None:
    picks = strategy("best").select(make_archive(SCORES, CHILDREN), 5, random.Random(0))
    assert picks == ["c"] * 5


def test_latest_is_the_newest_selectable() -> None:
    assert strategy("latest").select(make_archive(SCORES, CHILDREN), 2, random.Random(0)) == ["d", "d"]


def test_random_is_uniform() -> None:
    observed = frequencies("random", make_archive(SCORES, CHILDREN))
    assert all(v == pytest.approx(0.25, abs=0.01) for v in observed.values())


def test_selection_is_reproducible_with_the_same_rng() -> None:
    archive = make_archive(SCORES, CHILDREN)
    s = strategy("score_child_prop")
    assert s.select(archive, 20, random.Random(3)) == s.select(archive, 20, random.Random(3))


def test_strategy_options_are_validated() -> None:
    from darwin_core.config import ConfigError

    with pytest.raises(ConfigError) as info:
        strategy("score_child_prop", steepnes=3)
    assert "steepnes" in str(info.value)


def exhaustion_archive() -> Archive:
    """``a`` (best) has an exhausted child; ``b``'s two children use up its neighbourhood of 2;
    ``c`` has one child of a neighbourhood of 5."""
    archive = Archive()
    for vid, score in {"a": 0.9, "b": 0.8, "c": 0.3}.items():
        archive.add(Variant(id=vid, parent_id=None, generation=0, status="accepted", score=score))
    archive.add(Variant(id="y1", parent_id="a", generation=1, status="invalid", metadata={"exhausted": True}))
    for i in (2, 3):
        archive.add(Variant(id=f"y{i}", parent_id="b", generation=1, status="invalid", metadata={"neighbourhood": 2}))
    archive.add(Variant(id="y4", parent_id="c", generation=1, status="invalid", metadata={"neighbourhood": 5}))
    return archive


@pytest.mark.parametrize("name", ["score_child_prop", "score_child_prop_mad", "score_prop", "best",
                                  "random", "latest", "cmp"])
def test_no_strategy_draws_an_exhausted_parent(name: str) -> None:
    picks = strategy(name).select(exhaustion_archive(), 200, random.Random(3))
    assert set(picks) == {"c"}


def test_every_parent_exhausted_falls_back_to_all() -> None:
    archive = Archive()
    archive.add(Variant(id="a", parent_id=None, generation=0, status="accepted", score=0.5))
    archive.add(Variant(id="y1", parent_id="a", generation=1, status="invalid", metadata={"exhausted": True}))
    assert strategy("best").select(archive, 2, random.Random(0)) == ["a", "a"]


def lineage_archive() -> Archive:
    """root (0.4) -> c (0.6, the best) -> nothing yet; root's neighbourhood has 10 edits, 2 tried."""
    archive = Archive()
    archive.add(Variant(id="root", parent_id=None, generation=0, status="accepted", score=0.4))
    archive.add(Variant(id="c", parent_id="root", generation=1, status="accepted", score=0.6,
                        metadata={"neighbourhood": 10}))
    archive.add(Variant(id="d", parent_id="root", generation=1, status="accepted", score=0.2,
                        metadata={"neighbourhood": 10}))
    return archive


def test_best_backtracks_a_share_of_draws_to_the_ancestors() -> None:
    archive = lineage_archive()
    assert strategy("best", backtrack=0).select(archive, 4, random.Random(0)) == ["c"] * 4
    assert strategy("best").select(archive, 4, random.Random(0)) == ["c", "root", "c", "root"]  # default 0.5
    assert strategy("best", backtrack=0.5).select(archive, 4, random.Random(0)) == ["c", "root", "c", "root"]
    assert strategy("best", backtrack=0.25).select(archive, 4, random.Random(0)).count("root") == 1
    # an exhausted ancestor gets no draw: they go to the best
    archive.add(Variant(id="x", parent_id="root", generation=2, status="invalid", metadata={"exhausted": True}))
    assert strategy("best", backtrack=0.5).select(archive, 4, random.Random(0)) == ["c"] * 4
    # without ancestors, backtracking changes nothing
    assert strategy("best", backtrack=0.5).select(make_archive(SCORES, CHILDREN), 5, random.Random(0)) == ["c"] * 5


def test_best_backtrack_draws_respect_an_ancestors_known_neighbourhood() -> None:
    archive = Archive()
    archive.add(Variant(id="root", parent_id=None, generation=0, status="accepted", score=0.4))
    archive.add(Variant(id="c", parent_id="root", generation=1, status="accepted", score=0.6,
                        metadata={"neighbourhood": 2}))
    picks = strategy("best", backtrack=0.5).select(archive, 8, random.Random(0))
    assert picks.count("root") == 1 and picks.count("c") == 7  # root has one edit left of 2


def test_best_backtrack_is_validated() -> None:
    from darwin_core.config import ConfigError

    with pytest.raises(ConfigError):
        strategy("best", backtrack=1.0)


def test_best_backtracks_only_after_patience_children() -> None:
    archive = lineage_archive()
    assert strategy("best", patience=2).select(archive, 4, random.Random(0)) == ["c"] * 4  # c has no child yet
    for i in range(2):
        archive.add(Variant(id=f"k{i}", parent_id="c", generation=2, status="accepted", score=0.5,
                            metadata={"neighbourhood": 10}))
    assert strategy("best", patience=2).select(archive, 4, random.Random(0)) == ["c", "root", "c", "root"]
