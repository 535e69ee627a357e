"""OpenTelemetry tracing of runs, built purely on Darwin's lifecycle hooks.

Span tree (times are the recorded ones, set explicitly)::

    darwin.run
    ├── darwin.evaluate            (the initial variant)
    │   └── darwin.task  ×N
    ├── darwin.generation  ×G
    │   └── darwin.attempt  ×K
    │       ├── darwin.generate    (the generator call: tokens, cost)
    │       ├── darwin.evaluate    (sandboxed evaluation of the child)
    │       │   └── darwin.task  ×N
    │       └── darwin.storage.write  (child and attempt records)
    └── darwin.storage.write        (run, generation records)

Active when the ``otel`` extra is installed and either the application installed a global
tracer provider, or the standard OTel environment asks for export: ``OTEL_TRACES_EXPORTER``
(``otlp``, ``console``, comma-separated) or ``OTEL_EXPORTER_OTLP[_TRACES]_ENDPOINT``;
``OTEL_SDK_DISABLED=true`` turns it off. Otherwise every hook is a no-op.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from darwin_hookspecs import hookimpl

from .tracing_provider import provider_from_environment

INSTRUMENTATION = "darwin"


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


def _usage_totals(usages: list[Any]) -> dict[str, Any]:
    return {
        "darwin.tokens.input": sum(u.input_tokens for u in usages),
        "darwin.tokens.output": sum(u.output_tokens for u in usages),
        "darwin.cost_usd": float(sum(u.cost_usd for u in usages)),
        "darwin.model_calls": sum(u.calls for u in usages),
    }


@dataclass
class _RunTrace:
    """Open spans and buffered events of one run."""

    run_span: Any = None
    generations: dict[int, Any] = field(default_factory=dict)
    attempts: dict[str, Any] = field(default_factory=dict)
    generated_end: dict[str, float] = field(default_factory=dict)
    tasks: dict[str, list[Any]] = field(default_factory=dict)
    root_tasks: list[Any] = field(default_factory=list)
    root_tasks_seen_at: float = 0.0
    early_writes: list[tuple[str, str, int, float, float]] = field(default_factory=list)


class TracingObserver:
    """The observer. ``tracer_provider=None``: chosen from the environment on first use."""

    def __init__(self, tracer_provider: Any = None) -> None:
        self._provider = tracer_provider
        self._resolved = tracer_provider is not None
        self._tracer: Any = None
        self._runs: dict[str, _RunTrace] = {}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ setup

    def _get_tracer(self) -> Any:
        if not self._resolved:
            self._provider = provider_from_environment()
            self._resolved = True
        if self._provider is None:
            return None
        if self._tracer is None:
            from importlib import metadata  # the installed darwin's version, not the engine's module

            try:
                version = metadata.version(INSTRUMENTATION)
            except metadata.PackageNotFoundError:  # a checkout that is not installed
                version = "0"
            self._tracer = self._provider.get_tracer(INSTRUMENTATION, version)
        return self._tracer

    def _span(self, name: str, parent: Any, start: float, attributes: dict[str, Any]) -> Any:
        from opentelemetry import trace

        context = trace.set_span_in_context(parent) if parent is not None else None
        clean = {k: v for k, v in attributes.items() if v is not None}
        return self._tracer.start_span(name, context=context, start_time=_ns(start), attributes=clean)

    @staticmethod
    def _end(span: Any, end: float, error: str | None = None) -> None:
        if error:
            from opentelemetry.trace import Status, StatusCode

            span.set_status(Status(StatusCode.ERROR, error[:200]))
        span.end(end_time=_ns(end))

    # ------------------------------------------------------------------- hooks

    @hookimpl
    def darwin_run_started(self, run: Any, resumed: bool) -> None:
        if self._get_tracer() is None:
            return
        with self._lock:
            state = self._runs.setdefault(run.run_id, _RunTrace())
            start = min([time.time()] + [w[3] for w in state.early_writes])
            state.run_span = self._span("darwin.run", None, start, {
                "darwin.run.id": run.run_id, "darwin.run.name": run.name,
                "darwin.run.seed": run.seed, "darwin.run.resumed": resumed,
            })
            for write in state.early_writes:
                self._write_span(state, *write)
            state.early_writes.clear()

    @hookimpl
    def darwin_generation_started(self, run: Any, generation: int, attempts: list[Any]) -> None:
        state = self._state(run.run_id)
        if state is None:
            return
        with self._lock:
            now = time.time()
            self._flush_root(state, now)
            # The hook fires once the generation's marks are durable; its attempts may have been
            # marked running (started_at) just before that commit: the span opens at the earliest.
            start = min([now] + [a.started_at for a in attempts if a.started_at])
            state.generations[generation] = self._span("darwin.generation", state.run_span, start, {
                "darwin.generation": generation, "darwin.attempts.planned": len(attempts),
                "darwin.parent_ids": sorted({a.parent_id for a in attempts}),
            })

    @hookimpl
    def darwin_attempt_started(self, run: Any, attempt: Any) -> None:
        state = self._state(run.run_id)
        if state is None:
            return
        with self._lock:
            self._open_attempt(state, attempt, attempt.started_at or time.time())

    def _open_attempt(self, state: _RunTrace, attempt: Any, start: float) -> Any:
        parent = state.generations.get(attempt.generation, state.run_span)
        target = attempt.target
        span = self._span("darwin.attempt", parent, start, {
            "darwin.attempt.id": attempt.id, "darwin.generation": attempt.generation,
            "darwin.attempt.index": attempt.index, "darwin.parent.id": attempt.parent_id,
            "darwin.attempt.seed": attempt.seed, "darwin.attempt.retry_of": attempt.retry_of,
            "darwin.target.kind": target.kind if target else None,
            "darwin.target.task_id": target.task_id if target else None,
        })
        state.attempts[attempt.id] = span
        return span

    @hookimpl
    def darwin_proposal_generated(
        self, run: Any, attempt: Any, proposal: Any, started_at: float, duration_s: float
    ) -> None:
        state = self._state(run.run_id)
        if state is None:
            return
        with self._lock:
            parent = state.attempts.get(attempt.id) or self._open_attempt(state, attempt, started_at)
            changed = sorted(proposal.changes)
            span = self._span("darwin.generate", parent, started_at, {
                "darwin.attempt.id": attempt.id, "darwin.parent.id": attempt.parent_id,
                "darwin.improvement_type": proposal.improvement_type,
                "darwin.files_changed": len(changed), "darwin.files": changed[:20],
                "darwin.models": sorted({u.model for u in proposal.usage if u.model}),
                **_usage_totals(proposal.usage),
            })
            end = started_at + duration_s
            self._end(span, end)
            state.generated_end[attempt.id] = end

    @hookimpl
    def darwin_task_evaluated(self, run: Any, attempt: Any, result: Any) -> None:
        state = self._state(run.run_id)
        if state is None:
            return
        with self._lock:
            if attempt is None:
                state.root_tasks.append(result)
                state.root_tasks_seen_at = state.root_tasks_seen_at or time.time()
            else:
                state.tasks.setdefault(attempt.id, []).append(result)

    @hookimpl
    def darwin_attempt_finished(self, run: Any, attempt: Any, child: Any) -> None:
        state = self._state(run.run_id)
        if state is None:
            return
        with self._lock:
            end = attempt.finished_at or time.time()
            span = state.attempts.pop(attempt.id, None) or self._open_attempt(state, attempt, end)
            state.attempts.pop(attempt.id, None)
            tasks = state.tasks.pop(attempt.id, [])
            gen_end = state.generated_end.pop(attempt.id, None)
            if child is not None and tasks:
                start = gen_end if gen_end is not None else max(attempt.started_at, end - child.timings.get("evaluation_s", 0.0))
                self._evaluation(span, child.id, tasks, start, start + child.timings.get("evaluation_s", 0.0))
            attributes: dict[str, Any] = {"darwin.attempt.status": attempt.status}
            error = None
            if child is not None:
                attributes.update({
                    "darwin.child.id": child.id, "darwin.child.status": child.status,
                    "darwin.child.score": child.score, "darwin.child.reason": child.reason,
                    "darwin.improvement_type": child.improvement_type,
                    "darwin.stage_reached": child.stage_reached,
                    "darwin.tasks.evaluated": len(child.task_results),
                    "darwin.tasks.passed": sum(r.passed for r in child.task_results.values()),
                    **_usage_totals(child.usage),
                })
                attributes["darwin.outcome"] = child.status
                if child.status == "error":
                    error = attempt.error or child.reason or "attempt failed"
            else:
                attributes["darwin.outcome"] = attempt.status
            if attempt.metadata.get("gate"):
                attributes["darwin.gate"] = str(attempt.metadata["gate"])[:500]
            span.set_attributes({k: v for k, v in attributes.items() if v is not None})
            self._end(span, max(end, attempt.started_at or end), error)

    @hookimpl
    def darwin_generation_finished(self, run: Any, generation: int) -> None:
        state = self._state(run.run_id)
        if state is None:
            return
        with self._lock:
            span = state.generations.pop(generation, None)
            if span is not None:
                self._end(span, time.time())

    @hookimpl
    def darwin_record_written(
        self, run_id: str, collection: str, key: str, nbytes: int, started_at: float, duration_s: float
    ) -> None:
        if self._get_tracer() is None:
            return
        with self._lock:
            state = self._runs.setdefault(run_id, _RunTrace())
            if state.run_span is None:
                state.early_writes.append((collection, key, nbytes, started_at, duration_s))
                return
            if collection == "variants" and key and not state.attempts.get("g" + key[1:]):
                self._flush_root(state, started_at)
            self._write_span(state, collection, key, nbytes, started_at, duration_s)

    @hookimpl
    def darwin_run_finished(self, run: Any, summary: Any) -> None:
        state = self._state(run.run_id)
        if state is None:
            return
        with self._lock:
            now = time.time()
            self._flush_root(state, now)
            for span in list(state.attempts.values()) + list(state.generations.values()):
                span.set_attribute("darwin.incomplete", True)
                self._end(span, now)
            span = state.run_span
            span.set_attributes({
                "darwin.run.status": summary.status, "darwin.run.stop_reason": summary.stop_reason,
                "darwin.attempts": summary.attempts, "darwin.variants": summary.variants,
                "darwin.accepted": summary.accepted, "darwin.best.id": summary.best_id or "",
                "darwin.best.score": summary.best_score, "darwin.initial.score": summary.initial_score,
                "darwin.cost_usd": float(summary.cost_usd),
            })
            failed = summary.status == "failed"
            self._end(span, now, summary.stop_reason or "run failed" if failed else None)
            del self._runs[run.run_id]
        flush = getattr(self._provider, "force_flush", None)
        if callable(flush):
            flush()

    # ----------------------------------------------------------------- helpers

    def _state(self, run_id: str) -> _RunTrace | None:
        if self._get_tracer() is None:
            return None
        state = self._runs.get(run_id)
        return state if state is not None and state.run_span is not None else None

    def _write_span(self, state: _RunTrace, collection: str, key: str, nbytes: int,
                    started_at: float, duration_s: float) -> None:
        parent = state.run_span
        if collection in ("attempts", "variants") and len(key) > 1:
            attempt_id = key if collection == "attempts" else "g" + key[1:]
            parent = state.attempts.get(attempt_id) or state.generations.get(_generation_of(key), parent)
        elif collection == "generations" and key.isdigit():
            parent = state.generations.get(int(key), parent)
        span = self._span("darwin.storage.write", parent, started_at, {
            "darwin.storage.collection": collection, "darwin.storage.key": key,
            "darwin.storage.bytes": nbytes,
        })
        self._end(span, started_at + duration_s)

    def _flush_root(self, state: _RunTrace, end: float) -> None:
        """Emit the initial variant's evaluation (its tasks arrive together, once it is done)."""
        if not state.root_tasks:
            return
        tasks, state.root_tasks = state.root_tasks, []
        finished = state.root_tasks_seen_at or end
        start = finished - sum(t.duration_s for t in tasks)
        self._evaluation(state.run_span, "v0000root", tasks, start, finished)

    def _evaluation(self, parent: Any, variant_id: str, tasks: list[Any], start: float, end: float) -> None:
        """An evaluation span with one child per task, laid out in order. The hooks give each
        task's duration but not its start, so tasks are placed back to back from ``start``."""
        end = max(end, start + sum(t.duration_s for t in tasks))
        span = self._span("darwin.evaluate", parent, start, {
            "darwin.variant.id": variant_id, "darwin.tasks.evaluated": len(tasks),
            "darwin.tasks.passed": sum(t.passed for t in tasks),
            "darwin.failure_kinds": sorted({t.failure_kind for t in tasks if t.failure_kind}),
        })
        cursor = start
        for task in tasks:
            child = self._span("darwin.task", span, cursor, {
                "darwin.variant.id": variant_id, "darwin.task.id": task.task_id,
                "darwin.task.passed": task.passed, "darwin.task.score": task.score,
                "darwin.task.failure_kind": task.failure_kind or "", "darwin.task.runs": task.runs,
                "darwin.task.flaky": task.flaky, "darwin.outcome": "passed" if task.passed else (task.failure_kind or "fail"),
            })
            cursor += task.duration_s
            self._end(child, cursor)
        self._end(span, end)


def _generation_of(key: str) -> int:
    """``g0003a001`` / ``v0003a001`` -> 3 (``-1`` when the key is not an attempt's)."""
    digits = key[1:5]
    return int(digits) if len(key) > 5 and digits.isdigit() else -1


_DEFAULT = TracingObserver()

darwin_run_started = _DEFAULT.darwin_run_started
darwin_generation_started = _DEFAULT.darwin_generation_started
darwin_attempt_started = _DEFAULT.darwin_attempt_started
darwin_proposal_generated = _DEFAULT.darwin_proposal_generated
darwin_task_evaluated = _DEFAULT.darwin_task_evaluated
darwin_attempt_finished = _DEFAULT.darwin_attempt_finished
darwin_generation_finished = _DEFAULT.darwin_generation_finished
darwin_record_written = _DEFAULT.darwin_record_written
darwin_run_finished = _DEFAULT.darwin_run_finished
