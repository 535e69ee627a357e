"""What a task prints, read as a score, metrics and artifacts (never clamped).

A task's stdout may hold, in any order:

* ``DARWIN_SCORE=<number>``: the task's score (the last one counts);
* ``DARWIN_METRIC <name>=<number>``: a named metric (the last one of a name counts);
* a final JSON line ``{"metrics": {...}, "artifacts": {...}}`` (the last line of stdout that
  is a JSON object with either key); a metric named ``score`` sets the task's score.

NaN, infinities and values that are not numbers are *problems*: the task is an ``error`` and
the reason is put at the top of its log.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from darwin_hookspecs import ExecResult, TaskResult, bound_artifacts, finite_metric
from darwin_hookspecs.metrics import RESERVED_METRICS

SCORE_RE = re.compile(r"DARWIN_SCORE=(\S*)")
METRIC_RE = re.compile(r"DARWIN_METRIC\s+([^\s=]+)=(\S*)")
LOG_LIMIT = 6000
EXCERPT = 2000


@dataclass
class Reported:
    score: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    json_line: str | None = None


def _metric(reported: Reported, name: str, value: Any) -> None:
    try:
        number = finite_metric(name, value)
    except ValueError as exc:
        reported.problems.append(str(exc))
        return
    if name == "score":
        reported.score = number
    elif name in RESERVED_METRICS:
        reported.problems.append(f"metric {name!r} is reserved (the engine computes it); rename it")
    else:
        reported.metrics[name] = number


def parse_output(stdout: str) -> Reported:
    """Everything ``stdout`` reports (problems listed, nothing raised)."""
    reported = Reported()
    for line in stdout.splitlines():
        for value in SCORE_RE.findall(line):
            _metric(reported, "score", value)
        for name, value in METRIC_RE.findall(line):
            _metric(reported, name, value)
    for line in reversed(stdout.splitlines()):
        text = line.strip()
        if not text.startswith("{"):
            continue
        try:
            data = json.loads(text)
        except ValueError:
            continue
        if isinstance(data, dict) and ("metrics" in data or "artifacts" in data):
            reported.json_line = line
            _from_json(reported, data)
            break
    return reported


def _from_json(reported: Reported, data: dict[str, Any]) -> None:
    metrics = data.get("metrics") or {}
    if not isinstance(metrics, dict):
        reported.problems.append(f"'metrics' in the JSON line is {type(metrics).__name__}, not an object")
        metrics = {}
    for name, value in metrics.items():
        _metric(reported, str(name), value)
    artifacts = data.get("artifacts") or {}
    if isinstance(artifacts, dict):
        reported.artifacts.update(bound_artifacts(artifacts))
    else:
        reported.problems.append("'artifacts' in the JSON line is not an object")
    if data.get("error"):
        reported.problems.append(f"the evaluator failed: {str(data['error'])[-LOG_LIMIT // 2:]}")


def task_result(task_id: str, result: ExecResult, *, default_score: bool = True) -> TaskResult:
    """The result of a task whose process ran to ``result``: passed on exit 0 with readable
    output, an ``error`` when the output has a problem, the kill reason when killed."""
    reported = parse_output(result.stdout)
    killed = result.killed_reason
    ok_exit = result.exit_code == 0 and killed is None
    stdout = result.stdout if reported.json_line is None else result.stdout.replace(reported.json_line, "")
    artifacts = bound_artifacts({
        **reported.artifacts,
        **({"stdout": stdout[-EXCERPT:]} if stdout.strip() else {}),
        **({"stderr": result.stderr[-EXCERPT:]} if result.stderr.strip() else {}),
    })
    log = (result.stdout + result.stderr)[-LOG_LIMIT:]
    if reported.problems and killed is None:
        reason = "; ".join(reported.problems)
        return TaskResult(task_id=task_id, passed=False, score=0.0, duration_s=result.duration_s,
                          failure_kind="error", log=f"unreadable task output: {reason}\n{log}"[:LOG_LIMIT],
                          artifacts=artifacts)
    if killed is not None:
        kind = killed if killed in ("timeout", "oom", "output_limit", "infra") else "crash"
        return TaskResult(task_id=task_id, passed=False, score=0.0, duration_s=result.duration_s,
                          failure_kind=kind, log=log, artifacts=artifacts)
    score = reported.score if reported.score is not None else (float(ok_exit) if default_score else 0.0)
    return TaskResult(task_id=task_id, passed=ok_exit, score=score, duration_s=result.duration_s,
                      failure_kind=None if ok_exit else "fail", log=log,
                      metrics=dict(reported.metrics), artifacts=artifacts)
