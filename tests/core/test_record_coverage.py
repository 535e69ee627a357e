"""A recorded variant keeps every task's coverage, passing tasks' too: the mutation generator's
Ochiai fault localisation weighs a line by the passing tasks that execute it, and a child's
parent is read back from its record (until session 14 the records kept failing tasks' coverage
only, so in the engine every line a failing task ran looked equally suspicious)."""

from __future__ import annotations

from pathlib import Path

from darwin_core.config import load_config
from darwin_core.engine import Engine
from darwin_core.reader import open_run
from darwin_plugins.mutation.neighbourhood import ochiai

from support import quick_config


def test_passing_tasks_keep_their_coverage_in_the_record(quickstart: Path) -> None:
    config = quick_config(quickstart, generations=1, children_per_generation=1)
    Engine.create(load_config(config), quickstart / "run").run_loop()
    root = open_run(quickstart / "run").archive.get("v0000root")
    passing = [r for r in root.task_results.values() if r.passed]
    failing = [r for r in root.task_results.values() if not r.passed]
    assert passing and failing
    assert all(r.coverage and "textstats.py" in r.coverage for r in passing)  # dropped before
    assert all(r.log == "" for r in passing)  # logs of passing tasks are still not kept
    lines = ochiai([r.coverage for r in failing], [r.coverage for r in passing])["textstats.py"]
    assert len(set(lines.values())) > 1  # the passing tasks tell the failing tasks' lines apart
