"""A benchmark: each task calls a function of the variant and compares the result."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from darwin_hookspecs import ExecRequest, TaskResult, TaskSpec, UserError, hookimpl

# Runs inside the sandbox: call one expression, trace the lines it runs, print one JSON line.
RUNNER = r'''
import json, os, sys
sys.path.insert(0, os.getcwd())
lines = {}
def trace(frame, event, arg):
    path = frame.f_code.co_filename
    if path.startswith(os.getcwd()) and event == "line":
        lines.setdefault(os.path.relpath(path), set()).add(frame.f_lineno)
    return trace
import calc
sys.settrace(trace)
try:
    value, error = eval(sys.argv[1], vars(calc)), None
except Exception as exc:
    value, error = None, f"{type(exc).__name__}: {exc}"
sys.settrace(None)
print(json.dumps({"value": value, "error": error,
                  "coverage": {p: sorted(s) for p, s in lines.items()}}))
'''


class CallsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cases: str = "cases.json"
    """JSON file of ``{"id", "call", "expect"}`` objects (relative to the config file)."""
    timeout_s: float = 10.0
    """Wall-clock limit of one call."""


class CallsBenchmark:
    mode = "program"  # the variant *is* the code under test

    def __init__(self, cases: list[dict], timeout_s: float) -> None:
        self.cases = {c["id"]: c for c in cases}
        self.timeout_s = timeout_s

    def tasks(self) -> list[TaskSpec]:
        return [TaskSpec(id=i, data={"call": c["call"]}, timeout_s=self.timeout_s)
                for i, c in self.cases.items()]

    def evaluate(self, variant_dir: Path, tasks: list[TaskSpec], sandbox) -> list[TaskResult]:
        with tempfile.TemporaryDirectory() as scratch:  # never write into variant_dir
            work = Path(scratch) / "work"
            shutil.copytree(variant_dir, work)
            (work / "_runner.py").write_text(RUNNER)
            return [self._one(work, task, sandbox) for task in tasks]

    def _one(self, work: Path, task: TaskSpec, sandbox) -> TaskResult:
        request = ExecRequest(argv=["python3", "_runner.py", task.data["call"]], workdir=work,
                              env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
                              timeout_s=task.timeout_s or self.timeout_s)
        result = sandbox.run(request)
        log = (result.stdout + result.stderr)[-2000:]
        if result.killed_reason:  # timeout, oom, output_limit, signal, infra
            kind = result.killed_reason if result.killed_reason != "signal" else "crash"
            return TaskResult(task.id, passed=False, score=0.0, failure_kind=kind, log=log,
                              duration_s=result.duration_s)
        try:
            out = json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):  # the variant broke the runner: it crashed
            return TaskResult(task.id, passed=False, score=0.0, failure_kind="crash", log=log,
                              duration_s=result.duration_s)
        coverage = {path: lines for path, lines in out["coverage"].items() if path != "_runner.py"}
        expected = self.cases[task.id]["expect"]
        if out["error"]:
            kind, passed = "error", False  # the call raised: the variant is broken there
        else:
            kind, passed = (None, True) if out["value"] == expected else ("fail", False)
        log = out["error"] or f"{task.data['call']} returned {out['value']!r}, expected {expected!r}"
        return TaskResult(task.id, passed=passed, score=1.0 if passed else 0.0, failure_kind=kind,
                          log=log, coverage=coverage, duration_s=result.duration_s)


def create(options: CallsOptions, context) -> CallsBenchmark:
    path = context.config_dir / options.cases
    try:
        cases = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"[benchmark] cases = {options.cases!r}: cannot read {path} ({exc}); "
                        "fix: point it at a JSON list of {id, call, expect}") from None
    return CallsBenchmark(cases, options.timeout_s)


@hookimpl
def darwin_register_benchmarks(registry) -> None:
    registry.add("calls", create, options=CallsOptions,
                 description="Call functions of the variant and compare the results.")
