"""One attempt, as a pure function of a picklable job: generate, apply, evaluate in stages.

This runs wherever the executor puts it (a thread here, a Ray worker elsewhere). It touches no
storage and decides nothing about the archive: it returns an :class:`AttemptOutcome` that the
orchestrator records. A job's ``phase`` is ``all`` (both steps), or ``generate`` then
``evaluate`` when the orchestrator reviews the generated change before paying for its
evaluation (the after-generation gate, see :mod:`darwin_core.gating`).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from darwin_hookspecs import (
    Attempt,
    BudgetExceededError,
    GenerationContext,
    Proposal,
    TaskResult,
    Usage,
    UserError,
    Variant,
)

from .runtime import Runtime, runtime_for
from .snapshots import safe_join, write_tree


@dataclass
class AttemptJob:
    """Everything a worker needs; picklable."""

    run_id: str
    config_data: dict[str, Any]
    config_source: str | None
    run_dir: str
    attempt: Attempt
    parent: Variant
    parent_files: dict[str, bytes]
    memory: list[str] = field(default_factory=list)
    phase: str = "all"
    """``all``, ``generate`` (stop before evaluating) or ``evaluate`` (apply ``changes``)."""
    changes: dict[str, bytes | None] = field(default_factory=dict)
    """The generated change, for the ``evaluate`` phase."""


@dataclass
class AttemptOutcome:
    attempt_id: str
    proposal: Proposal | None = None
    changes: dict[str, bytes | None] = field(default_factory=dict)
    results: list[TaskResult] = field(default_factory=list)
    stage_reached: int = -1
    error: str = ""
    error_kind: str = ""
    """``generator``, ``apply``, ``evaluation``, ``budget`` or ``user`` (the generator raised a
    ``UserError``: the run stops with it)."""
    generation_started: float = 0.0
    generation_s: float = 0.0
    evaluation_s: float = 0.0
    usage: list[Usage] = field(default_factory=list)
    changed: bool = False
    """The proposal changes the parent (so it is worth evaluating)."""

    def merge_evaluation(self, evaluation: "AttemptOutcome") -> "AttemptOutcome":
        """This generation outcome completed by its ``evaluate`` phase."""
        self.results, self.stage_reached = evaluation.results, evaluation.stage_reached
        self.evaluation_s = evaluation.evaluation_s
        if evaluation.error:
            self.error, self.error_kind = evaluation.error, evaluation.error_kind
        return self


def run_attempt_job(job: AttemptJob) -> AttemptOutcome:
    """Entry point for executors (module-level, picklable)."""
    runtime = runtime_for(job.run_id, job.config_data, job.config_source, job.run_dir)
    return run_attempt(runtime, job)


def run_attempt(runtime: Runtime, job: AttemptJob) -> AttemptOutcome:
    attempt = job.attempt
    outcome = AttemptOutcome(attempt_id=attempt.id)
    scratch = runtime.run_dir / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"{attempt.id}-", dir=scratch))
    try:
        if job.phase == "evaluate":
            outcome.changes, outcome.changed = dict(job.changes), True
            child_dir = workdir / "child"
            write_tree(job.parent_files, child_dir)
            if not _apply(outcome, child_dir):
                return outcome
        else:
            child_dir = _generate(runtime, job, workdir, outcome)
            if child_dir is None or not outcome.changed or job.phase == "generate":
                return outcome  # unchanged: recorded as invalid, not evaluated
        t1 = time.perf_counter()
        try:
            outcome.results, outcome.stage_reached = evaluate_staged(
                runtime, child_dir, attempt.target.task_id if attempt.target else None
            )
        except Exception as exc:  # noqa: BLE001 - an evaluation crash is recorded
            outcome.error = f"evaluation failed: {type(exc).__name__}: {exc}"
            outcome.error_kind = "evaluation"
        outcome.evaluation_s = time.perf_counter() - t1
        return outcome
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _generate(runtime: Runtime, job: AttemptJob, workdir: Path, outcome: AttemptOutcome) -> Path | None:
    """Ask the generator for a proposal and apply it; the child's directory, or ``None``."""
    attempt = job.attempt
    parent_dir = workdir / "parent"
    write_tree(job.parent_files, parent_dir)
    context = GenerationContext(
        run_id=job.run_id, attempt_id=attempt.id, parent=job.parent, parent_dir=parent_dir,
        target=attempt.target, seed=attempt.seed, memory=list(job.memory),  # type: ignore[arg-type]
        sandbox=runtime.sandbox, benchmark=runtime.benchmark,
        record_usage=outcome.usage.append,
    )
    outcome.generation_started = time.time()
    t0 = time.perf_counter()
    try:
        proposal = runtime.generator.propose(context)
    except BudgetExceededError as exc:
        outcome.error, outcome.error_kind = str(exc), "budget"
        return None
    except UserError as exc:  # bad input met mid-run (e.g. a refused API key): the run stops, exit 2
        outcome.error, outcome.error_kind = str(exc), "user"
        return None
    except Exception as exc:  # noqa: BLE001 - a generator crash is recorded, not fatal
        outcome.error = f"generator failed: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-5)}"
        outcome.error_kind = "generator"
        return None
    finally:
        outcome.generation_s = time.perf_counter() - t0
    outcome.proposal = proposal
    for usage in proposal.usage:
        if usage not in outcome.usage:
            outcome.usage.append(usage)
    try:
        outcome.changes = {
            rel: (text.encode("utf-8") if text is not None else None)
            for rel, text in proposal.changes.items()
        }
        child_dir = workdir / "child"
        shutil.copytree(parent_dir, child_dir)
    except (ValueError, OSError) as exc:
        outcome.error, outcome.error_kind = f"proposal cannot be applied: {exc}", "apply"
        return None
    if not _apply(outcome, child_dir):
        return None
    outcome.changed = any(job.parent_files.get(rel) != data for rel, data in outcome.changes.items())
    return child_dir


def _apply(outcome: AttemptOutcome, child_dir: Path) -> bool:
    """Write ``outcome.changes`` into ``child_dir``; record why not when it cannot."""
    try:
        for rel, data in outcome.changes.items():
            path = safe_join(child_dir, rel)
            if data is None:
                path.unlink(missing_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
    except (ValueError, OSError) as exc:
        outcome.error, outcome.error_kind = f"proposal cannot be applied: {exc}", "apply"
        return False
    return True


def evaluate_staged(runtime: Runtime, variant_dir: Path, target_task: str | None) -> tuple[list[TaskResult], int]:
    """Evaluate stage by stage; stop after a stage whose pass rate is below its threshold."""
    order = runtime.task_order(target_task)
    sizes = runtime.stage_sizes()
    results: list[TaskResult] = []
    done = 0
    reached = -1
    for index, (stage, size) in enumerate(zip(runtime.stages, sizes)):
        tasks = order[done:size]
        if tasks:
            results += runtime.benchmark.evaluate(variant_dir, tasks, runtime.sandbox)
        done = size
        reached = index
        weights = {t.id: t.weight for t in order[:done]}
        total = sum(weights.values()) or 1.0
        rate = sum(weights[r.task_id] * r.score for r in results) / total
        if index < len(runtime.stages) - 1 and rate < stage.threshold:
            break
    return results, reached
