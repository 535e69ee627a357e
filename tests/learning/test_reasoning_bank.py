"""The reasoning bank distils lessons from finished attempts and feeds them to generators."""

from __future__ import annotations

import threading
from typing import Any

from darwin_core import PluginManager
from darwin_hookspecs import Attempt, BuildContext, Memory, RunInfo, Target, TaskResult, Variant, hookimpl
from darwin_plugins.mutation.generator import MutationOptions, create
from darwin_plugins.reasoning_bank import (
    COLLECTION,
    BM25,
    ReasoningBank,
    distil,
    tokens,
)


class RecordingGenerator:
    """Proposes mutants and remembers the memory each attempt was given."""

    def __init__(self, seen: list[tuple[str, list[str]]], lock: threading.Lock, context: Any) -> None:
        self.inner = create(MutationOptions(), context)
        self.seen, self.lock = seen, lock

    def propose(self, context: Any) -> Any:
        with self.lock:
            self.seen.append((context.attempt_id, list(context.memory)))
        return self.inner.propose(context)


class RecordingPlugin:
    def __init__(self) -> None:
        self.seen: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()

    @hookimpl
    def darwin_register_generators(self, registry: Any) -> None:
        registry.add("recording", lambda options, context: RecordingGenerator(self.seen, self.lock, context))


def _result(task: str, passed: bool, kind: str | None = None) -> TaskResult:
    return TaskResult(task_id=task, passed=passed, score=float(passed), failure_kind=None if passed else kind)


def _pair(target_task: str, child_status: str, fixed: bool, description: str) -> tuple[Attempt, Variant, Variant]:
    target = Target(kind="failing_task", task_id=target_task, description=f"task {target_task} fails",
                    log=f"AssertionError in {target_task}")
    parent = Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=0.5,
                     task_results={target_task: _result(target_task, False, "fail"), "test_ok": _result("test_ok", True)})
    child_results = {target_task: _result(target_task, fixed, "fail"), "test_ok": _result("test_ok", fixed, "crash")}
    child = Variant(id="v0001a000", parent_id=parent.id, generation=1, status=child_status,
                    score=1.0 if fixed else 0.0, task_results=child_results, description=description,
                    improvement_type="mutation:comparison", target=target)
    attempt = Attempt(id="g0001a000", generation=1, index=0, parent_id=parent.id, seed=1, target=target)
    return attempt, parent, child


RUN = RunInfo(run_id="r1", name="t", seed=0, created_at=0.0)


def test_lessons_say_what_worked_and_what_failed():
    attempt, parent, child = _pair("test_mean_basic", "accepted", True, "divide by len(values) in mean")
    lesson = distil(RUN, attempt, parent, child, storage=None)
    assert lesson.worked and lesson.text.startswith("WORKED: divide by len(values) in mean")
    assert "fixed test_mean_basic" in lesson.text

    attempt, parent, child = _pair("test_maximum", "accepted", False, "swap operands in maximum")
    lesson = distil(RUN, attempt, parent, child, storage=None)
    assert not lesson.worked and lesson.text.startswith("FAILED: swap operands in maximum")
    assert "broke test_ok (crash)" in lesson.text

    attempt, parent, child = _pair("test_maximum", "invalid", False, "empty change")
    child.reason = "empty proposal: no file changed"
    assert "invalid: empty proposal" in distil(RUN, attempt, parent, child, storage=None).text


def test_bm25_ranks_the_lessons_of_the_targeted_task_first():
    assert "mean" in tokens("test_mean_basic") and "test_mean_basic" in tokens("test_mean_basic")
    bank = ReasoningBank(top_k=2)
    for task, description in [("test_variance", "edit variance"), ("test_mean_basic", "edit mean"),
                              ("test_running_total", "edit running_total")]:
        attempt, parent, child = _pair(task, "accepted", True, description)
        attempt.id = f"g0001a{len(bank.lessons):03d}"
        bank.record(distil(RUN, attempt, parent, child, storage=None))
    _, parent, child = _pair("test_mean_basic", "accepted", True, "")
    hints = bank.retrieve(parent, child.target)
    assert len(hints) == 2 and "edit mean" in hints[0]

    index = BM25()
    index.add(["a", "b"])
    index.add(["c"])
    assert index.scores(["c"])[1] > index.scores(["c"])[0] == 0.0


def test_lessons_reach_the_generators_prompt_and_persist(learning_run):
    recorder = RecordingPlugin()
    engine = learning_run({"generator": {"name": "recording"}, "memory": {"name": "reasoning-bank", "top_k": 3},
                           "run": {"generations": 3, "children_per_generation": 2}},
                          extra_plugins=[recorder])
    assert len(recorder.seen) == 6
    stored = {value["text"]: value for _, value, _ in engine.storage.scan(COLLECTION)}
    assert len(stored) == 6  # one lesson per finished attempt
    first_attempt = min(recorder.seen)[0]
    assert dict(recorder.seen)[first_attempt] == []  # nothing learned before the first attempt
    with_memory = [(a, m) for a, m in recorder.seen if m]
    assert with_memory, "no attempt received any lesson"
    for attempt_id, memory in with_memory:
        assert len(memory) <= 3
        for hint in memory:
            lesson = stored[hint]  # every hint is a stored lesson...
            assert lesson["attempt_id"] < attempt_id  # ...learned from an earlier attempt
            assert hint.startswith(("WORKED:", "FAILED:"))

    # a new process (a resumed run) reloads the lessons from the run's storage
    assert engine.run is not None
    memory = PluginManager().create("memory", "reasoning-bank", {"top_k": 3}, BuildContext(
        run_id=engine.run.run_id, services={"storage": engine.storage}))
    assert isinstance(memory, Memory)
    parent = engine.archive.root
    target = next(a.target for a in engine.attempts.values() if a.target and a.target.task_id)
    hints = memory.retrieve(engine.run, parent, target)
    assert hints and set(hints) <= set(stored)


def test_the_bank_is_off_unless_the_memory_section_names_it(learning_run):
    recorder = RecordingPlugin()
    engine = learning_run({"generator": {"name": "recording"},
                           "run": {"generations": 2, "children_per_generation": 2}},
                          extra_plugins=[recorder])
    assert len(recorder.seen) == 4 and all(m == [] for _, m in recorder.seen)
    assert COLLECTION not in engine.storage.collections()


def test_bad_memory_options_stop_the_run_with_a_clear_error(quickstart, darwin_cli):
    from .conftest import write_learning_config

    path = write_learning_config(quickstart, {"memory": {"name": "reasoning-bank", "top_k": 0}})
    result = darwin_cli("run", str(path), "--run-dir", str(quickstart / "runs" / "bad"), "-q")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "[memory]" in result.stderr and "top_k" in result.stderr


def test_a_misspelt_memory_name_stops_before_the_run_and_lists_the_known_ones(quickstart, darwin_cli):
    from .conftest import write_learning_config

    path = write_learning_config(quickstart, {"memory": {"name": "reasoning-bnak"}})
    run_dir = quickstart / "runs" / "typo"
    result = darwin_cli("run", str(path), "--run-dir", str(run_dir), "-q")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "memory backend 'reasoning-bnak' is not available" in result.stderr
    assert "available: reasoning-bank" in result.stderr
    assert not (run_dir / "run.json").exists()  # nothing was recorded
