"""Scores that mean what they say, through real runs: raw objectives in either direction,
stage score thresholds, held-out tasks, repeats against noise, a broken benchmark."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from darwin_hookspecs import Objective, Variant

from darwin_core.acceptance import judge
from darwin_core.archive import Archive
from darwin_core.config import config_from_dict
from darwin_plugins.selection import Best, ScoreChildProp, ScoreChildPropMAD

from support import COST, cost_problem, python_tasks, write_config

def test_a_minimise_objective_prefers_the_lower_value_everywhere(tmp_path: Path, darwin_cli) -> None:
    config = cost_problem(tmp_path, stop_at_score=12.0)
    run_dir = tmp_path / "run"
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
    assert result.returncode == 0, result.stderr
    status = json.loads(darwin_cli("status", str(run_dir), "--json").stdout)
    rows = json.loads(darwin_cli("archive", str(run_dir), "--json").stdout)
    root = next(r for r in rows if r["parent_id"] is None)
    assert root["score"] == 17.0 and root["metrics"]["cost"] == 17.0  # raw, never clamped
    assert status["objective"] == "minimise cost"
    accepted = [r for r in rows if r["status"] == "accepted"]
    lowest = min(r["score"] for r in accepted)
    assert status["best_score"] == lowest < 17.0  # best: the lowest
    assert lowest <= 12.0 and "stop_at_score" in status["stop_reason"]  # stop: reached downwards
    best = next(r for r in rows if r["id"] == status["best_id"])
    assert best["score"] == lowest
    # a minimising run never stops on a high value: the same run without the target goes on
    assert any(r["score"] > 17.0 for r in rows) or len(rows) > 2


def minimise_archive(scores: list[float]) -> Archive:
    archive = Archive(objective=Objective(metric="cost", direction="minimise"))
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=scores[0], stage_reached=0))
    for i, score in enumerate(scores[1:], start=1):
        archive.add(Variant(id=f"v0001a{i:03d}", parent_id="v0000root", generation=1,
                            status="accepted", score=score, stage_reached=0))
    return archive


def test_selection_best_and_acceptance_follow_the_direction() -> None:
    archive = minimise_archive([17.0, 30.0, -4.5, 12.0])
    assert archive.best_id == "v0001a002"  # -4.5: the lowest cost
    rng = random.Random(0)
    assert Best().select(archive, 3, rng) == ["v0001a002"] * 3
    # DGM's sigmoid on a rank-normalised objective: the lowest cost is drawn most, the highest least
    picks = ScoreChildProp().select(archive, 4000, random.Random(1))
    counts = {v: picks.count(v) for v in set(picks)}
    assert counts["v0001a002"] > counts["v0000root"] > counts["v0001a001"]
    mad = ScoreChildPropMAD().select(archive, 4000, random.Random(1))
    assert mad.count("v0001a002") > mad.count("v0001a001")
    cfg = config_from_dict({"run": {"initial": ".", "archive_policy": "keep_better", "keep_better_margin": 1.0},
                            "acceptance": {"rule": "margin", "margin": 2.0}})
    parent = archive.get("v0000root")
    objective = archive.objective
    assert judge(cfg, 14.0, parent, parent, [], objective)[0] == "accepted"   # 3 lower: a gain of 3
    status, reason = judge(cfg, 16.0, parent, parent, [], objective)
    assert status == "rejected" and "below the margin" in reason               # 1 lower: gain 1 < 2
    status, reason = judge(cfg, 18.5, parent, parent, [], objective)
    assert status == "rejected" and "keep_better" in reason                    # worse than 17 + 1


STAGED_TASKS = python_tasks(
    {"cheap": "import cost; print('DARWIN_METRIC cost=%s' % cost.cost())",
     "expensive": "import cost; print('DARWIN_METRIC cost=%s' % (cost.cost() + 1))"},
    'objective = { metric = "cost", direction = "minimise" }')


def test_a_stage_score_threshold_follows_the_direction(tmp_path: Path) -> None:
    from darwin_core.runtime import build_runtime
    from darwin_core.staged import evaluate_staged

    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "tasks.toml").write_text(STAGED_TASKS)
    variant = tmp_path / "variant"
    variant.mkdir()
    (variant / "cost.py").write_text(COST)  # cost 17 on the first stage
    for threshold, reached in ((20.0, 1), (10.0, 0)):
        config = config_from_dict({
            "run": {"initial": "."}, "benchmark": {"name": "custom", "path": str(tmp_path / "bench")},
            "evaluation": {"include_target": True, "stages": [{"tasks": 1, "score_threshold": threshold},
                                                              {"tasks": "all"}]},
        })
        runtime = build_runtime(config, run_id="t", run_dir=tmp_path / f"run{threshold}")
        try:
            results, stage = evaluate_staged(runtime, variant, "cheap")
        finally:
            runtime.close()
        assert stage == reached and len(results) == reached + 1  # 17 <= 20 goes on; 17 > 10 stops
        assert all("seed" in r.details for r in results)


def _quickstart_run(quickstart: Path, darwin_cli, *options: str) -> tuple[dict, str]:
    run_dir = quickstart / "run"
    result = darwin_cli("run", str(quickstart / "darwin.toml"), "--run-dir", str(run_dir), "-q", *options)
    assert result.returncode == 0, result.stderr
    status = json.loads(darwin_cli("status", str(run_dir), "--json").stdout)
    rows = json.loads(darwin_cli("archive", str(run_dir), "--json").stdout)
    root = next(r for r in rows if r["parent_id"] is None)
    assert 0.5 < root["score"] < 0.6 and root["evaluated"] == 16  # held-out tasks not counted
    assert not any(r["target"] and r["target"].startswith("tests/test_holdout.py") for r in rows)
    assert status["best_score"] == 1.0 and "held-out" in darwin_cli("archive", str(run_dir)).stdout
    from darwin_core.reader import open_run

    return status, open_run(run_dir).code(status["best_id"])["textstats.py"].decode()


def test_quickstart_held_out_tests_catch_a_gamed_repair(quickstart: Path, darwin_cli) -> None:
    """With the previous edit order (complements undamped, failing-only localisation) the
    quickstart's search "repairs" fizzbuzz by negating ``n % 5 == 1``: every training test
    passes, a held-out one fails, and `darwin status` names it."""
    status, code = _quickstart_run(quickstart, darwin_cli,
                                   "--set", "generator.complements=1", "--set", "generator.localise=failing")
    assert status["best_holdout_score"] == 0.8, status
    flagged = " ".join(status.get("holdout_warnings") or [])
    assert status["best_id"] in flagged and "test_holdout_fizzbuzz" in flagged, status
    assert "n % 5 == 0" not in code


def test_quickstart_default_search_finds_the_genuine_repair(quickstart: Path, darwin_cli) -> None:
    """The default order (complements damped, Ochiai) reaches 1.0 with the real fix: every
    held-out test passes and nothing is flagged."""
    status, code = _quickstart_run(quickstart, darwin_cli)
    assert status["best_holdout_score"] == 1.0, status
    assert not status.get("holdout_warnings"), status
    assert "if n % 5 == 1" not in code and "n % 5 != 1" not in code


def test_every_task_crashing_stops_at_the_initial_variant(quickstart: Path, darwin_cli) -> None:
    (quickstart / "program" / "textstats.py").rename(quickstart / "program" / "text_stats.py")
    run_dir = quickstart / "run"
    result = darwin_cli("run", str(quickstart / "darwin.toml"), "--run-dir", str(run_dir), "-q")
    assert result.returncode == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert "every task of the initial variant" in message
    assert "No module named 'textstats'" in message  # the first task's log
    assert "likely fix: module 'textstats' cannot be imported in the sandbox" in message
    status = json.loads(darwin_cli("status", str(run_dir), "--json").stdout)
    assert status["attempts"] == 0 and status["variants"] == 0  # stopped before the search


NOISY_EVALUATOR = '''
import hashlib, importlib.util, os, random

def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("noisy_program", program_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    true = float(module.quality())
    code = open(program_path).read()
    rng = random.Random(os.environ["DARWIN_SEED"] + hashlib.sha1(code.encode()).hexdigest())
    lucky = 2.5 if rng.random() < 0.3 else 0.0         # a lucky evaluation, now and then
    return {"measured": true + lucky + rng.uniform(-0.3, 0.3), "true": true}
'''
NOISY_PROGRAM = "def quality():\n    return 2.0\n"  # a float: steps of x1.01 and x0.99 the noise can hide


def test_repeats_keep_the_true_best_under_seeded_noise(tmp_path: Path, darwin_cli) -> None:
    (tmp_path / "program").mkdir()
    (tmp_path / "program" / "noisy.py").write_text(NOISY_PROGRAM)
    (tmp_path / "evaluator.py").write_text(NOISY_EVALUATOR)
    config = write_config(tmp_path, '''
[run]
name = "noisy"
seed = 5
initial = "program"
generations = 3
children_per_generation = 4
[generator]
name = "mutation"
families = ["constant"]
sharpness = 1       # the order this scenario was written for (a truly worse variant wins one noisy repeat)
tried_delay = inf
[benchmark]
name = "evaluator"
path = "evaluator.py:evaluate"
program = "noisy.py"
objective = { metric = "measured" }
[evaluation]
repeats = 20
[selection]
name = "best"
backtrack = 0       # with the generator settings above: the search trajectory this scenario was written for
''')
    run_dir = tmp_path / "run"
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
    assert result.returncode == 0, result.stderr
    rows = [r for r in json.loads(darwin_cli("archive", str(run_dir), "--json").stdout) if r["status"] == "accepted"]
    status = json.loads(darwin_cli("status", str(run_dir), "--json").stdout)
    best = next(r for r in rows if r["id"] == status["best_id"])
    assert best["metrics"]["true"] == max(r["metrics"]["true"] for r in rows)
    assert len(best["repeats"]["values"]) == 20 and len(set(best["repeats"]["seeds"])) == 20
    assert abs(best["score"] - sum(best["repeats"]["values"]) / 20) < 1e-9 and best["repeats"]["stderr"] > 0
    # the noise is strong enough to fool a single evaluation: ranked by the first repeat alone
    # (what repeats = 1 sees, with the same seed), a variant that is truly worse would be best
    first = max(rows, key=lambda r: (r["repeats"]["values"][0], -int(r["id"] < best["id"])))
    assert first["metrics"]["true"] < best["metrics"]["true"]


def test_held_out_tasks_are_invisible_to_the_search(quickstart: Path) -> None:
    """The runtime's benchmark (what a generator gets) lists the training tasks only; the
    held-out ones are kept apart for the held-out check."""
    from darwin_core.config import load_config
    from darwin_core.runtime import build_runtime

    runtime = build_runtime(load_config(quickstart / "darwin.toml"), run_id="t", run_dir=quickstart / "run")
    try:
        visible = {t.id for t in runtime.benchmark.tasks()}
        held = {t.id for t in runtime.holdout_tasks}
        assert len(visible) == 16 and len(held) == 5 and not visible & held
        assert {t.id for t in runtime.tasks} == visible
        assert all(t.startswith("tests/test_holdout.py::") for t in held)
    finally:
        runtime.close()


def test_lower_bound_is_one_standard_error_worse_in_the_objective_direction() -> None:
    from darwin_hookspecs import TaskResult, TaskSpec

    from darwin_core.objective import Scorer
    from darwin_core.staged import merge_repeats

    runs = [TaskResult(task_id="t", passed=True, score=1.0, metrics={"cost": c}) for c in (4.0, 6.0, 5.0, 5.0)]
    merged = merge_repeats(runs, [11, 12, 13, 14])
    assert merged.metrics == {"cost": 5.0} and merged.runs == 4 and not merged.flaky
    assert [r["seed"] for r in merged.details["repeats"]] == [11, 12, 13, 14]
    tasks = [TaskSpec(id="t")]
    stderr = (sum((c - 5.0) ** 2 for c in (4.0, 6.0, 5.0, 5.0)) / 3 / 4) ** 0.5
    for direction, expected in (("minimise", 5.0 + stderr), ("maximise", 5.0 - stderr)):
        scorer = Scorer(Objective(metric="cost", direction=direction), tasks, select_by="lower_bound")
        score, metrics, repeats = scorer.score([merged])
        assert abs(score - expected) < 1e-12 and repeats["values"] == [4.0, 6.0, 5.0, 5.0]
        assert abs(repeats["stderr"] - stderr) < 1e-12
    assert Scorer(Objective(metric="cost"), tasks).score([merged])[0] == 5.0  # select_by = "mean"


def test_every_task_gets_darwin_seed_varied_per_repeat(tmp_path: Path) -> None:
    from darwin_core.runtime import build_runtime
    from darwin_core.staged import evaluate_tasks, repeat_seeds

    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "tasks.toml").write_text(
        '[[task]]\nid = "seed"\ncommand = ["python", "-c", '
        '"import os; print(\'DARWIN_METRIC seed=\' + os.environ[\'DARWIN_SEED\'])"]\n')
    (tmp_path / "variant").mkdir()
    config = config_from_dict({"run": {"initial": ".", "seed": 9}, "evaluation": {"repeats": 3},
                               "benchmark": {"name": "custom", "path": str(tmp_path / "bench")}})
    runtime = build_runtime(config, run_id="t", run_dir=tmp_path / "run")
    try:
        [result] = evaluate_tasks(runtime, tmp_path / "variant", runtime.tasks)
    finally:
        runtime.close()
    seeds = repeat_seeds(9, 3)
    assert len(set(seeds)) == 3
    assert [r["metrics"]["seed"] for r in result.details["repeats"]] == [float(s) for s in seeds]
    assert [r["seed"] for r in result.details["repeats"]] == seeds


def test_the_predictor_learns_improvement_in_the_objective_direction() -> None:
    from darwin_core.features import attempt_features, History
    from darwin_core.replay import outcome_of

    archive = minimise_archive([17.0, 30.0, -4.5, 12.0])
    parent, worse, better = archive.get("v0000root"), archive.get("v0001a001"), archive.get("v0001a002")
    minimise = archive.objective
    assert outcome_of(parent, better, 0, minimise)["score_delta"] == 21.5
    assert outcome_of(parent, better, 0, minimise)["failure_kind"] is None  # improved
    assert outcome_of(parent, worse, 0, minimise)["failure_kind"] == "regression"
    from darwin_hookspecs import Attempt

    attempt = Attempt(id="g0002a000", generation=2, index=0, parent_id=parent.id, seed=1)
    features = attempt_features(attempt, parent, archive, History(), generator="mutation")
    assert features["parent_children_improved"] == 2.0  # -4.5 and 12 are below 17
    assert features["best_gap"] == 21.5 and features["parent_score"] == -17.0


def test_an_explore_target_tells_the_generator_the_metrics_and_feedback() -> None:
    from darwin_hookspecs import TaskResult

    from darwin_core.targeting import choose_target

    parent = Variant(id="v", parent_id=None, generation=0, status="accepted", score=7.25, task_results={
        "evaluate": TaskResult(task_id="evaluate", passed=True, score=1.0, metrics={"length": 7.25},
                               artifacts={"feedback": "tour length 7.25 over 60 cities", "stdout": "noise"})})
    target = choose_target(parent, random.Random(0))
    assert target.kind == "explore" and "length=7.25" in target.description
    assert "evaluate feedback: tour length 7.25 over 60 cities" in target.description
    assert "noise" not in target.description
