"""Run metrics through OpenTelemetry on a Prometheus endpoint, scraped by a real Prometheus
server (Debian's `prometheus`, installed by ci/install-system.sh) during a live run."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from darwin_core import Engine, load_config
from darwin_plugins import metrics_exporter

from .conftest import copy_quickstart


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Any]:
    binary = shutil.which("prometheus")
    assert binary, "prometheus is required (apt-get install prometheus; ci/install-system.sh installs it)"
    port = _free_port()
    config = tmp_path / "prometheus.yml"
    procs: list[subprocess.Popen[bytes]] = []

    def start(target: str) -> str:
        config.write_text(f"global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: darwin\n"
                          f"    static_configs:\n      - targets: ['{target}']\n")
        log = (tmp_path / "prometheus.log").open("wb")
        procs.append(subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                       f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if "Ready" in _get(f"{base}/-/ready"):
                    return base
            except OSError:
                time.sleep(0.3)
        raise AssertionError("prometheus did not start: " + (tmp_path / "prometheus.log").read_text()[-2000:])

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)


def _query(base: str, expr: str) -> list[dict[str, Any]]:
    data = json.loads(_get(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})))
    assert data["status"] == "success", data
    return data["data"]["result"]


def test_prometheus_scrapes_a_live_run(tmp_path: Path, prometheus: Any) -> None:
    config = copy_quickstart(tmp_path / "qs", generations=1000, children=4)
    text = re.sub(r"(?m)^(stop_at_score|plausible_extra) = .*$", "", config.read_text())  # live for the time budget
    config.write_text(text.replace("[run]\n", "[run]\ntime_budget_s = 45\n", 1)
                      + "\n[plugins.darwin-metrics]\nprometheus_port = 0\nlinger_s = 60\n")
    engine = Engine.create(load_config(config), tmp_path / "run")  # darwin-metrics is built in
    summary: list[Any] = []
    runner = threading.Thread(target=lambda: summary.append(engine.run_loop()), daemon=True)
    runner.start()
    endpoint_file = tmp_path / "run" / "metrics-endpoint"
    deadline = time.monotonic() + 60
    while not endpoint_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    endpoint = endpoint_file.read_text().strip()
    assert _get(endpoint).endswith("\n")  # the endpoint answers before Prometheus starts
    base = prometheus(urllib.parse.urlsplit(endpoint).netloc)
    run_id = engine.pointer.run_id

    live: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while not live and time.monotonic() < deadline:
        live = _query(base, f'sum(darwin_attempts_total{{run_id="{run_id}"}})')
        time.sleep(0.5)
    assert live and runner.is_alive(), "Prometheus must have scraped the run while it ran"
    assert float(live[0]["value"][1]) >= 1
    assert _query(base, 'up{job="darwin"}')[0]["value"][1] == "1"

    runner.join(timeout=300)
    assert summary and summary[0].status in ("completed", "stopped")
    finished = sum(1 for a in engine.attempts.values() if a.status in ("finished", "skipped"))
    children = len(engine.archive.variants()) - 1
    expected = {
        f'sum(darwin_attempts_total{{run_id="{run_id}"}})': float(finished),
        f'sum(darwin_variants_total{{run_id="{run_id}"}})': float(children),
        f'darwin_best_score{{run_id="{run_id}"}}': summary[0].best_score,
        f'darwin_initial_score{{run_id="{run_id}"}}': summary[0].initial_score,
    }
    got: dict[str, float] = {}
    deadline = time.monotonic() + 40  # the endpoint lingers after the run: a last scrape
    while time.monotonic() < deadline:
        got = {q: float(r[0]["value"][1]) for q in expected if (r := _query(base, q))}
        if got == pytest.approx(expected):
            break
        time.sleep(1)
    assert got == pytest.approx(expected)
    failures = _query(base, f'sum by (kind) (darwin_task_failures_total{{run_id="{run_id}"}})')
    assert failures and {r["metric"]["kind"] for r in failures} <= {"fail", "error", "crash", "timeout", "oom",
                                                                      "output_limit", "infra", "not_run"}


def test_the_exposition_format() -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("t")
    meter.create_counter("darwin_things").add(3, {"run_id": 'a"b', "kind": "x"})
    text = metrics_exporter.render(reader.get_metrics_data())
    assert "# TYPE darwin_things_total counter" in text
    assert 'darwin_things_total{kind="x",run_id="a\\"b"} 3.0' in text
