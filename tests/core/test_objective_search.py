"""The search's newer parts follow the objective's direction on raw, unbounded scores:
map_elites (elites, exploit, ``score`` bins), islands (each island's best, migrants),
inspirations ("the best"), operator stats and the mutation bandit ("improved")."""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

from darwin_hookspecs import BuildContext, Objective, TaskResult, Variant

from darwin_core.archive import Archive
from darwin_core.config import InspirationsSection
from darwin_core.inspirations import choose
from darwin_core.operator_stats import OperatorStats
from darwin_core.plugins import PluginManager
from darwin_core.snapshots import CodeBook
from darwin_core.store import RunStore
from darwin_plugins.file_storage import FileStorage
from darwin_plugins.islands import Islands, IslandsOptions
from darwin_plugins.map_elites import MapElites, MapElitesOptions
from darwin_plugins.mutation.bandit import family_stats

from support import cost_problem

MINIMISE = Objective(metric="cost", direction="minimise")
MAXIMISE = Objective(metric="gain")  # unbounded, maximised: not a rate in [0, 1]


def same_behaviour(objective: Objective, scores: list[float]) -> Archive:
    """A root and children that all pass the same task (one behaviour cell), with raw scores."""
    archive = Archive(objective=objective)
    ok = {"t": TaskResult(task_id="t", passed=True, score=1.0)}
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=scores[0],
                        task_results=dict(ok)))
    for i, score in enumerate(scores[1:]):
        archive.add(Variant(id=f"v0001a{i:03d}", parent_id="v0000root", generation=1, status="accepted",
                            score=score, task_results=dict(ok), metadata={"edits": ["e"]}))
    return archive


SCORES = [12.0, 40.0, -3.5, 7.25, 18.0]


def test_map_elites_elite_and_exploit_follow_a_minimise_objective() -> None:
    archive = same_behaviour(MINIMISE, SCORES)
    grid = MapElites(MapElitesOptions(features=["behaviour"])).grid(archive)
    assert [v.score for v in grid.values()] == [-3.5]  # the lowest cost is the elite
    greedy = MapElites(MapElitesOptions(features=["behaviour", "distance"], exploit=1.0))
    assert {v.score for v in greedy.grid(archive).values()} == {12.0, -3.5}  # root cell, depth-1 cell
    assert greedy.select(archive, 1, random.Random(0)) == ["v0001a001"]  # exploit: the lowest


def test_map_elites_on_an_unbounded_maximised_objective_bins_the_raw_scores() -> None:
    archive = same_behaviour(MAXIMISE, SCORES)
    assert [v.score for v in MapElites(MapElitesOptions(features=["behaviour"])).grid(archive).values()] == [40.0]
    # score bins over [-3.5, 40] (width 10.875): -3.5, 7.25 -> 0; 12 -> 1; 18 -> 1; 40 -> 3
    grid = MapElites(MapElitesOptions(features=["score"], bins=4)).grid(archive)
    assert {cell: v.score for cell, v in grid.items()} == {(0,): 7.25, (1,): 18.0, (3,): 40.0}
    minimised = MapElites(MapElitesOptions(features=["score"], bins=4)).grid(same_behaviour(MINIMISE, SCORES))
    assert {cell: v.score for cell, v in minimised.items()} == {(0,): -3.5, (1,): 12.0, (3,): 40.0}
    greedy = MapElites(MapElitesOptions(features=["score"], bins=4, exploit=1.0))
    assert greedy.select(archive, 1, random.Random(0)) == ["v0001a000"]  # 40
    assert greedy.select(same_behaviour(MINIMISE, SCORES), 1, random.Random(0)) == ["v0001a001"]  # -3.5


def ring_archive(objective: Objective) -> Archive:
    """Three generations of four children; island ``(g * 4 + i) % 2``; scores fall with
    the generation (a minimised cost improving) and spread over -3.5..40."""
    archive = Archive(objective=objective)
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=40.0))
    for g in (1, 2, 3):
        for i in range(4):
            parent = "v0000root" if g == 1 else f"v{g - 1:04d}a{i:03d}"
            archive.add(Variant(id=f"v{g:04d}a{i:03d}", parent_id=parent, generation=g, status="accepted",
                                score=40.0 - 14.5 * g + 0.5 * i))
    return archive


def best_rule() -> object:
    return PluginManager().create("selection", "best", {}, BuildContext())


def test_islands_pick_each_islands_lowest_and_migrate_it_when_minimising() -> None:
    archive = ring_archive(MINIMISE)  # the lowest: v0003a000 = -3.5 (island 0), v0003a001 = -3.0 (island 1)
    isl = Islands(IslandsOptions(islands=2, migrate_every=100), [best_rule(), best_rule()])
    assert isl.select(archive, 4, random.Random(0)) == ["v0003a000", "v0003a001", "v0003a000", "v0003a001"]
    migrating = Islands(IslandsOptions(islands=2, migrate_every=2), [best_rule(), best_rule()])
    pools = migrating.pools(archive)
    # at generation 2, island 1's lowest is v0002a001 (11.5), island 0's is v0002a000 (11.0)
    assert "v0002a001" in {v.id for v in pools[0]} and "v0002a003" not in {v.id for v in pools[0]}
    assert "v0002a000" in {v.id for v in pools[1]} and "v0002a002" not in {v.id for v in pools[1]}
    maximising = Islands(IslandsOptions(islands=2, migrate_every=100), [best_rule(), best_rule()])
    assert maximising.select(ring_archive(MAXIMISE), 2, random.Random(0)) == ["v0000root", "v0000root"]  # 40


def test_inspirations_are_the_best_in_the_objective_direction() -> None:
    options = InspirationsSection(count=2, drawn=0)
    assert choose(same_behaviour(MINIMISE, SCORES), "v0000root", options, random.Random(0)) == ["v0001a001", "v0001a002"]
    assert choose(same_behaviour(MAXIMISE, SCORES), "v0000root", options, random.Random(0)) == ["v0001a000", "v0001a003"]


def stats_for(objective: Objective, tmp_path: Path) -> dict[str, tuple[int, int]]:
    """A root at cost 12 and children of two families: ``arithmetic`` lowers the cost to -3.5
    (twice), ``constant`` raises it to 40 (twice) or makes an invalid child (score 0)."""
    book = CodeBook(RunStore(FileStorage(tmp_path / "store")))
    book.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=12.0))
    rows = [("arithmetic", "accepted", -3.5), ("arithmetic", "accepted", -3.5), ("constant", "accepted", 40.0),
            ("constant", "accepted", 40.0), ("constant", "invalid", 0.0)]
    for i, (family, status, score) in enumerate(rows):
        book.add(Variant(id=f"v0001a{i:03d}", parent_id="v0000root", generation=1, status=status, score=score,
                         metadata={"families": [family]}))
    return OperatorStats(book, SimpleNamespace(objective=objective)).before(2)


def test_operator_stats_count_improvement_in_the_objective_direction(tmp_path: Path) -> None:
    assert stats_for(MINIMISE, tmp_path / "min") == {"arithmetic": (2, 2), "constant": (0, 3)}
    assert stats_for(MAXIMISE, tmp_path / "max") == {"arithmetic": (0, 2), "constant": (2, 3)}


def test_the_bandit_counts_a_lower_cost_as_an_improvement_when_minimising() -> None:
    records = [{"id": "r", "parent_id": None, "score": 12.0}]
    for i, (family, status, score) in enumerate([("a", "accepted", -3.5), ("b", "accepted", 40.0), ("b", "invalid", 0.0)]):
        records.append({"id": f"c{i}", "parent_id": "r", "status": status, "score": score,
                        "metadata": {"families": [family]}})
    assert family_stats(records, sign=-1.0) == {"a": [1, 1], "b": [0, 2]}
    assert family_stats(records) == {"a": [0, 1], "b": [1, 2]}


def test_a_minimising_run_with_map_elites_and_the_bandit_finds_the_lowest(tmp_path: Path, darwin_cli) -> None:
    """A real run: mutation with its adaptive bandit, map_elites over score bins, a cost to
    minimise (17 at the root, unbounded either way). The generators were told which families
    improved: the operator stats the engine recorded count only children with a lower cost."""
    config = cost_problem(tmp_path)
    text = config.read_text().replace('[selection]\nname = "best"',
                                      '[selection]\nname = "map_elites"\nfeatures = ["score"]\nbins = 4\nexploit = 0.8')
    config.write_text(text)  # the mutation generator's bandit is on by default (adaptive = true)
    run_dir = tmp_path / "run"
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
    assert result.returncode == 0, result.stderr
    rows = json.loads(darwin_cli("archive", str(run_dir), "--json").stdout)
    status = json.loads(darwin_cli("status", str(run_dir), "--json").stdout)
    accepted = [r for r in rows if r["status"] == "accepted"]
    assert status["best_score"] == min(r["score"] for r in accepted) < 17.0
    from darwin_core import open_run

    view = open_run(run_dir)
    by_id = {v.id: v for v in view.variants}
    stats = OperatorStats(view.handle.codebook, view.archive).before(10**6)
    improved = sum(1 for v in view.variants if v.parent_id and v.status not in ("invalid", "error")
                   and (v.metadata or {}).get("families") and not (v.metadata or {}).get("duplicate_of")
                   and v.score < by_id[v.parent_id].score)
    assert sum(w for w, _ in stats.values()) >= improved > 0
    # the report colours the raw cost from worst (highest) to best (lowest), not clamped to [0, 1]
    from darwin_core.report.data import gather
    from darwin_core.report.page import render_page
    from darwin_core.report.svg import score_colour

    data = gather(view)
    shades = {n.id: n.shade for n in data.nodes}
    valid = [r for r in rows if r["status"] in ("accepted", "rejected")]
    assert data.scale == (max(r["score"] for r in valid), min(r["score"] for r in valid))
    assert shades[status["best_id"]] == 1.0 and 0.0 <= shades["v0000root"] < 1.0
    page = render_page(data, {})
    assert f'data-id="{status["best_id"]}" ' in page and f'fill="{score_colour(1.0)}"' in page
    assert f"{data.scale[1]:.4g} (best)" in page and "minimise cost" in page


def test_the_metrics_observer_keeps_the_lowest_best_when_minimising() -> None:
    from darwin_plugins.metrics_exporter import MetricsObserver

    for direction, expected in (("minimise", -3.5), ("maximise", 40.0)):
        run = SimpleNamespace(metadata={"objective": {"metric": "cost", "direction": direction}})
        observer = MetricsObserver()
        for score in SCORES:
            observer.darwin_variant_accepted(run=run, variant=SimpleNamespace(score=score))
        assert observer.best == expected


def test_the_llm_prompt_names_a_real_objective_and_its_direction() -> None:
    """The prompt context reads the benchmark's ``Objective`` (as the custom and evaluator
    benchmarks declare it): a minimised raw metric, a weighted sum, the default (no line)."""
    from darwin_plugins.llm.context import describe_objective

    line = describe_objective(SimpleNamespace(objective=Objective(metric="length", direction="minimize")))
    assert line == "The objective: minimise length (the score below is its value: lower is better)."
    summed = describe_objective(SimpleNamespace(objective=lambda: Objective(terms={"gain": 1.0, "cost": -0.5})))
    assert summed.startswith("The objective: maximise 1*gain + -0.5*cost") and "higher is better" in summed
    assert describe_objective(SimpleNamespace(objective=Objective())) == ""


def test_a_lesson_counts_a_lower_cost_as_what_worked_when_minimising() -> None:
    from darwin_hookspecs import Attempt, RunInfo
    from darwin_plugins.reasoning_bank import distil

    parent = Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=12.0)
    attempt = Attempt(id="g0001a000", generation=1, index=0, parent_id=parent.id, seed=1)
    lower = Variant(id="v0001a000", parent_id=parent.id, generation=1, status="accepted", score=-3.5,
                    description="halve A")
    higher = Variant(id="v0001a001", parent_id=parent.id, generation=1, status="accepted", score=40.0,
                     description="double B")
    minimising = RunInfo(run_id="r", name="t", seed=0, created_at=0.0,
                         metadata={"objective": {"metric": "cost", "direction": "minimise"}})
    worked = distil(minimising, attempt, parent, lower, storage=None)
    assert worked.worked and worked.score_delta == 15.5 and "improved by 15.500" in worked.text
    failed = distil(minimising, attempt, parent, higher, storage=None)
    assert not failed.worked and "worsened by 28.000" in failed.text
    assert distil(RunInfo(run_id="r", name="t", seed=0, created_at=0.0), attempt, parent, higher, storage=None).worked
