"""Parent selection ``cmp``: HGM's clade-metaproductivity Thompson sampling."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from darwin_core.archive import Archive
from darwin_core.config import ConfigError
from darwin_core.plugins import PluginManager
from darwin_hookspecs import BuildContext, TaskResult, Variant
from darwin_plugins.cmp_selection import CladeMetaproductivity, clade_outcomes


def _variant(vid: str, parent: str | None, passes: int, fails: int, status: str = "accepted") -> Variant:
    results = {f"p{i}": TaskResult(task_id=f"p{i}", passed=True, score=1.0) for i in range(passes)}
    results.update({f"f{i}": TaskResult(task_id=f"f{i}", passed=False, score=0.0) for i in range(fails)})
    return Variant(id=vid, parent_id=parent, generation=0 if parent is None else int(vid[1:5]),
                   status=status, task_results=results)


def _archive() -> Archive:
    archive = Archive()
    archive.add(_variant("v0000root", None, 5, 5))
    archive.add(_variant("v0001a000", "v0000root", 6, 4))    # A: a productive clade
    archive.add(_variant("v0001a001", "v0000root", 1, 9))    # B: an unproductive one
    archive.add(_variant("v0002a000", "v0001a000", 9, 1))    # A's child
    archive.add(_variant("v0002a001", "v0001a000", 8, 2, status="invalid"))  # counts, not selectable
    archive.add(_variant("v0002a002", "v0001a001", 0, 10))   # B's child
    return archive


def test_outcomes_are_pooled_over_each_clade():
    pooled = clade_outcomes(_archive())
    assert pooled["v0002a000"] == (9, 1)
    assert pooled["v0001a000"] == (6 + 9 + 8, 4 + 1 + 2)
    assert pooled["v0001a001"] == (1 + 0, 9 + 10)
    assert pooled["v0000root"] == (5 + 23 + 1, 5 + 7 + 19)


def test_productive_clades_are_drawn_more_and_draws_follow_the_rng():
    archive = _archive()
    strategy = CladeMetaproductivity()
    picks = Counter(strategy.select(archive, 3000, random.Random(7)))
    assert set(picks) <= {v.id for v in archive.selectable()}
    assert "v0002a001" not in picks  # invalid: never a parent
    assert picks["v0001a000"] > 5 * max(1, picks["v0001a001"])
    assert picks["v0001a001"] < 30
    assert strategy.select(archive, 20, random.Random(1)) == strategy.select(archive, 20, random.Random(1))


def test_an_unevaluated_node_still_gets_explored():
    archive = Archive()
    archive.add(_variant("v0000root", None, 3, 7))
    archive.add(_variant("v0001a000", "v0000root", 0, 0))  # no evidence: Beta(1, 1)
    picks = Counter(CladeMetaproductivity().select(archive, 500, random.Random(3)))
    assert 0 < picks["v0001a000"] < 500


def test_cmp_is_selectable_and_validates_its_options(learning_run):
    manager = PluginManager()
    assert "cmp" in manager.registries["selection"]
    with pytest.raises(ConfigError, match="prior"):
        manager.create("selection", "cmp", {"prior": 0}, BuildContext())
    with pytest.raises(ConfigError, match="unknown key"):
        manager.create("selection", "cmp", {"temperature": 1}, BuildContext())

    engine = learning_run({"selection": {"name": "cmp"}, "run": {"generations": 2}})
    assert isinstance(engine.selector, CladeMetaproductivity)
    assert len(engine.attempts) == 6
    assert all(a.status == "finished" for a in engine.attempts.values())
    assert all(engine.archive.get(a.parent_id).status == "accepted" for a in engine.attempts.values())
