"""The benchmark conformance suite: tasks, results, and a variant that crashes.

Define ``darwin_benchmark`` (the benchmark), ``darwin_variant`` (a directory holding a
variant's code) and, optionally, ``darwin_broken_variant`` (code that cannot even start;
default: an empty directory) and ``darwin_sandbox`` (default: Darwin's ``local`` sandbox)::

    class TestMyBenchmark(BenchmarkConformance):
        @pytest.fixture
        def darwin_benchmark(self, tmp_path):
            return build_backend("benchmark", "mine", {"cases": "cases.json"},
                                 plugins=[my_plugin], config_dir=HERE)

        @pytest.fixture
        def darwin_variant(self):
            return HERE / "program"
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Iterator, get_args

import pytest

from darwin_hookspecs import Benchmark, Sandbox, TaskResult, TaskSpec
from darwin_hookspecs.records import FailureKind

from .build import build_backend

FAILURE_KINDS = set(get_args(FailureKind))


def tree_digest(root: Path) -> str:
    """A digest of every file's path and content under ``root``."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def check_result(task: TaskSpec, result: TaskResult) -> None:
    """One result's contract: its task, a finite score (raw, unbounded), finite metrics, a
    failure kind iff it failed."""
    assert isinstance(result, TaskResult)
    assert result.task_id == task.id
    assert math.isfinite(result.score), f"{task.id}: score {result.score} is not finite (make it an error)"
    assert all(math.isfinite(v) for v in result.metrics.values()), f"{task.id}: a metric is not finite"
    if result.passed:
        assert result.failure_kind is None, f"{task.id}: passed with failure_kind {result.failure_kind!r}"
    else:
        assert result.failure_kind in FAILURE_KINDS, (
            f"{task.id}: failure_kind {result.failure_kind!r} is not one of {sorted(FAILURE_KINDS)}")
    if result.coverage is not None:  # {relative path: [line numbers]}
        for path, lines in result.coverage.items():
            assert isinstance(path, str) and not Path(path).is_absolute(), f"coverage path {path!r}"
            assert all(isinstance(n, int) and n > 0 for n in lines), f"coverage lines of {path!r}"


class BenchmarkConformance:
    """Subclass it and define ``darwin_benchmark`` and ``darwin_variant`` fixtures."""

    @pytest.fixture
    def darwin_benchmark(self) -> Benchmark:
        raise pytest.UsageError("define a `darwin_benchmark` fixture returning your benchmark")

    @pytest.fixture
    def darwin_variant(self) -> Path:
        raise pytest.UsageError("define a `darwin_variant` fixture: a directory of variant code")

    @pytest.fixture
    def darwin_broken_variant(self, tmp_path: Path) -> Path:
        broken = tmp_path / "broken-variant"
        broken.mkdir()
        return broken

    @pytest.fixture
    def darwin_sandbox(self) -> Iterator[Sandbox]:
        sandbox = build_backend("sandbox", "local")
        yield sandbox
        sandbox.close()

    def test_is_a_benchmark(self, darwin_benchmark: Benchmark) -> None:
        assert isinstance(darwin_benchmark, Benchmark)
        assert darwin_benchmark.mode in ("program", "agent")

    def test_tasks_are_stable_and_unique(self, darwin_benchmark: Benchmark) -> None:
        tasks = darwin_benchmark.tasks()
        assert tasks and all(isinstance(t, TaskSpec) for t in tasks)
        ids = [t.id for t in tasks]
        assert len(set(ids)) == len(ids), "task ids must be unique"
        assert [t.id for t in darwin_benchmark.tasks()] == ids, "tasks() must keep its order"
        assert all(t.weight > 0 for t in tasks)

    def test_one_result_per_task_in_order(self, darwin_benchmark: Benchmark, darwin_variant: Path,
                                          darwin_sandbox: Sandbox) -> None:
        tasks = darwin_benchmark.tasks()
        before = tree_digest(darwin_variant)
        results = darwin_benchmark.evaluate(darwin_variant, tasks, darwin_sandbox)
        assert len(results) == len(tasks)
        for task, result in zip(tasks, results):
            check_result(task, result)
        assert tree_digest(darwin_variant) == before, "evaluate must not modify the variant"

    def test_a_subset_of_tasks(self, darwin_benchmark: Benchmark, darwin_variant: Path,
                               darwin_sandbox: Sandbox) -> None:
        tasks = darwin_benchmark.tasks()
        subset = list(reversed(tasks[: min(3, len(tasks))]))
        results = darwin_benchmark.evaluate(darwin_variant, subset, darwin_sandbox)
        assert [r.task_id for r in results] == [t.id for t in subset]

    def test_a_crashing_variant_fails_its_tasks_without_raising(
        self, darwin_benchmark: Benchmark, darwin_broken_variant: Path, darwin_sandbox: Sandbox
    ) -> None:
        tasks = darwin_benchmark.tasks()
        results = darwin_benchmark.evaluate(darwin_broken_variant, tasks, darwin_sandbox)
        assert len(results) == len(tasks)
        for task, result in zip(tasks, results):
            check_result(task, result)
            assert not result.passed, f"{task.id} passed on a variant that cannot run"
