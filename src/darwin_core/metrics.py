"""The figures a user watches while a run goes, computed from its records alone.

Attempts per minute, acceptance rate, best score over time / attempts / spend, spend and tokens,
and evaluation failures by kind. Used by ``darwin status`` and ``darwin report``; works on a
live run (records are read, nothing is locked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from darwin_hookspecs import Attempt, Objective, Variant

from .summary import AttemptSummary, VariantSummary

FAILURE_KINDS_SHOWN = ("timeout", "oom", "crash", "error", "output_limit", "infra", "not_run")
"""Failure kinds that say something about the sandbox or the variant's code (a plain failed
test, ``fail``, is counted apart)."""


@dataclass
class BestPoint:
    """The best score after ``attempts`` children were recorded, ``elapsed_s`` into the run,
    with ``spend_usd`` spent; ``variant_id`` holds it."""

    attempts: int
    elapsed_s: float
    spend_usd: float
    score: float
    variant_id: str


@dataclass
class RunMetrics:
    attempts_finished: int = 0
    attempts_skipped: int = 0
    attempts_running: int = 0
    elapsed_s: float = 0.0
    attempts_per_minute: float | None = None
    children: int = 0
    accepted: int = 0
    acceptance_rate: float | None = None
    best_score: float | None = None
    best_id: str | None = None
    initial_score: float | None = None
    spend_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    failed_tests: int = 0
    failures_by_kind: dict[str, int] = field(default_factory=dict)
    attempt_errors: int = 0
    best_history: list[BestPoint] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The compact form ``darwin status`` shows."""
        return {
            "attempts_per_minute": _round(self.attempts_per_minute, 2),
            "acceptance_rate": _round(self.acceptance_rate, 3),
            "spend_usd": round(self.spend_usd, 4),
            "tokens": {"input": self.input_tokens, "output": self.output_tokens},
            "sandbox_failures": dict(self.failures_by_kind),
            "attempt_errors": self.attempt_errors,
            "best_score_over_time": [
                [round(p.elapsed_s / 60, 2), round(p.score, 4)] for p in self.best_history
            ],
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def compute_metrics(variants: Iterable[Variant | VariantSummary], attempts: Iterable[Attempt | AttemptSummary],
                    last_stage: int = 0, objective: Objective | None = None) -> RunMetrics:
    """Metrics of a run from its variants (or their summaries, which is all it reads) and
    attempts (as recorded so far); "best" follows ``objective``'s direction (default: the task
    score, maximised)."""
    objective = objective or Objective()
    variants = [v if isinstance(v, VariantSummary) else VariantSummary.of(v) for v in variants]
    attempts = list(attempts)
    metrics = RunMetrics()
    root = next((v for v in variants if v.parent_id is None), None)
    children = sorted((v for v in variants if v.parent_id is not None), key=lambda v: (v.created_at, v.id))
    metrics.children = len(children)
    metrics.accepted = sum(v.status == "accepted" for v in children)
    metrics.acceptance_rate = metrics.accepted / len(children) if children else None
    metrics.attempts_finished = sum(a.status == "finished" for a in attempts)
    metrics.attempts_skipped = sum(a.status == "skipped" for a in attempts)
    metrics.attempts_running = sum(a.status == "running" for a in attempts)
    metrics.attempt_errors = sum(v.status == "error" for v in children)

    for v in variants:
        metrics.spend_usd += v.cost_usd
        metrics.input_tokens += v.input_tokens
        metrics.output_tokens += v.output_tokens
        for kind, count in v.failures.items():
            if kind == "fail":
                metrics.failed_tests += count
            else:
                metrics.failures_by_kind[kind] = metrics.failures_by_kind.get(kind, 0) + count
    metrics.failures_by_kind = dict(sorted(metrics.failures_by_kind.items()))

    starts = [a.started_at for a in attempts if a.started_at]
    ends = [a.finished_at for a in attempts if a.status == "finished" and a.finished_at]
    t0 = root.created_at if root and root.created_at else (min(starts) if starts else 0.0)
    if starts and ends:
        window = max(ends) - min(starts)
        metrics.elapsed_s = max(ends) - t0 if t0 else window
        if window > 0:
            metrics.attempts_per_minute = len(ends) / (window / 60.0)

    if root is not None:
        metrics.initial_score = root.score
    best: VariantSummary | None = None
    spend = root.cost_usd if root else 0.0
    if root is not None and root.status == "accepted":
        best = root
        metrics.best_history.append(BestPoint(0, 0.0, spend, root.score, root.id))
    for count, child in enumerate(children, start=1):
        spend += child.cost_usd
        if _beats(child, best, last_stage, objective):
            improved = best is None or objective.better(child.score, best.score)
            best = child
            if improved:
                metrics.best_history.append(
                    BestPoint(count, max(0.0, child.created_at - t0), spend, child.score, child.id)
                )
    if best is not None:
        metrics.best_score, metrics.best_id = best.score, best.id
    return metrics


def _beats(variant: VariantSummary, best: VariantSummary | None, last_stage: int,
           objective: Objective) -> bool:
    """The archive's rule: accepted, evaluated on every stage, strictly better (ties: lower id)."""
    if variant.status != "accepted" or variant.stage_reached < last_stage:
        return False
    if best is None:
        return True
    return objective.better(variant.score, best.score) or (variant.score == best.score and variant.id < best.id)
