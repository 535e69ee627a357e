"""Choosing among plausible patches (``[run] plausible_extra`` with the custom benchmark's
``probes = true``): real runs, real sandbox.

The program has one bug (``a == b or b == c`` misses ``a == c``); two single edits pass every
visible test: the genuine fix and one that games them. The search meets the gaming edit first;
the extra attempts from the root find the fix, whose behaviour on probe inputs agrees more with
the root's, and the choice keeps it. One worker: with two, whether a child duplicating a
sibling's code is evaluated depends on which finished first, and a resumed retry may differ.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from darwin_core.reader import open_run
from darwin_core.summary import agreement
from darwin_plugins.custom_benchmark.benchmark import CustomBenchmark

from support import kill_run_when, quick_config

PROGRAM = '''def triangle_kind(a, b, c):
    """'equilateral', 'isosceles' or 'scalene' for valid side lengths, else 'invalid'."""
    sides = sorted([a, b, c])
    if sides[0] <= 0 or sides[0] + sides[1] <= sides[2]:
        return "invalid"
    if a == b == c:
        return "equilateral"
    if a == b or b == c:
        return "isosceles"
    return "scalene"
'''
VISIBLE = ["triangle_kind(2, 2, 2) == 'equilateral'", "triangle_kind(3, 4, 5) == 'scalene'",
           "triangle_kind(2, 2, 3) == 'isosceles'", "triangle_kind(1, 2, 3) == 'invalid'",
           "triangle_kind(3, 2, 3) == 'isosceles'"]
HOLDOUT = ["triangle_kind(5, 3, 5) == 'isosceles'", "triangle_kind(4, 4, 7) == 'isosceles'",
           "triangle_kind(7, 4, 4) == 'isosceles'", "triangle_kind(0, 1, 1) == 'invalid'",
           "triangle_kind(6, 7, 8) == 'scalene'", "triangle_kind(1, 1, 5) == 'invalid'",
           "triangle_kind(2.5, 1, 2.5) == 'isosceles'", "triangle_kind(91, 97, 93) == 'scalene'"]
EXTRA = 30


def _tests(expressions: list[str]) -> str:
    return "from triangle import *\n" + "".join(
        f"\n\ndef test_{i:02d}():\n    assert {e}\n" for i, e in enumerate(expressions, start=1))


def project(root: Path, *, probes: bool = True, **run: Any) -> Path:
    (root / "program").mkdir(parents=True)
    (root / "program" / "triangle.py").write_text(PROGRAM)
    (root / "benchmark" / "tests").mkdir(parents=True)
    (root / "benchmark" / "tests" / "test_visible.py").write_text(_tests(VISIBLE))
    (root / "benchmark" / "tests" / "test_holdout.py").write_text(_tests(HOLDOUT))
    (root / "benchmark" / "tasks.toml").write_text(
        '[benchmark]\nfiles = ["tests"]\ndiscover = ["tests/test_visible.py", "tests/test_holdout.py"]\n'
        f'holdout = ["tests/test_holdout.py::*"]\nrunner = "builtin"\nprobes = {str(probes).lower()}\n')
    settings: dict[str, Any] = {"seed": 4, "generations": 200, "children_per_generation": 4, "max_attempts": 200,
                                "stop_at_score": 1.0, "selection__name": "best", "executor__max_workers": 1,
                                **run}
    return quick_config(root, **settings)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "darwin_core", *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "COLUMNS": "200"})


def _run(root: Path, **run: Any) -> tuple[Path, dict[str, Any]]:
    config = project(root, **run)
    result = cli("run", str(config), "--run-dir", str(root / "run"), "-q")
    assert result.returncode == 0, result.stderr
    return root / "run", json.loads(cli("status", str(root / "run"), "--json").stdout)


def _extras(view: Any, after: str) -> list[Any]:
    """The counted attempts planned after attempt ``after``."""
    return [a for a in view.attempts if a.id > after and a.retry_of is None]


def _plausible(run_dir: Path) -> list[Any]:
    """The accepted variants at 1.0 evaluated on every stage, in id order."""
    archive = open_run(run_dir).archive
    return [s for s in archive.summaries() if s.status == "accepted" and s.score >= 1.0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, Any]]]:
    """The same seed with the feature off (today's behaviour) and on."""
    base = tmp_path_factory.mktemp("plausible")
    return {"off": _run(base / "off"), "on": _run(base / "on", plausible_extra=EXTRA)}


def test_off_keeps_the_first_plausible_variant_which_games_the_tests(runs) -> None:
    run_dir, status = runs["off"]
    plausible = _plausible(run_dir)
    assert status["best_id"] == plausible[0].id and len(plausible) == 1
    assert status["best_holdout_score"] < 1.0, status  # the gaming edit: held-out tests fail


def test_extra_attempts_from_the_root_then_the_least_behaviour_change_wins(runs) -> None:
    off_dir, off = runs["off"]
    run_dir, status = runs["on"]
    plausible = _plausible(run_dir)
    assert plausible[0].id == off["best_id"]  # the same search up to the first 1.0
    assert len(plausible) >= 2 and status["best_id"] != plausible[0].id
    assert status["best_holdout_score"] == 1.0 and not status.get("holdout_warnings"), status
    view = open_run(run_dir)
    root = view.archive.summary(view.archive.root.id)
    best = view.archive.summary(status["best_id"])
    assert root.behaviour and set(root.behaviour) <= {f"tests/test_visible.py::test_{i:02d}" for i in range(1, 6)}
    assert agreement(best.behaviour, root.behaviour) > agreement(plausible[0].behaviour, root.behaviour)
    assert "triangle_kind" in view.code(status["best_id"])["triangle.py"].decode()
    after = plausible[0].attempt_id
    extras = _extras(view, after)
    assert len(extras) == EXTRA  # exactly plausible_extra attempts after the first 1.0
    later = [a for a in extras if a.generation > int(after[1:5])]  # after its generation
    assert later and all(a.parent_id == root.id for a in later)  # planned after it: from the root
    assert view.run.status == "completed" and "plausible_extra=30" in view.run.metadata["stop_reason"]


def test_probes_come_from_the_visible_tests_only_and_run_in_the_sandbox(tmp_path: Path) -> None:
    """Held-out calls (distinct arguments) never become probes, and the held-out tasks' results
    carry no fingerprint; the visible ones do, computed by the sandbox from the variant's code."""
    project(tmp_path)
    bench = CustomBenchmark(tmp_path / "benchmark" / "tasks.toml")
    assert bench.probes and all(p.task_id.startswith("tests/test_visible.py::") for p in bench.probes)
    assert not any("91" in p.args or "97" in p.args or "2.5" in p.args for p in bench.probes)
    assert ("triangle", "triangle_kind", "(3, 3, 3)") in {(p.module, p.name, p.args) for p in bench.probes}
    from darwin_plugins.local_sandbox import LocalSandbox, LocalSandboxOptions

    sandbox = LocalSandbox(LocalSandboxOptions())
    try:
        tasks = bench.tasks()
        results = bench.evaluate(tmp_path / "program", tasks, sandbox)
        fixed = tmp_path / "fixed"
        fixed.mkdir()
        (fixed / "triangle.py").write_text(PROGRAM.replace("a == b or b == c", "a == b or b == c or a == c"))
        fixed_results = bench.evaluate(fixed, tasks, sandbox)
    finally:
        sandbox.close()
    by_id = {r.task_id: r for r in results}
    held_out = [r for t, r in by_id.items() if t.startswith("tests/test_holdout.py")]
    assert len(held_out) == len(HOLDOUT) and all("probes" not in r.details for r in held_out)
    visible = {t: r.details["probes"] for t, r in by_id.items() if t.startswith("tests/test_visible.py")}
    assert len(visible) == len(VISIBLE)
    assert all(len(h.split()) == sum(p.task_id == t for p in bench.probes) > 0 for t, h in visible.items())
    fixed_visible = {r.task_id: r.details["probes"] for r in fixed_results if "probes" in r.details}
    assert set(fixed_visible) == set(visible) and fixed_visible != visible  # the fix changes some output
    assert agreement(fixed_visible, visible) < agreement(visible, visible)


def test_resume_after_kill_9_mid_extra_gives_the_same_choice(runs, tmp_path: Path) -> None:
    _, uninterrupted = runs["on"]
    config = project(tmp_path, plausible_extra=EXTRA)
    run_dir = tmp_path / "run"

    def a_third_of_the_extras_finished(view: Any) -> bool:
        first = [s for s in view.archive.summaries() if s.status == "accepted" and s.score >= 1.0]
        return bool(first) and sum(a.status == "finished" for a in _extras(view, first[0].attempt_id)) >= EXTRA // 3

    kill_run_when(config, run_dir, a_third_of_the_extras_finished, what="a third of the extra attempts finish",
                  timeout_s=300)
    killed = open_run(run_dir)
    assert killed.run.status == "running" and len(_extras(killed, _plausible(run_dir)[0].attempt_id)) < EXTRA
    resumed = cli("resume", str(run_dir), "-q")
    assert resumed.returncode == 0, resumed.stderr
    status = json.loads(cli("status", str(run_dir), "--json").stdout)
    view = open_run(run_dir)
    assert status["best_id"] == uninterrupted["best_id"] and status["best_holdout_score"] == 1.0, \
        (status, uninterrupted["best_id"])
    assert len(_extras(view, _plausible(run_dir)[0].attempt_id)) == EXTRA  # none redone, none skipped
    assert "plausible_extra=30" in view.run.metadata["stop_reason"]


def test_pipelined_run_makes_the_same_choice(runs, tmp_path: Path) -> None:
    _, status = runs["on"]
    run_dir, piped = _run(tmp_path, plausible_extra=EXTRA, lookahead=1)
    plausible = _plausible(run_dir)
    assert len(_extras(open_run(run_dir), plausible[0].attempt_id)) == EXTRA
    assert piped["best_holdout_score"] == 1.0 and piped["best_id"] != plausible[0].id, piped


@pytest.mark.parametrize("run, needle", [
    ({"plausible_extra": -1}, "run.plausible_extra"),
    ({"plausible_extra": 5, "stop_at_score": None}, "needs run.stop_at_score"),
])
def test_a_bad_plausible_extra_is_a_clear_error(tmp_path: Path, run: dict[str, Any], needle: str) -> None:
    config = project(tmp_path, **run)
    result = cli("run", str(config), "--run-dir", str(tmp_path / "run"), "-q")
    assert result.returncode == 2 and needle in result.stderr and "fix:" in result.stderr, result.stderr


def test_a_bad_probe_option_is_a_clear_error(tmp_path: Path) -> None:
    config = project(tmp_path, plausible_extra=EXTRA)
    tasks = tmp_path / "benchmark" / "tasks.toml"
    tasks.write_text(tasks.read_text().replace("probes = true", "probes = true\nprobe_limit = 0"))
    result = cli("run", str(config), "--run-dir", str(tmp_path / "run"), "-q")
    assert result.returncode == 2 and "probe_limit" in result.stderr and "fix" in result.stderr, result.stderr


def test_max_attempts_still_bounds_the_extra_attempts(runs, tmp_path: Path) -> None:
    off_dir, _ = runs["off"]
    cap = len(open_run(off_dir).attempts) + 5  # the target is reached before it, the extras are cut
    run_dir, status = _run(tmp_path, plausible_extra=EXTRA, max_attempts=cap)
    view = open_run(run_dir)
    assert len([a for a in view.attempts if a.retry_of is None]) == cap
    assert f"max_attempts={cap} reached" in view.run.metadata["stop_reason"], view.run.metadata


def test_plausible_extra_without_a_target_is_refused_through_set_too(tmp_path: Path) -> None:
    """``--set`` validates the merged config itself: the rule lives in the model, not in one loader."""
    import tomllib

    from darwin_core.commands.settings import validate_settings
    from darwin_core.config import ConfigError

    config = project(tmp_path, stop_at_score=None)
    with pytest.raises(ConfigError, match="needs run.stop_at_score"):
        validate_settings(tomllib.loads(config.read_text()), ["run.plausible_extra=3"], config)
