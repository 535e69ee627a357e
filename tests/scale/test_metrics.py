"""Run metrics: computed from records, shown by ``darwin status``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from darwin_hookspecs import Attempt, TaskResult, Usage, Variant
from darwin_core.metrics import compute_metrics
from darwin_core.reader import open_run


def _variant(vid: str, parent: str | None, status: str, score: float, at: float, cost: float = 0.0,
             kinds: tuple[str | None, ...] = ()) -> Variant:
    results = {f"t{i}": TaskResult(task_id=f"t{i}", passed=k is None, score=1.0 if k is None else 0.0,
                                   failure_kind=k) for i, k in enumerate(kinds)}
    usage = [Usage(role="coder", input_tokens=100, output_tokens=10, cost_usd=cost)] if cost else []
    return Variant(id=vid, parent_id=parent, generation=0 if parent is None else 1, status=status, score=score,
                   task_results=results, cost_usd=cost, usage=usage, created_at=at, stage_reached=0)


def _attempt(aid: str, start: float, end: float, status: str = "finished") -> Attempt:
    return Attempt(id=aid, generation=1, index=int(aid[-1]), parent_id="v0000root", seed=0, status=status,
                   started_at=start, finished_at=end)


def test_metrics_from_records() -> None:
    variants = [
        _variant("v0000root", None, "accepted", 0.25, 1000.0, kinds=(None, "fail", "timeout")),
        _variant("v0001a000", "v0000root", "accepted", 0.5, 1030.0, cost=0.02, kinds=(None, None, "oom")),
        _variant("v0001a001", "v0000root", "rejected", 0.1, 1060.0, cost=0.01, kinds=("crash", "fail", "timeout")),
        _variant("v0001a002", "v0000root", "accepted", 0.75, 1120.0, cost=0.03, kinds=(None, None, None)),
        _variant("v0001a003", "v0000root", "error", 0.0, 1130.0),
    ]
    attempts = [_attempt("g0001a000", 1010, 1030), _attempt("g0001a001", 1010, 1060),
                _attempt("g0001a002", 1030, 1120), _attempt("g0001a003", 1060, 1130),
                _attempt("g0001a004", 1130, 0, status="skipped")]
    m = compute_metrics(variants, attempts)
    assert m.attempts_finished == 4 and m.attempts_skipped == 1
    assert m.attempts_per_minute == pytest.approx(4 / 2.0)  # 4 attempts in 120 s
    assert m.acceptance_rate == pytest.approx(2 / 4)
    assert m.attempt_errors == 1
    assert m.spend_usd == pytest.approx(0.06)
    assert (m.input_tokens, m.output_tokens) == (300, 30)
    assert m.failures_by_kind == {"crash": 1, "oom": 1, "timeout": 2}
    assert m.failed_tests == 2
    assert [(p.attempts, p.elapsed_s, p.score, p.variant_id) for p in m.best_history] == [
        (0, 0.0, 0.25, "v0000root"), (1, 30.0, 0.5, "v0001a000"), (3, 120.0, 0.75, "v0001a002")]
    assert [p.spend_usd for p in m.best_history] == pytest.approx([0.0, 0.02, 0.06])
    assert (m.best_id, m.best_score, m.initial_score) == ("v0001a002", 0.75, 0.25)
    summary = m.summary()
    assert summary["best_score_over_time"] == [[0.0, 0.25], [0.5, 0.5], [2.0, 0.75]]


def test_status_shows_the_metrics(small_run: Path, darwin_cli: Any) -> None:
    result = darwin_cli("status", str(small_run), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    view = open_run(small_run)
    children = [v for v in view.variants if v.parent_id is not None]
    assert data["acceptance_rate"] == pytest.approx(sum(v.status == "accepted" for v in children) / len(children), abs=1e-3)
    assert data["attempts_per_minute"] > 0
    assert data["best_score_over_time"][-1][1] == pytest.approx(data["best_score"], abs=1e-4)
    assert data["best_score_over_time"][0][1] == pytest.approx(data["initial_score"], abs=1e-4)
    kinds: dict[str, int] = {}
    for v in view.variants:
        for r in v.task_results.values():
            if r.failure_kind and r.failure_kind != "fail":
                kinds[r.failure_kind] = kinds.get(r.failure_kind, 0) + 1
    assert data["sandbox_failures"] == kinds
    assert data["spend_usd"] == 0.0 and data["tokens"] == {"input": 0, "output": 0}
    table = darwin_cli("status", str(small_run))
    assert "attempts_per_minute" in table.stdout and "acceptance_rate" in table.stdout
