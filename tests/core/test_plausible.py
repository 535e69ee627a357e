"""Choosing among plausible patches (``[run] plausible_extra`` with the custom benchmark's
``probes = true``): real runs, real sandbox.

The program has one bug (``a == b or b == c`` misses ``a == c``); two single edits pass every
visible test: the genuine fix and one that games them. The search meets the gaming edit first;
the extra attempts from the root find the fix, whose behaviour on probe inputs agrees more with
the root's, and the choice keeps it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from darwin_core.reader import open_run
from darwin_core.summary import agreement
from darwin_plugins.custom_benchmark.benchmark import CustomBenchmark

from support import quick_config

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
                                "stop_at_score": 1.0, "selection__name": "best", "executor__max_workers": 2,
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
    later = [a for a in extras if a.generation > view.attempts[0].generation and a.generation > int(after[1:5])]
    assert later and all(a.parent_id == root.id for a in later)  # planned after it: from the root
    assert view.run.status == "completed" and "plausible_extra=30" in view.run.metadata["stop_reason"]
