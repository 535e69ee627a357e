"""Opening runs: the read-only loader ``darwin_core.open_run``, an engine opened on a finished
run, plugins given both ways, and the planner's ``sibling_index``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import darwin_core
from darwin_core import Engine, PluginManager, load_config
from darwin_core.rundir import override_config
from darwin_core.snapshots import read_tree
from darwin_hookspecs import Proposal, hookimpl

from support import quick_config


def test_open_run_reads_variants_attempts_and_code_of_a_finished_run(quickstart: Path) -> None:
    config = quick_config(quickstart, generations=2, children_per_generation=2)
    summary = Engine.create(load_config(config), quickstart / "run").run_loop()
    view = darwin_core.open_run(quickstart / "run")
    assert summary.status == "completed" and view.run is not None and view.run.status == "completed"
    assert [v.id for v in view.variants][0] == "v0000root" and len(view.variants) == 5
    assert len(view.attempts) == 4 and all(a.status == "finished" for a in view.attempts)
    # the root's code is the initial program; each child's differs from its parent's exactly
    # in the files of its snapshot
    assert view.code("v0000root") == read_tree(quickstart / "program")
    for child in view.variants[1:]:
        assert child.parent_id is not None
        mine, parents = view.code(child.id), view.code(child.parent_id)
        changed = {rel for rel in set(mine) | set(parents) if mine.get(rel) != parents.get(rel)}
        assert changed == set(child.snapshot)
    # an engine opened on the finished run sees what is recorded (it used to see nothing)
    engine = Engine.open(quickstart / "run")
    assert [v.id for v in engine.archive.variants()] == [v.id for v in view.variants]
    assert sorted(engine.attempts) == sorted(a.id for a in view.attempts)
    view.close()


class _Observer:
    def __init__(self) -> None:
        self.started: list[bool] = []

    @hookimpl
    def darwin_run_started(self, run, resumed, services):
        self.started.append(resumed)


def test_plugins_and_extra_plugins_are_both_honoured(quickstart: Path) -> None:
    config = load_config(quick_config(quickstart, generations=1, children_per_generation=1))
    observer = _Observer()
    manager = PluginManager(disable=config.plugins.disable)
    engine = Engine.create(config, quickstart / "run", plugins=manager, extra_plugins=[observer])
    assert engine.plugins is manager
    assert engine.run_loop().status == "completed"
    assert observer.started == [False]


class _SiblingRecorder:
    """A generator that appends a line to the program and remembers what it was told."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    @hookimpl
    def darwin_register_generators(self, registry):
        outer = self

        class Recorder:
            def propose(self, context):
                outer.seen[context.attempt_id] = context.sibling_index
                source = (context.parent_dir / "textstats.py").read_text()
                return Proposal(changes={"textstats.py": source + f"# {context.attempt_id}\n"})

        registry.add("sibling-recorder", lambda o, c: Recorder())


def _expected_sibling_indexes(attempts: list) -> dict[str, int]:
    """The rule, recomputed from the records: attempts planned earlier on the same parent."""
    counts: Counter[str] = Counter()
    expected: dict[str, int] = {}
    for attempt in sorted((a for a in attempts if a.retry_of is None), key=lambda a: (a.generation, a.index)):
        expected[attempt.id] = counts[attempt.parent_id]
        counts[attempt.parent_id] += 1
    return expected


def test_sibling_index_counts_earlier_attempts_on_the_parent_and_survives_resume(quickstart: Path) -> None:
    config = quick_config(quickstart, generations=2, children_per_generation=3,
                          generator__name="sibling-recorder", selection__name="best")
    first = _SiblingRecorder()
    Engine.create(load_config(config), quickstart / "run", extra_plugins=[first]).run_loop()
    before = {a.id: a.metadata["sibling_index"] for a in darwin_core.open_run(quickstart / "run").attempts}
    assert first.seen == before
    assert sorted(before.values()) != [0] * len(before)  # "best" picks a parent more than once

    override_config(quickstart / "run", ["run.generations=3"])
    second = _SiblingRecorder()
    assert Engine.open(quickstart / "run", extra_plugins=[second]).run_loop().status == "completed"
    attempts = darwin_core.open_run(quickstart / "run").attempts
    recorded = {a.id: a.metadata["sibling_index"] for a in attempts}
    assert {k: recorded[k] for k in before} == before  # resume changes nothing recorded
    assert second.seen == {k: v for k, v in recorded.items() if k not in before}
    assert recorded == _expected_sibling_indexes(attempts)
