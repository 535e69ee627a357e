"""OpenTelemetry spans of a small real run, captured with the SDK's in-memory exporter."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from darwin_core.reader import open_run
from darwin_plugins.tracing import TracingObserver

from .conftest import copy_quickstart, run_engine


def _quick(tmp_path: Path, generations: int, children: int) -> Path:
    return copy_quickstart(tmp_path / "qs", generations=generations, children=children)


def test_spans_form_the_run_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    config = _quick(tmp_path, generations=2, children=2)
    run_engine(config, tmp_path / "run", extra_plugins=[TracingObserver(tracer_provider=provider)])

    spans = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in spans}
    kids: dict[Any, list[Any]] = defaultdict(list)
    for s in spans:
        assert s.context.trace_id == spans[0].context.trace_id  # one trace
        if s.parent is not None:
            assert s.parent.span_id in by_id, f"{s.name} has a parent that was never exported"
            kids[s.parent.span_id].append(s)

    def named(parent: Any, name: str) -> list[Any]:
        return [k for k in kids[parent.context.span_id] if k.name == name]

    def inside(child: Any, parent: Any, slack_ns: int = 50_000_000) -> bool:
        return parent.start_time - slack_ns <= child.start_time <= child.end_time <= parent.end_time + slack_ns

    view = open_run(tmp_path / "run")
    variants = {v.id: v for v in view.variants}
    roots = [s for s in spans if s.parent is None]
    assert [s.name for s in roots] == ["darwin.run"]
    run = roots[0]
    assert run.attributes["darwin.run.id"] == view.pointer.run_id
    assert run.attributes["darwin.run.status"] == "completed"
    assert run.attributes["darwin.attempts"] == 4
    assert run.attributes["darwin.best.id"] == view.archive.best_id

    # the initial variant's evaluation: one task span per task
    root_eval = named(run, "darwin.evaluate")
    assert len(root_eval) == 1 and root_eval[0].attributes["darwin.variant.id"] == "v0000root"
    assert len(named(root_eval[0], "darwin.task")) == len(variants["v0000root"].task_results)

    generations = sorted(named(run, "darwin.generation"), key=lambda s: s.attributes["darwin.generation"])
    assert [g.attributes["darwin.generation"] for g in generations] == [1, 2]
    seen_children = set()
    for gen in generations:
        assert inside(gen, run)
        attempts = named(gen, "darwin.attempt")
        assert len(attempts) == 2
        for attempt in attempts:
            assert inside(attempt, gen)
            child = variants[attempt.attributes["darwin.child.id"]]
            seen_children.add(child.id)
            assert attempt.attributes["darwin.generation"] == gen.attributes["darwin.generation"]
            assert attempt.attributes["darwin.parent.id"] == child.parent_id
            assert attempt.attributes["darwin.child.status"] == child.status == attempt.attributes["darwin.outcome"]
            assert attempt.attributes["darwin.child.score"] == pytest.approx(child.score)
            assert attempt.attributes["darwin.cost_usd"] == pytest.approx(child.cost_usd)
            assert "darwin.tokens.input" in attempt.attributes
            generate = named(attempt, "darwin.generate")
            assert len(generate) == 1 and inside(generate[0], attempt)
            assert generate[0].attributes["darwin.improvement_type"] == child.improvement_type
            evaluate = named(attempt, "darwin.evaluate")
            if child.task_results:
                assert len(evaluate) == 1 and inside(evaluate[0], attempt)
                assert evaluate[0].start_time >= generate[0].end_time
                tasks = named(evaluate[0], "darwin.task")
                assert sorted(t.attributes["darwin.task.id"] for t in tasks) == sorted(child.task_results)
                for t in tasks:
                    assert inside(t, evaluate[0])
                    assert t.attributes["darwin.task.passed"] == child.task_results[t.attributes["darwin.task.id"]].passed
            writes = {(w.attributes["darwin.storage.collection"], w.attributes["darwin.storage.key"])
                      for w in named(attempt, "darwin.storage.write")}
            assert ("variants", child.id) in writes and ("attempts", child.attempt_id) in writes
        assert ("generations", f"{gen.attributes['darwin.generation']:06d}") in {
            (w.attributes["darwin.storage.collection"], w.attributes["darwin.storage.key"])
            for w in named(gen, "darwin.storage.write")}
    assert seen_children == set(variants) - {"v0000root"}
    run_writes = {w.attributes["darwin.storage.collection"] for w in named(run, "darwin.storage.write")}
    assert "run" in run_writes  # including the writes made before the run span existed
    assert {s.name for s in spans} == {"darwin.run", "darwin.generation", "darwin.attempt", "darwin.generate",
                                       "darwin.evaluate", "darwin.task", "darwin.storage.write"}


def test_console_export_from_the_standard_environment(tmp_path: Path, darwin_cli: Any) -> None:
    config = _quick(tmp_path, generations=1, children=1)
    traced = darwin_cli("run", str(config), "--run-dir", str(tmp_path / "r1"), "-q",
                        env={"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "darwin-test"})
    assert traced.returncode == 0, traced.stderr
    names = re.findall(r'"name": "(darwin\.[a-z.]+)"', traced.stdout)
    assert names.count("darwin.run") == 1 and names.count("darwin.attempt") == 1
    assert '"service.name": "darwin-test"' in traced.stdout

    plain = darwin_cli("run", str(config), "--run-dir", str(tmp_path / "r2"), "-q",
                       env={"OTEL_TRACES_EXPORTER": "", "OTEL_EXPORTER_OTLP_ENDPOINT": ""})
    assert plain.returncode == 0, plain.stderr
    assert "darwin.run" not in plain.stdout  # no exporter configured: tracing is a no-op

    bad = darwin_cli("run", str(config), "--run-dir", str(tmp_path / "r3"), "-q",
                     env={"OTEL_TRACES_EXPORTER": "zipkin-json"})
    assert bad.returncode == 2
    assert "OTEL_TRACES_EXPORTER='zipkin-json'" in bad.stderr and "fix:" in bad.stderr


def test_otlp_export_reaches_a_collector(tmp_path: Path, darwin_cli: Any) -> None:
    """OTLP over HTTP/protobuf to a real (minimal) receiver on a loopback port."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    received: list[tuple[str, bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append((self.path, body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = _quick(tmp_path, generations=1, children=2)
        result = darwin_cli("run", str(config), "--run-dir", str(tmp_path / "run"), "-q", env={
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}",
        })
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr
    names: list[str] = []
    for path, body in received:
        assert path == "/v1/traces"
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                names += [span.name for span in scope_spans.spans]
    assert names.count("darwin.run") == 1
    assert names.count("darwin.generation") == 1 and names.count("darwin.attempt") == 2
    assert names.count("darwin.task") >= 16
