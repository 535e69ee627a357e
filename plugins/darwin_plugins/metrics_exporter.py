"""Run metrics through OpenTelemetry metrics, served on a Prometheus endpoint (an observer).

Off unless configured::

    [plugins.darwin-metrics]
    prometheus_port = 9464        # serve http://HOST:PORT/metrics (0: any free port)
    prometheus_host = "127.0.0.1"
    linger_s = 30                 # keep serving this long after the run ends (final scrape)

Metrics (each data point labelled ``run_id``): ``darwin_attempts_total{status}``,
``darwin_variants_total{status}``, ``darwin_task_failures_total{kind}``,
``darwin_spend_usd_total``, ``darwin_tokens_total{direction}``, ``darwin_best_score`` (of the
accepted children while the run goes, the archive's at the end) and ``darwin_initial_score``
(at the end). The instruments are OpenTelemetry's (``opentelemetry-sdk``, the
``otel`` extra); the endpoint renders the SDK's pull reader in the Prometheus text format.
"""

from __future__ import annotations

import copy
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import MissingDependencyError, Objective, hookimpl

if TYPE_CHECKING:
    from http.server import ThreadingHTTPServer

INSTRUMENTATION = "darwin"


class MetricsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prometheus_port: int | None = Field(None, ge=0, le=65535)
    """Serve the metrics on this port (0: any free one, written to RUN_DIR/metrics-endpoint);
    ``None``: no endpoint (the plugin does nothing)."""
    prometheus_host: str = "127.0.0.1"
    """Address to listen on (``0.0.0.0`` to let a remote Prometheus scrape)."""
    linger_s: float = Field(0.0, ge=0)
    """Keep serving this long after the run ends, so a last scrape sees the final values."""


darwin_options = MetricsOptions
darwin_name = "darwin-metrics"  # the name [plugins.darwin-metrics] addresses when passed directly


def render(metrics_data: Any) -> str:
    """OpenTelemetry metrics data in the Prometheus text exposition format (0.0.4)."""
    lines: list[str] = []
    for resource in getattr(metrics_data, "resource_metrics", []) or []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                name = re.sub(r"[^a-zA-Z0-9_:]", "_", metric.name)
                data = metric.data
                monotonic = getattr(data, "is_monotonic", False)
                kind = "counter" if monotonic else "gauge"
                if monotonic and not name.endswith("_total"):
                    name += "_total"
                lines.append(f"# HELP {name} {metric.description or metric.name}")
                lines.append(f"# TYPE {name} {kind}")
                for point in data.data_points:
                    labels = ",".join(f'{re.sub(r"[^a-zA-Z0-9_]", "_", k)}="{_quote(v)}"'
                                      for k, v in sorted(point.attributes.items()))
                    lines.append(f"{name}{{{labels}}} {float(point.value)!r}")
    return "\n".join(lines) + "\n"


def _quote(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class MetricsObserver:
    """One run's instruments and endpoint (built by ``darwin_configure``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.server: "ThreadingHTTPServer | None" = None
        self.reader: Any = None
        self.provider: Any = None
        self.run_id = ""
        self.best: float | None = None
        self._objective: tuple[Any, Objective] | None = None
        """The run's objective as last parsed, with the data it was parsed from."""
        self.initial: float | None = None
        self.instruments: dict[str, Any] = {}
        self.linger_s = 0.0

    # ----------------------------------------------------------------- setup

    def configure(self, run: Any, options: MetricsOptions, run_dir: Path | None) -> None:
        self.close()
        if options.prometheus_port is None:
            return
        try:
            from opentelemetry.sdk.metrics import MeterProvider
            from opentelemetry.sdk.metrics.export import InMemoryMetricReader
            from opentelemetry.metrics import Observation
        except ImportError:
            raise MissingDependencyError("observer", "darwin-metrics", "opentelemetry.sdk", "otel") from None
        self.run_id, self.linger_s = run.run_id, options.linger_s
        self.best = self.initial = None
        self.reader = InMemoryMetricReader()
        self.provider = MeterProvider(metric_readers=[self.reader])
        meter = self.provider.get_meter(INSTRUMENTATION)
        labels = {"run_id": self.run_id}
        self.instruments = {
            "attempts": meter.create_counter("darwin_attempts", description="Attempts finished, by status"),
            "variants": meter.create_counter("darwin_variants", description="Children recorded, by status"),
            "failures": meter.create_counter("darwin_task_failures", description="Failed task evaluations, by kind"),
            "spend": meter.create_counter("darwin_spend_usd", unit="USD", description="Model spend of recorded children"),
            "tokens": meter.create_counter("darwin_tokens", description="Model tokens of recorded children"),
        }
        meter.create_observable_gauge(
            "darwin_best_score", description="Best score in the archive",
            callbacks=[lambda _: [Observation(self.best, labels)] if self.best is not None else []])
        meter.create_observable_gauge(
            "darwin_initial_score", description="Score of the initial variant",
            callbacks=[lambda _: [Observation(self.initial, labels)] if self.initial is not None else []])
        self.server = self._serve(options.prometheus_host, options.prometheus_port)
        if run_dir is not None:
            host, port = self.server.server_address[:2]
            (run_dir / "metrics-endpoint").write_text(f"http://{host}:{port}/metrics\n")

    def _serve(self, host: str, port: int) -> "ThreadingHTTPServer":
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # only when serving

        observer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404, "only /metrics here")
                    return
                body = observer.scrape().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="darwin-metrics", daemon=True).start()
        return server

    def scrape(self) -> str:
        with self.lock:
            return render(self.reader.get_metrics_data()) if self.reader is not None else ""

    def add(self, name: str, amount: float, **attributes: str) -> None:
        if self.instruments and amount:
            with self.lock:
                self.instruments[name].add(amount, {"run_id": self.run_id, **attributes})

    def close(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self.provider is not None:
            self.provider.shutdown()
            self.provider = self.reader = None
        self.instruments = {}

    # ----------------------------------------------------------------- hooks

    @hookimpl
    def darwin_configure(self, run: Any, options: MetricsOptions, run_dir: Path | None) -> None:
        self.configure(run, options, run_dir)

    @hookimpl
    def darwin_task_evaluated(self, run: Any, attempt: Any, result: Any) -> None:
        if not result.passed:
            self.add("failures", 1, kind=result.failure_kind or "fail")

    @hookimpl
    def darwin_attempt_finished(self, run: Any, attempt: Any, child: Any) -> None:
        self.add("attempts", 1, status=attempt.status)
        if child is None:
            return
        self.add("variants", 1, status=child.status)
        self.add("spend", child.cost_usd)
        self.add("tokens", sum(u.input_tokens for u in child.usage), direction="input")
        self.add("tokens", sum(u.output_tokens for u in child.usage), direction="output")
        if child.status == "accepted":
            self._offer(run, child.score)

    @hookimpl
    def darwin_variant_accepted(self, run: Any, variant: Any) -> None:
        self._offer(run, variant.score)

    def _offer(self, run: Any, score: float) -> None:
        """Keep ``score`` as the best if it is better in the run's objective direction."""
        data = (getattr(run, "metadata", None) or {}).get("objective")
        if self._objective is None or self._objective[0] != data:  # parsed again only when it changed
            self._objective = (copy.deepcopy(data), Objective.from_dict(data))
        objective = self._objective[1]
        if self.best is None or objective.better(score, self.best):
            self.best = score

    @hookimpl
    def darwin_run_finished(self, run: Any, summary: Any) -> None:
        if self.server is None:
            return
        self.best, self.initial = summary.best_score, summary.initial_score
        if self.linger_s > 0:
            timer = threading.Timer(self.linger_s, self.close)
            timer.daemon = True
            timer.start()
        else:
            self.close()


_DEFAULT = MetricsObserver()
darwin_configure = _DEFAULT.darwin_configure
darwin_task_evaluated = _DEFAULT.darwin_task_evaluated
darwin_attempt_finished = _DEFAULT.darwin_attempt_finished
darwin_variant_accepted = _DEFAULT.darwin_variant_accepted
darwin_run_finished = _DEFAULT.darwin_run_finished
