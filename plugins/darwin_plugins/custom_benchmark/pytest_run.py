"""``test`` tasks run by pytest: one task per test node, aggregating its parametrized cases.

A task names a node (``tests/test_x.py::test_f``); pytest reports each case of a parametrized
function separately (``test_f[1-2]``). The task aggregates every case under its node: it passes
when every case passes, its score is the share of cases that pass, its log holds the failing
cases' reports, its coverage the union of theirs, and ``details["cases"]`` counts them. A node
no case was reported for (the process died in it, the test does not exist) is a ``crash`` (or
the sandbox's kill reason) with pytest's output as its log; the tests after it run again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from darwin_hookspecs import Sandbox, TaskResult, TaskSpec

if TYPE_CHECKING:
    from .benchmark import CustomBenchmark

LAUNCHER = Path(__file__).with_name("pytest_launcher.py")
LOG_LIMIT = 6000
SEVERITY = ("passed", "skipped", "fail", "error", "oom", "timeout")
OUT = ".darwin/pytest.jsonl"


def _under(nodeid: str, node: str) -> bool:
    return nodeid == node or nodeid.startswith(node + "[") or nodeid.startswith(node + "::")


def _read(path: Path) -> list[dict[str, Any]]:
    records = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


def run_pytest(bench: "CustomBenchmark", workdir: Path, tests: list[TaskSpec], sandbox: Sandbox) -> dict[str, TaskResult]:
    """Run ``tests`` in one pytest process; when it dies during a test, that test is a crash
    and pytest runs again on the tests after it (none ran at all: every one is a crash)."""
    results: dict[str, TaskResult] = {}
    pending = list(tests)
    while pending:
        out = workdir / OUT
        out.unlink(missing_ok=True)
        result = sandbox.run(bench._request(workdir, _argv(bench, pending), _budget(bench, pending)))
        records = _read(out)
        for task in pending:
            cases = [r for r in records if _under(str(r.get("nodeid", "")), task.data["test"])]
            if cases:
                results[task.id] = _aggregate(task, cases, bench.spec.benchmark.coverage)
        missing = [t for t in pending if t.id not in results]
        culprits = missing if not records else missing[:1]
        for task in culprits:
            kind = result.killed_reason or "crash"
            results[task.id] = TaskResult(
                task_id=task.id, passed=False, score=0.0, duration_s=result.duration_s,
                failure_kind=kind if kind in ("timeout", "oom", "output_limit", "infra") else "crash",
                log=(f"pytest ended (exit {result.exit_code}) without a result for this test:\n"
                     + (result.stdout + result.stderr))[-LOG_LIMIT:],
            )
        pending = [t for t in missing if t.id not in results]
    return results


def _argv(bench: "CustomBenchmark", tests: list[TaskSpec]) -> list[str]:
    header = bench.spec.benchmark
    per_test = max(t.timeout_s or header.timeout for t in tests)
    argv = ["python", ".darwin/pytest_launcher.py", "--timeout", str(per_test), "--out", OUT]
    for rel in [*header.files, ".darwin"]:
        argv += ["--exclude", rel]
    if header.coverage:
        argv.append("--coverage")
    return argv + ["--", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir=.",
                   *[t.data["test"] for t in tests]]


def _budget(bench: "CustomBenchmark", tests: list[TaskSpec]) -> float:
    return sum(t.timeout_s or bench.spec.benchmark.timeout for t in tests) + 30


def _aggregate(task: TaskSpec, cases: list[dict[str, Any]], with_coverage: bool) -> TaskResult:
    passed = sum(c.get("status") == "passed" for c in cases)
    worst = max((str(c.get("status")) for c in cases),
                key=lambda s: SEVERITY.index(s) if s in SEVERITY else len(SEVERITY))
    coverage: dict[str, set[int]] = {}
    for case in cases:
        for rel, lines in (case.get("coverage") or {}).items():
            coverage.setdefault(rel, set()).update(lines)
    log = "\n".join(f"{c['nodeid']}: {c.get('status')}\n{c.get('log', '')}"
                    for c in cases if c.get("status") != "passed")
    ok = passed == len(cases)
    return TaskResult(
        task_id=task.id, passed=ok, score=passed / len(cases),
        duration_s=sum(float(c.get("duration", 0.0)) for c in cases),
        failure_kind=None if ok else ("fail" if worst in ("skipped", "fail") else worst),
        log=log[-LOG_LIMIT:],
        coverage={rel: sorted(lines) for rel, lines in coverage.items()} if with_coverage else None,
        details={"cases": len(cases), "cases_passed": passed},
    )
