"""Held-out tasks: evaluated on each new best, never searched on.

A benchmark marks tasks ``holdout``. The runtime keeps them apart from its tasks, so no
generator, target, log, selection rule, acceptance rule or stop condition ever sees them. Each
time the archive gets a new best, it is evaluated on them (in the sandbox, with the run's seeds
and repeats), and so is its parent if it was not yet; the record (collection ``holdout``, one
per variant) holds the held-out objective, pass rate and per-task outcome, and a warning when
the new best does worse on held-out tasks than its parent: a sign it games the training tasks.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from darwin_hookspecs import TaskSpec, Variant

from .store import RunStore

if TYPE_CHECKING:  # the checker's needs, imported by it: `darwin status` reads records only
    from .runtime import Runtime
    from .snapshots import CodeBook

COLLECTION = "holdout"


def holdout_tasks(tasks: Iterable[TaskSpec]) -> list[TaskSpec]:
    return [t for t in tasks if t.holdout]


class HoldoutChecker:
    """Evaluates new bests on the held-out tasks and records the outcome."""

    def __init__(self, runtime: "Runtime", store: RunStore, codebook: "CodeBook", scratch: Path) -> None:
        from .objective import Scorer, objective_of

        self.runtime, self.store, self.codebook, self.scratch = runtime, store, codebook, scratch
        self.tasks = list(getattr(runtime, "holdout_tasks", []) or [])
        self.scorer = Scorer(objective_of(runtime.benchmark), self.tasks,
                             str(getattr(runtime.benchmark, "metric_aggregation", "mean")))
        self.records: dict[str, dict[str, Any]] = {key: value for key, value in store.scan(COLLECTION)}

    def check(self, variant: Variant, parent: Variant | None) -> dict[str, Any] | None:
        """Evaluate ``variant`` (and ``parent`` when needed); its record, or ``None`` when the
        benchmark holds nothing out."""
        if not self.tasks:
            return None
        if variant.id in self.records:
            return self.records[variant.id]
        parent_record = None
        if parent is not None:
            parent_record = self.records.get(parent.id) or self._save(self._evaluate(parent, None))
        return self._save(self._evaluate(variant, parent_record))

    def _evaluate(self, variant: Variant, parent: dict[str, Any] | None) -> dict[str, Any]:
        where = self.scratch / f"holdout-{variant.id}"
        try:
            self.codebook.materialize(variant.id, where)
            from .staged import evaluate_tasks

            results = evaluate_tasks(self.runtime, where, self.tasks)
        finally:
            shutil.rmtree(where, ignore_errors=True)
        metrics = self.scorer.metrics(results)
        value = self.scorer.objective.value(metrics)
        record: dict[str, Any] = {
            "variant_id": variant.id, "parent_id": variant.parent_id, "training_score": variant.score,
            "training_pass_rate": variant.metrics.get("pass_rate"),
            "score": value, "pass_rate": metrics["pass_rate"], "metrics": metrics,
            "passed": sum(r.passed for r in results), "tasks": len(results),
            "results": {r.task_id: {"passed": r.passed, "score": r.score, "failure_kind": r.failure_kind}
                        for r in results},
            "warning": "",
        }
        if parent is not None:
            record["parent_score"] = parent.get("score")
            worse = parent.get("score") is not None and (
                value is None or self.scorer.objective.better(parent["score"], value))
            if worse:
                record["warning"] = (
                    f"new best {variant.id} scores {_fmt(value)} on held-out tasks, worse than its "
                    f"parent {variant.parent_id} ({_fmt(parent['score'])}): it may game the training tasks")
        return record

    def _save(self, record: dict[str, Any]) -> dict[str, Any]:
        stored = self.store.create_or_load(COLLECTION, record["variant_id"], record)
        self.records[record["variant_id"]] = stored
        return stored


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def load_records(store: RunStore) -> dict[str, dict[str, Any]]:
    """Every held-out record of a run, by variant id (for ``darwin status`` / ``archive``)."""
    try:
        return {key: value for key, value in store.scan(COLLECTION)}
    except Exception:  # noqa: BLE001 - a store without the collection: no record
        return {}


def holdout_status(records: dict[str, dict[str, Any]], best_id: str | None) -> dict[str, Any]:
    """What ``darwin status`` shows: the best's held-out score beside its training score, and
    the warnings: each new best worse on held-out tasks than its parent, and a best that passes
    a smaller share of held-out than of training tasks."""
    if not records:
        return {}
    best = records.get(best_id or "")
    status: dict[str, Any] = {
        "best_holdout_score": best.get("score") if best else None,
        "best_holdout_passed": f"{best['passed']}/{best['tasks']}" if best else None,
    }
    warnings = [r["warning"] for r in records.values() if r.get("warning")]
    train = best.get("training_pass_rate") if best else None
    if best and train is not None and best.get("pass_rate", 1.0) + 1e-9 < train:
        warnings.append(
            f"best {best_id} passes {train:.0%} of the training tasks but {best['pass_rate']:.0%} of the "
            f"held-out ones ({', '.join(t for t, r in best['results'].items() if not r['passed'])} "
            "fail): it may fit the training tests without being correct")
    if warnings:
        status["holdout_warnings"] = warnings
    return status
