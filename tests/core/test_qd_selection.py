"""Quality-diversity selection: ``map_elites`` and ``islands``, functions of the archive."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from darwin_core.archive import Archive
from darwin_core.plugins import PluginManager
from darwin_hookspecs import BuildContext, TaskResult, Variant
from darwin_plugins.islands import Islands, IslandsOptions
from darwin_plugins.map_elites import MapElites, MapElitesOptions


def strategy(name: str, **options):
    return PluginManager().create("selection", name, options, BuildContext())


def passing(*tasks: str, fail: tuple[str, ...] = ()) -> dict[str, TaskResult]:
    out = {t: TaskResult(task_id=t, passed=True, score=1.0) for t in tasks}
    out.update({t: TaskResult(task_id=t, passed=False, score=0.0) for t in fail})
    return out


def behaviour_archive() -> Archive:
    """Root passes ``a``; children: two passing ``a,b`` (0.67), one passing ``a,c`` (0.67),
    one passing only ``b`` (0.33)."""
    archive = Archive()
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=1 / 3,
                        task_results=passing("a", fail=("b", "c"))))
    rows = [("v0001a000", ("a", "b"), ("c",)), ("v0001a001", ("a", "b"), ("c",)),
            ("v0001a002", ("a", "c"), ("b",)), ("v0001a003", ("b",), ("a", "c"))]
    for vid, ok, bad in rows:
        archive.add(Variant(id=vid, parent_id="v0000root", generation=1, status="accepted",
                            score=len(ok) / 3, task_results=passing(*ok, fail=bad), metadata={"edits": ["e"]}))
    return archive


def test_map_elites_keeps_one_elite_per_behaviour_and_mixes_exploit_and_explore() -> None:
    archive = behaviour_archive()
    me = MapElites(MapElitesOptions(features=["behaviour"]))
    grid = me.grid(archive)
    assert sorted(v.id for v in grid.values()) == ["v0000root", "v0001a000", "v0001a002", "v0001a003"]
    # exploit only: the best elites, least expanded first (both 0.67 cells are drawn)
    assert set(MapElites(MapElitesOptions(features=["behaviour"], exploit=1.0)).select(archive, 2, random.Random(1))) \
        == {"v0001a000", "v0001a002"}
    # explore only: every elite, never a non-elite; the root (4 children) least often
    explorer, rng = MapElites(MapElitesOptions(features=["behaviour"], exploit=0.0)), random.Random(2)
    picks = Counter(explorer.select(archive, 1, rng)[0] for _ in range(4000))
    assert set(picks) == set(v.id for v in grid.values())
    assert picks["v0000root"] < min(picks[k] for k in picks if k != "v0000root")


def test_map_elites_distance_and_score_features() -> None:
    archive = behaviour_archive()
    archive.add(Variant(id="v0002a000", parent_id="v0001a000", generation=2, status="accepted", score=2 / 3,
                        task_results=passing("a", "b", fail=("c",)), metadata={"edits": ["e", "f"]}))
    grid = MapElites(MapElitesOptions(features=["distance"], bins=8)).grid(archive)
    assert {cell: v.id for cell, v in grid.items()} == {(0,): "v0000root", (1,): "v0001a000", (3,): "v0002a000"}
    scored = MapElites(MapElitesOptions(features=["score"], bins=2)).grid(archive)
    assert len(scored) == 2
    with pytest.raises(Exception, match="unknown feature"):
        MapElitesOptions(features=["colour"])


def test_islands_split_by_lineage_follow_their_rule_and_migrate_on_a_ring() -> None:
    archive = Archive()
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=0.1))
    for g in (1, 2, 3):
        for i in range(4):
            parent = "v0000root" if g == 1 else f"v{g - 1:04d}a{i:03d}"
            archive.add(Variant(id=f"v{g:04d}a{i:03d}", parent_id=parent, generation=g, status="accepted",
                                score=0.1 + 0.1 * g + 0.01 * i))
    isl = Islands(IslandsOptions(islands=2, migrate_every=100), [strategy("best", backtrack=0), strategy("best", backtrack=0)])
    pools = isl.pools(archive)
    # island of a variant = (generation * 4 + index) % 2: indices 0 and 2 on island 0
    assert {v.id for v in pools[0]} == {"v0000root"} | {f"v{g:04d}a{i:03d}" for g in (1, 2, 3) for i in (0, 2)}
    picks = isl.select(archive, 4, random.Random(0))
    assert picks == ["v0003a002", "v0003a003", "v0003a002", "v0003a003"]  # each island's own best
    migrating = Islands(IslandsOptions(islands=2, migrate_every=2), [strategy("best"), strategy("best")])
    pools = migrating.pools(archive)
    assert "v0002a003" in {v.id for v in pools[0]}  # island 1's best at generation 2 moved on
    assert "v0002a002" in {v.id for v in pools[1]}


def test_both_are_registered_listed_and_deterministic() -> None:
    archive = behaviour_archive()
    for name, options in [("map_elites", {}), ("islands", {"islands": 3, "rules": ["best", "random"]})]:
        s = strategy(name, **options)
        assert s.select(archive, 6, random.Random(5)) == strategy(name, **options).select(archive, 6, random.Random(5))
    assert {"map_elites", "islands"} <= set(PluginManager().registries["selection"].names())
    with pytest.raises(Exception):
        strategy("islands", rules=["teleport"])
