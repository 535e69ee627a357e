"""The builtin runner runs a benchmark's probes in a child it forks before importing the variant
(one sandboxed process per evaluation instead of two): the probes and the tests see each other's
state in neither direction, the hashes equal a process of their own's, and a probe that never
returns is killed without costing the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from darwin_hookspecs import TaskResult

from darwin_plugins.custom_benchmark.benchmark import CustomBenchmark
from darwin_plugins.custom_benchmark.probes import DETAIL
from darwin_plugins.local_sandbox import LocalSandbox, LocalSandboxOptions

PROGRAM = "CALLS = []\n\n\ndef double(x):\n    CALLS.append(x)\n    return 2 * x\n"
# a test that holds only in a fresh interpreter: probes run in this process would have called double
TEST = ("import prog\n\n\ndef test_double():\n    assert prog.double(2) == 4\n    assert prog.CALLS == [2]\n\n\n"
        "def test_more():\n    prog.CALLS.append('test')\n    assert prog.double(3) == 6\n")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    sandbox = LocalSandbox(LocalSandboxOptions())
    yield sandbox
    sandbox.close()


def _bench(tmp_path: Path, program: str, extra: str = "") -> tuple[CustomBenchmark, Path]:
    (tmp_path / "program").mkdir(exist_ok=True)
    (tmp_path / "program" / "prog.py").write_text(program)
    (tmp_path / "benchmark" / "tests").mkdir(parents=True, exist_ok=True)
    (tmp_path / "benchmark" / "tests" / "test_prog.py").write_text(TEST)
    (tmp_path / "benchmark" / "tasks.toml").write_text(
        '[benchmark]\nfiles = ["tests"]\ndiscover = ["tests/test_prog.py"]\nrunner = "builtin"\nprobes = true\n' + extra)
    return CustomBenchmark(tmp_path / "benchmark" / "tasks.toml", tmp_path / "scratch"), tmp_path / "program"


def _hashes(bench: CustomBenchmark, program: Path, sandbox: LocalSandbox) -> tuple[dict[str, bool], dict[str, str]]:
    results = bench.evaluate(program, bench.tasks(), sandbox)
    return {r.task_id: r.passed for r in results}, {r.task_id: r.details.get(DETAIL, "") for r in results}


def test_probes_and_tests_do_not_see_each_others_state(tmp_path: Path, sandbox: LocalSandbox) -> None:
    bench, program = _bench(tmp_path, PROGRAM)
    assert bench.probes
    passed, hashes = _hashes(bench, program, sandbox)
    assert all(passed.values()), passed  # CALLS == [2]: no probe ran in the tests' interpreter
    assert all(h and "!" not in h for h in hashes.values()), hashes
    # the same hashes as the probes' own process (the pytest runner's path), into fresh results
    work = tmp_path / "work"
    bench._prepare(program, work)
    probes = bench._write_probes(work, bench.tasks())
    separate = {task_id: TaskResult(task_id=task_id, passed=True, score=1.0) for task_id in hashes}
    bench._run_probes(work, probes, sandbox, separate)
    assert {k: r.details.get(DETAIL, "") for k, r in separate.items()} == hashes


def test_a_probe_that_never_returns_is_killed_and_the_tests_still_run(tmp_path: Path, sandbox: LocalSandbox) -> None:
    stuck = PROGRAM.replace("    return 2 * x\n", "    if x != 2 and x != 3:\n        import signal\n"
                            "        signal.signal(signal.SIGALRM, signal.SIG_IGN)\n        while True:\n"
                            "            pass\n    return 2 * x\n")
    bench, program = _bench(tmp_path, stuck, "probe_timeout = 0.2\n")
    passed, hashes = _hashes(bench, program, sandbox)
    assert all(passed.values()), passed
    assert any("!" in h for h in hashes.values()), hashes  # the probe the child died in, and after it
