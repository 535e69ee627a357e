"""Staged, seeded and repeated evaluation of one variant.

Stages run in the run's task order (the targeted task first); after each stage but the last,
the variant goes on only if the tasks evaluated so far reach the stage's ``threshold`` (a
weighted *pass rate*) and, when set, its ``score_threshold`` (the objective's value on those
tasks, in the objective's direction: at least it when maximising, at most it when minimising).

Every task gets ``DARWIN_SEED`` in its environment (added by a wrapper of the run's sandbox).
With ``[evaluation] repeats = N`` each stage is evaluated ``N`` times with ``N`` seeds derived
from the run's seed (the same seeds for every variant, so variants are compared on the same
draws); each task's result is then the mean over repeats (see :func:`merge_repeats`).
"""

from __future__ import annotations

import functools
import random
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from darwin_hookspecs import ExecRequest, ExecResult, Sandbox, TaskResult, TaskSpec

from .objective import Scorer
from .runtime import Runtime

SEED_ENV = "DARWIN_SEED"


class SeededSandbox:
    """The run's sandbox, adding ``DARWIN_SEED`` to every request's environment."""

    def __init__(self, sandbox: Sandbox, seed: int) -> None:
        self.sandbox, self.seed = sandbox, seed

    def run(self, request: ExecRequest) -> ExecResult:
        return self.sandbox.run(replace(request, env={**request.env, SEED_ENV: str(self.seed)}))

    def close(self) -> None:
        """The wrapped sandbox belongs to the run: it is not closed here."""

    def guarantees(self) -> dict[str, bool]:
        return self.sandbox.guarantees()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sandbox, name)


def repeat_seeds(run_seed: int, repeats: int) -> list[int]:
    """The ``DARWIN_SEED`` of each repeat (a function of the run's seed only: computed once)."""
    return list(_repeat_seeds(run_seed, repeats))


@functools.lru_cache(maxsize=64)
def _repeat_seeds(run_seed: int, repeats: int) -> tuple[int, ...]:
    return tuple(random.Random(f"{run_seed}:evaluation:{index}").getrandbits(31) for index in range(repeats))


def merge_repeats(runs: list[TaskResult], seeds: list[int]) -> TaskResult:
    """One task's repeats as one result: the mean score and metrics, passed by majority,
    ``flaky`` when the repeats disagree, each repeat in ``details["repeats"]``."""
    first = runs[0]
    if len(runs) == 1:
        details = {**first.details, "seed": seeds[0]}
        if type(first) is TaskResult:  # dataclasses.replace without its per-field loop (hot: every task)
            return TaskResult(**{**first.__dict__, "details": details})
        return replace(first, details=details)
    passes = sum(r.passed for r in runs)
    passed = passes * 2 > len(runs)
    names = {name for r in runs for name in r.metrics}
    metrics = {}
    for name in sorted(names):
        values = [r.metrics[name] for r in runs if name in r.metrics]
        metrics[name] = sum(values) / len(values)
    kinds = Counter(r.failure_kind for r in runs if not r.passed)
    failing = next((r for r in runs if not r.passed), first)
    return TaskResult(
        task_id=first.task_id, passed=passed, score=sum(r.score for r in runs) / len(runs),
        duration_s=sum(r.duration_s for r in runs),
        failure_kind=None if passed else (kinds.most_common(1)[0][0] if kinds else "fail"),
        log=failing.log, log_ref=failing.log_ref, coverage=failing.coverage,
        runs=len(runs), flaky=0 < passes < len(runs) or any(r.flaky for r in runs),
        details={**failing.details, "repeats": [
            {"seed": seed, "score": r.score, "passed": r.passed, "failure_kind": r.failure_kind,
             "metrics": dict(r.metrics)} for seed, r in zip(seeds, runs)]},
        metrics=metrics, artifacts=dict(runs[-1].artifacts),
    )


def evaluate_tasks(runtime: Runtime, variant_dir: Path, tasks: list[TaskSpec]) -> list[TaskResult]:
    """``tasks`` evaluated once per repeat (each with its seed), merged per task."""
    if not tasks:
        return []
    seeds = repeat_seeds(runtime.config.run.seed, getattr(runtime.config.evaluation, "repeats", 1))
    runs = [runtime.benchmark.evaluate(variant_dir, tasks, SeededSandbox(runtime.sandbox, seed))
            for seed in seeds]
    return [merge_repeats([run[i] for run in runs], seeds) for i in range(len(tasks))]


def evaluate_staged(runtime: Runtime, variant_dir: Path, target_task: str | None) -> tuple[list[TaskResult], int]:
    """Evaluate stage by stage; stop after a stage below its pass-rate or score threshold."""
    order = runtime.task_order(target_task)
    sizes = runtime.stage_sizes()
    scorer = Scorer.for_runtime(runtime)
    results: list[TaskResult] = []
    done = 0
    reached = -1
    for index, (stage, size) in enumerate(zip(runtime.stages, sizes)):
        results += evaluate_tasks(runtime, variant_dir, order[done:size])
        done = size
        reached = index
        if index == len(runtime.stages) - 1:
            break
        metrics = scorer.metrics(results, order[:done])
        if metrics["pass_rate"] < stage.threshold:
            break
        target = getattr(stage, "score_threshold", None)
        if target is not None:
            value = scorer.objective.value(metrics)
            if value is None or not scorer.objective.reached(value, target):
                break
    return results, reached


def evaluate_all(runtime: Runtime, variant_dir: Path) -> list[TaskResult]:
    """Every training task, whatever the thresholds (the initial variant)."""
    results, _ = evaluate_staged(runtime, variant_dir, None)
    seen = {r.task_id for r in results}
    return results + evaluate_tasks(runtime, variant_dir, [t for t in runtime.tasks if t.id not in seen])
