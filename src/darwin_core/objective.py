"""From task results to a variant's metrics and score: the objective model.

A variant's metrics are aggregated over its (training) tasks:

* ``score``: the weighted mean task score over *every* task, unevaluated ones counting 0;
* ``pass_rate``: the weighted share of tasks passed, over every task;
* each metric a task reported: the weighted mean over the tasks that reported it
  (``metric_aggregation = "mean"``), or the value of the last task, in the benchmark's order,
  that reported it (``"last"``: a cascade whose later stages refine earlier ones).

The variant's score is the benchmark's :class:`~darwin_hookspecs.Objective` of those metrics,
raw and never clamped. With ``[evaluation] repeats = N`` every task ran ``N`` times; the score
is the mean over repeats (``select_by = "mean"``) or its pessimistic bound, one standard error
worse (``select_by = "lower_bound"``), and the objective of each repeat is recorded.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable

from darwin_hookspecs import Objective, TaskResult, TaskSpec, Variant

if TYPE_CHECKING:
    from .runtime import Runtime


def objective_of(benchmark: Any) -> Objective:
    """The objective a benchmark declares (an attribute or a method), else the default."""
    declared = getattr(benchmark, "objective", None)
    if callable(declared):
        declared = declared()
    return declared if isinstance(declared, Objective) else Objective()


def aggregate(results: Iterable[TaskResult], tasks: list[TaskSpec], how: str = "mean") -> dict[str, float]:
    """A variant's metrics from its task results (``tasks``: the tasks the rates are over)."""
    results = list(results)
    weights = {t.id: t.weight for t in tasks}
    position = {t.id: i for i, t in enumerate(tasks)}
    total = sum(weights.values()) or 1.0
    metrics = {
        "score": sum(weights.get(r.task_id, 0.0) * r.score for r in results) / total,
        "pass_rate": sum(weights.get(r.task_id, 0.0) * r.passed for r in results) / total,
    }
    sums: dict[str, float] = {}
    mass: dict[str, float] = {}
    last: dict[str, tuple[int, float]] = {}
    for r in results:
        if r.task_id not in weights:
            continue
        for name, value in r.metrics.items():
            w = weights[r.task_id]
            sums[name] = sums.get(name, 0.0) + w * value
            mass[name] = mass.get(name, 0.0) + w
            if name not in last or position[r.task_id] >= last[name][0]:
                last[name] = (position[r.task_id], value)
    for name in sums:
        if name in metrics:
            continue
        metrics[name] = last[name][1] if how == "last" else (sums[name] / mass[name] if mass[name] else sums[name])
    return metrics


def repeat_results(results: list[TaskResult]) -> list[list[TaskResult]]:
    """The results of each repeat, rebuilt from ``details["repeats"]`` (one list when the
    evaluation was not repeated)."""
    count = max((len(r.details.get("repeats") or []) for r in results), default=0)
    if count <= 1:
        return [results]
    runs: list[list[TaskResult]] = [[] for _ in range(count)]
    for r in results:
        for index, rep in enumerate(r.details.get("repeats") or []):
            runs[index].append(TaskResult(task_id=r.task_id, passed=bool(rep.get("passed")),
                                          score=float(rep.get("score", 0.0)),
                                          metrics=dict(rep.get("metrics") or {})))
    return runs


class Scorer:
    """Scores variants of one run: its tasks, objective and repeat policy."""

    def __init__(self, objective: Objective, tasks: list[TaskSpec], aggregation: str = "mean",
                 select_by: str = "mean") -> None:
        self.objective, self.tasks = objective, tasks
        self.aggregation, self.select_by = aggregation, select_by

    @classmethod
    def for_runtime(cls, runtime: "Runtime") -> "Scorer":
        evaluation = runtime.config.evaluation
        return cls(objective_of(runtime.benchmark), runtime.tasks,
                   str(getattr(runtime.benchmark, "metric_aggregation", "mean")),
                   getattr(evaluation, "select_by", "mean"))

    def metrics(self, results: Iterable[TaskResult], tasks: list[TaskSpec] | None = None) -> dict[str, float]:
        return aggregate(results, self.tasks if tasks is None else tasks, self.aggregation)

    def repeats(self, results: list[TaskResult]) -> dict[str, Any]:
        """``values`` (the objective per repeat), ``seeds``, ``mean`` and ``stderr``; empty
        when the evaluation was not repeated."""
        runs = repeat_results(results)
        if len(runs) <= 1:
            return {}
        values = [self.objective.value(self.metrics(run)) for run in runs]
        known = [v for v in values if v is not None]
        seeds = [rep.get("seed") for rep in (results[0].details.get("repeats") or [])] if results else []
        mean = sum(known) / len(known) if known else None
        stderr = (math.sqrt(sum((v - mean) ** 2 for v in known) / (len(known) - 1) / len(known))
                  if mean is not None and len(known) > 1 else 0.0)
        return {"values": values, "seeds": seeds, "mean": mean, "stderr": stderr}

    def score(self, results: list[TaskResult]) -> tuple[float | None, dict[str, float], dict[str, Any]]:
        """``(score, metrics, repeats)``; the score is ``None`` when the objective's metric is
        missing (the variant cannot be ranked)."""
        metrics = self.metrics(results)
        value = self.objective.value(metrics)
        repeats = self.repeats(results)
        if value is not None and repeats and self.select_by == "lower_bound":
            value = value - self.objective.sign * repeats["stderr"]
        return value, metrics, repeats

    def annotate(self, variant: Variant) -> None:
        """Fill ``variant.metrics`` and ``variant.repeats`` from its task results."""
        results = list(variant.task_results.values())
        if not results:
            return
        _, variant.metrics, variant.repeats = self.score(results)

    def missing(self, metrics: dict[str, float]) -> str:
        """Why the objective has no value for these metrics (for the variant's reason)."""
        absent = [m for m in self.objective.metrics_used() if m not in metrics]
        return (f"objective metric(s) {', '.join(absent)} not reported (reported: "
                f"{', '.join(sorted(metrics)) or 'none'})")
