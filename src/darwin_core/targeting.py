"""Aim each attempt at a concrete weakness of its parent (DGM's task targeting)."""

from __future__ import annotations

import random

from darwin_hookspecs import Target, Variant

LOG_EXCERPT = 4000


def choose_target(parent: Variant, rng: random.Random) -> Target:
    """A failing task of the parent, uniformly; ``explore`` when it fails none."""
    failing = parent.failing_tasks
    if not failing:
        return Target(kind="explore", description=explore_description(parent))
    task_id = rng.choice(failing)
    result = parent.task_results[task_id]
    # a benchmark may name a more specific weakness (SWE-bench: empty_patch, context_length)
    kind = str(result.details.get("target_kind") or "failing_task")
    if result.details.get("target_description"):
        description = str(result.details["target_description"])
    elif result.failure_kind in ("timeout", "oom", "crash", "output_limit"):
        description = f"task {task_id} ends with {result.failure_kind}"
    else:
        description = f"task {task_id} fails"
    return Target(kind=kind, task_id=task_id, log=result.log[-LOG_EXCERPT:],
                  description=description, coverage=result.coverage)


def explore_description(parent: Variant, limit: int = 2000) -> str:
    """What a generator is told when the parent fails no task: its score, the metrics its
    tasks reported and their artifacts (an evaluator's feedback), bounded."""
    text = f"the parent passes every evaluated task; improve its score ({parent.score:.6g})"
    reported = {name: value for r in parent.task_results.values() for name, value in r.metrics.items()}
    if reported:
        text += "; its metrics: " + ", ".join(f"{k}={v:.6g}" for k, v in sorted(reported.items()))
    notes = [f"{r.task_id} {name}: {value.strip()}" for r in parent.task_results.values()
             for name, value in r.artifacts.items() if name not in ("stdout", "stderr") and value.strip()]
    if notes:
        text += "\nfeedback:\n" + "\n".join(notes)
    return text[:limit]
