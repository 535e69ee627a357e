"""The evaluate step: run a variant's code on the benchmark's tasks, stage by stage.

It runs wherever its caller runs: inside an executor job for a child (:mod:`darwin_core.attempt`),
in the orchestrator for the initial variant and warm-start seeds (which are evaluated on every
task). The benchmark runs the code in the sandbox, never in this process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from darwin_hookspecs import TaskResult

from .infra import infrastructure
from .runtime import Runtime
from .snapshots import safe_join
from .staged import evaluate_all, evaluate_staged  # seeded, repeated, pass-rate and score thresholds


@dataclass
class Evaluation:
    """What the evaluate step returns."""

    results: list[TaskResult] = field(default_factory=list)
    stage_reached: int = -1
    evaluation_s: float = 0.0
    error: str = ""
    error_kind: str = ""
    """``apply`` (the change could not be written) or ``evaluation`` (the benchmark crashed)."""


def apply_changes(changes: dict[str, bytes | None], child_dir: Path,
                  write: Callable[[Path, bytes], None] | None = None) -> str:
    """Write ``changes`` into ``child_dir`` (``None`` deletes a file) with ``write`` (default: a
    new file each); the error, or ``""``."""
    try:
        for rel, data in changes.items():
            path = safe_join(child_dir, rel)
            if write is not None and data is not None:
                write(path, data)
                continue
            path.unlink(missing_ok=True)  # never write through a hard link into another copy
            if data is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
    except (ValueError, OSError) as exc:
        if infrastructure(exc):
            raise
        return f"proposal cannot be applied: {exc}"
    return ""


def evaluate_child(runtime: Runtime, child_dir: Path, target_task: str | None) -> Evaluation:
    """Evaluate a child in stages (its targeted task first); a crash is recorded, not raised."""
    evaluation = Evaluation()
    started = time.perf_counter()
    try:
        evaluation.results, evaluation.stage_reached = evaluate_staged(runtime, child_dir, target_task)
    except Exception as exc:  # noqa: BLE001 - an evaluation crash is recorded
        if infrastructure(exc):  # a full disk or a broken sandbox is no verdict on the child
            raise
        evaluation.error = f"evaluation failed: {type(exc).__name__}: {exc}"
        evaluation.error_kind = "evaluation"
    evaluation.evaluation_s = time.perf_counter() - started
    return evaluation


def evaluate_fully(runtime: Runtime, variant_dir: Path) -> Evaluation:
    """Evaluate on every task, whatever the stage thresholds (the initial variant, seeds)."""
    started = time.perf_counter()
    results = evaluate_all(runtime, variant_dir)
    return Evaluation(results=results, stage_reached=runtime.last_stage,
                      evaluation_s=time.perf_counter() - started)
