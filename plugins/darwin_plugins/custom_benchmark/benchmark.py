"""Benchmark ``custom``: someone's program and tests, described by a small TOML file.

Each evaluation copies the variant into a fresh working copy, lays the benchmark's own files
(the tests) over it so a variant cannot weaken them, and runs the selected tasks through the
sandbox: ``test`` tasks batched in one process (the stdlib runner, or pytest), ``command``
tasks one by one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from darwin_hookspecs import BuildContext, ExecRequest, Objective, Sandbox, TaskResult, TaskSpec, UserError
from darwin_hookspecs.trash import Trash

from .output import LOG_LIMIT, task_result
from .probes import DETAIL, derive
from .pytest_run import LAUNCHER, run_pytest
from .spec import TaskFile, build_tasks, load_task_file

RUNNER = Path(__file__).with_name("runner.py")
PROBE_RUNNER = Path(__file__).with_name("probe_runner.py")
PROBE_SPEC = ".darwin/probes.json"
RUNNER_IMPORTS = ("importlib.util", "io", "json", "signal", "traceback", "contextlib")
"""What the builtin runner imports: a warm sandbox imports them once, before forking."""
PROBE_IMPORTS = ("ast", "hashlib", "re")
"""What the probe runner imports besides (``hashlib`` alone costs it ~20 ms per evaluation
when the child imports it): preloaded for every request of a benchmark with probes, so its tests
and its probes share one warm server."""
MARK = "@@darwin@@"


class CustomBenchmarkOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: Path
    """The task file, or a directory holding ``tasks.toml``."""


class CustomBenchmark:
    mode: Literal["program", "agent"] = "program"

    def __init__(self, task_file: Path, scratch: Path | None = None) -> None:
        self.task_file = task_file
        self.root = task_file.parent
        self.spec: TaskFile = load_task_file(task_file)
        self._tasks = build_tasks(self.root, self.spec)
        self.scratch = scratch
        self.runner = self._choose_runner()
        header = self.spec.benchmark
        self.probes = derive(self.root, self._tasks, header.probe_limit) if header.probes else []
        """The probe calls (from the visible tests only), when ``probes = true``."""
        self._trash = Trash("darwin-eval-trash")
        self._laid: dict[str, list[str]] = {}
        """Per evaluation copy, the files :meth:`_prepare` laid there (``ExecRequest.trusted``)."""

    def tasks(self) -> list[TaskSpec]:
        return list(self._tasks)

    @property
    def objective(self) -> Objective:
        """``[benchmark] objective`` of the task file (default: the weighted task score)."""
        declared = self.spec.benchmark.objective
        if declared is None:
            return Objective()
        return Objective(metric=declared.metric, direction=declared.direction, terms=dict(declared.terms))

    def _choose_runner(self) -> str:
        runner = self.spec.benchmark.runner
        if runner != "auto":
            return runner
        test_files = {t.data["test"].split("::")[0] for t in self._tasks if "test" in t.data}
        for rel in test_files:
            path = self.root / rel
            text = path.read_text(encoding="utf-8") if path.is_file() else ""
            if re.search(r"^\s*(import pytest|from pytest|@pytest)", text, re.M) or "fixture" in text:
                return "pytest"
        return "builtin"

    # -------------------------------------------------------------- evaluation

    def evaluate(self, variant_dir: Path, tasks: list[TaskSpec], sandbox: Sandbox) -> list[TaskResult]:
        if self.scratch is not None:
            self.scratch.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix="eval-", dir=self.scratch))
        try:
            tests = [t for t in tasks if "test" in t.data]
            self._prepare(variant_dir, workdir, linked=_private_copy(sandbox), runners=bool(tests))
            results: dict[str, TaskResult] = {}
            if tests:
                probes = self._write_probes(workdir, tests)
                if self.runner == "builtin":  # the probes run in a child the test runner forks first
                    stdout = self._run_tests(workdir, tests, sandbox, results, probes)
                    self._read_probes(stdout, probes, results)
                else:
                    self._run_tests(workdir, tests, sandbox, results, [])
                    self._run_probes(workdir, probes, sandbox, results)
            for task in tasks:
                if "command" in task.data:
                    results[task.id] = self._run_command(workdir, task, sandbox)
            return [results[t.id] for t in tasks]
        finally:
            self._laid.pop(str(workdir), None)
            self._trash.discard(workdir, deferred=self.scratch is not None)

    def close(self) -> None:
        """Wait until the used evaluation copies are deleted (the runtime's ``close``)."""
        self._trash.drain()

    def _prepare(self, variant_dir: Path, workdir: Path, linked: bool = False, runners: bool = True) -> None:
        """The evaluation copy: the variant, the benchmark's files over it, the runners (when
        ``runners``: test tasks run; command tasks do not use them). With
        ``linked`` (the sandbox runs on its own copy of it), files are hard links, never chmodded.
        What it lays is recorded: the requests vouch for exactly those files, never for a
        variant's (e.g. its extra files in a directory of ``files``)."""
        put = _link_or_copy if linked else shutil.copy2
        shutil.copytree(variant_dir, workdir, dirs_exist_ok=True, copy_function=put)
        laid: list[str] = []

        def copy(source: str | Path, dest: str | Path) -> None:
            put(source, dest)
            laid.append(Path(dest).relative_to(workdir).as_posix())
        for rel in self.spec.benchmark.files:
            source = self.root / rel
            dest = workdir / rel
            if source.is_dir():
                if dest.exists() and not dest.is_dir():
                    dest.unlink()
                shutil.copytree(source, dest, dirs_exist_ok=True, copy_function=copy)
            elif source.is_file():
                dest.parent.mkdir(parents=True, exist_ok=True)
                if dest.is_dir():
                    shutil.rmtree(dest)
                copy(source, dest)
            else:
                raise UserError(f"{self.task_file}: files entry {rel!r} does not exist")
        if runners:
            (workdir / ".darwin").mkdir(exist_ok=True)
            copy(RUNNER, workdir / ".darwin" / "runner.py")
            copy(LAUNCHER, workdir / ".darwin" / "pytest_launcher.py")
            if self.probes:
                copy(PROBE_RUNNER, workdir / ".darwin" / "probe_runner.py")
        for path in workdir.rglob("*"):  # the sandbox user may differ from ours
            if path.is_dir() or not linked:
                path.chmod(0o777 if path.is_dir() else 0o666)
        workdir.chmod(0o777)
        self._laid[str(workdir)] = laid

    def _request(self, workdir: Path, argv: list[str], timeout: float, copy_back: bool = True) -> ExecRequest:
        header = self.spec.benchmark
        runner = [*(RUNNER_IMPORTS if self.runner == "builtin" else ()), *(PROBE_IMPORTS if self.probes else ())]
        return ExecRequest(argv=argv, workdir=workdir, env=dict(header.env), timeout_s=timeout,
                           memory_mb=header.memory_mb, copy_back=copy_back,
                           preload=sorted({*runner, *header.preload}),
                           trusted=list(self._laid.get(str(workdir), ())))

    def _run_tests(self, workdir: Path, tests: list[TaskSpec], sandbox: Sandbox, results: dict[str, TaskResult],
                   probes: list[Any]) -> str:
        """Each test's result into ``results``; the first run's output (the probes' hashes, when
        ``probes``: written by :meth:`_write_probes`, run by the builtin runner's first process)."""
        if self.runner == "pytest":
            results.update(run_pytest(self, workdir, tests, sandbox))
            return ""
        pending = list(tests)
        first: str | None = None
        excludes: list[str] = []
        for rel in [*self.spec.benchmark.files, ".darwin"]:
            excludes += ["--exclude", rel]
        while pending:
            by_node = {t.data["test"]: t for t in pending}
            per_test = max(t.timeout_s or self.spec.benchmark.timeout for t in pending)
            argv = ["python", ".darwin/runner.py", "--timeout", str(per_test), *excludes]
            if self.spec.benchmark.coverage:
                argv.append("--coverage")
            total = sum(t.timeout_s or self.spec.benchmark.timeout for t in pending) + 10
            if probes and first is None:
                timeout = self.spec.benchmark.probe_timeout
                argv += ["--probes", PROBE_SPEC, "--probe-timeout", str(timeout)]
                total += timeout * len(probes) + 1
            argv += list(by_node)
            result = sandbox.run(self._request(workdir, argv, total, copy_back=False))  # reads stdout only
            first = result.stdout if first is None else first
            reported = 0
            for line in result.stdout.splitlines():
                if not line.startswith(MARK):
                    continue
                try:
                    record = json.loads(line[len(MARK):])
                    task = by_node[record["id"]]
                except (ValueError, KeyError):
                    continue
                reported += 1
                passed = record["status"] == "passed"
                results[task.id] = TaskResult(
                    task_id=task.id, passed=passed, score=1.0 if passed else 0.0,
                    duration_s=float(record.get("duration", 0.0)),
                    failure_kind=None if passed else record["status"],
                    log=str(record.get("log", ""))[-LOG_LIMIT:],
                    coverage=record.get("coverage"),
                )
            pending = [t for t in pending if t.id not in results]
            if pending:
                # the process died (or was killed) while running the first pending test
                culprit = pending.pop(0)
                kind = result.killed_reason or "crash"
                tail = (result.stderr or result.stdout)[-LOG_LIMIT:]
                results[culprit.id] = TaskResult(
                    task_id=culprit.id, passed=False, score=0.0, duration_s=result.duration_s,
                    failure_kind=kind if kind in ("timeout", "oom", "output_limit") else "crash",
                    log=f"test process ended ({kind}, exit {result.exit_code}) during this test\n{tail}",
                )
        return first or ""

    def _write_probes(self, workdir: Path, tests: list[TaskSpec]) -> list[Any]:
        """The probes of the evaluated visible tests, their spec written for the probe runner."""
        wanted = {t.id for t in tests if not t.holdout}
        probes = [p for p in self.probes if p.task_id in wanted]
        if probes:
            spec = workdir / PROBE_SPEC
            spec.write_text(json.dumps([p.to_dict() for p in probes]), encoding="utf-8")
            spec.chmod(0o666)
            self._laid.setdefault(str(workdir), []).append(PROBE_SPEC)
        return probes

    def _run_probes(self, workdir: Path, probes: list[Any], sandbox: Sandbox, results: dict[str, TaskResult]) -> None:
        """The probes in a sandboxed process of their own (the pytest runner's case)."""
        if probes:
            timeout = self.spec.benchmark.probe_timeout
            argv = ["python", ".darwin/probe_runner.py", "--timeout", str(timeout), PROBE_SPEC]
            result = sandbox.run(self._request(workdir, argv, timeout * len(probes) + 10, copy_back=False))
            self._read_probes(result.stdout, probes, results)

    @staticmethod
    def _read_probes(stdout: str, probes: list[Any], results: dict[str, TaskResult]) -> None:
        """Each task's probe hashes (space-separated, ``!`` for a probe the process died before)
        into its details."""
        if not probes:
            return
        hashes = ["!"] * len(probes)
        for line in stdout.splitlines():
            if line.startswith(MARK):
                try:
                    record = json.loads(line[len(MARK):])
                    hashes[int(record["i"])] = str(record["h"])[:8]
                except (ValueError, KeyError, IndexError, TypeError):
                    continue
        for task_id in {p.task_id for p in probes} & set(results):
            mine = [h for p, h in zip(probes, hashes) if p.task_id == task_id]
            results[task_id].details[DETAIL] = " ".join(mine)

    def _run_command(self, workdir: Path, task: TaskSpec, sandbox: Sandbox) -> TaskResult:
        timeout = task.timeout_s or self.spec.benchmark.timeout
        result = sandbox.run(self._request(workdir, list(task.data["command"]), timeout, copy_back=False))
        return task_result(task.id, result)


def _private_copy(sandbox: Sandbox) -> bool:
    guarantees = getattr(sandbox, "guarantees", None)
    try:
        return bool(callable(guarantees) and guarantees().get("private_working_copy"))
    except Exception:  # noqa: BLE001 - a sandbox without the key copies as before
        return False


def _link_or_copy(source: str | Path, dest: str | Path) -> None:
    """A hard link (a new name for the same read-only-to-us bytes), else a copy; never writes
    through an existing ``dest``."""
    Path(dest).unlink(missing_ok=True)
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def create(options: CustomBenchmarkOptions, context: BuildContext) -> CustomBenchmark:
    path = options.path if options.path.is_absolute() else (context.config_dir / options.path)
    path = path.resolve()
    if path.is_dir():
        path = path / "tasks.toml"
    scratch = context.run_dir / "scratch" if context.run_dir else None
    return CustomBenchmark(path, scratch)


def register(registry: Any) -> None:
    registry.add(
        "custom",
        create,
        options=CustomBenchmarkOptions,
        description="Your program and tests, described by a TOML task file (no Python needed).",
    )
