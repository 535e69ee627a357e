"""The `custom` benchmark on small programs, through the real local sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from darwin_hookspecs import UserError
from darwin_plugins.custom_benchmark.benchmark import CustomBenchmark
from darwin_plugins.local_sandbox import LocalSandbox, LocalSandboxOptions


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    sandbox = LocalSandbox(LocalSandboxOptions())
    yield sandbox
    sandbox.close()  # its warm servers, their cgroups and /dev/shm roots


def make(tmp_path: Path, tasks_toml: str, files: dict[str, str], program: dict[str, str]) -> tuple[CustomBenchmark, Path]:
    bench = tmp_path / "bench"
    bench.mkdir()
    for rel, text in files.items():
        (bench / rel).parent.mkdir(parents=True, exist_ok=True)
        (bench / rel).write_text(text)
    (bench / "tasks.toml").write_text(tasks_toml)
    variant = tmp_path / "variant"
    for rel, text in program.items():
        (variant / rel).parent.mkdir(parents=True, exist_ok=True)
        (variant / rel).write_text(text)
    return CustomBenchmark(bench / "tasks.toml"), variant


TESTS = '''
import os
import prog

def test_ok():
    assert prog.add(1, 2) == 3

def test_fail():
    assert prog.add(2, 2) == 5

def test_crash_process():
    os._exit(3)

def test_after_crash():
    assert prog.add(0, 0) == 0

def test_loop():
    while True:
        pass
'''


def test_builtin_runner_survives_failures_crashes_and_loops(tmp_path: Path, sandbox: LocalSandbox) -> None:
    benchmark, variant = make(
        tmp_path,
        '[benchmark]\nfiles = ["tests"]\ndiscover = ["tests/test_*.py"]\ntimeout = 1\n',
        {"tests/test_prog.py": TESTS},
        {"prog.py": "def add(a, b):\n    return a + b\n"},
    )
    assert benchmark.runner == "builtin"
    results = {r.task_id.split("::")[1]: r for r in benchmark.evaluate(variant, benchmark.tasks(), sandbox)}
    assert results["test_ok"].passed and results["test_ok"].score == 1.0
    assert results["test_fail"].failure_kind == "fail" and "AssertionError" in results["test_fail"].log
    assert results["test_crash_process"].failure_kind == "crash"
    assert results["test_after_crash"].passed  # the batch goes on after a crash
    assert results["test_loop"].failure_kind == "timeout"
    assert results["test_ok"].coverage is None or "prog.py" in results["test_ok"].coverage
    assert results["test_fail"].coverage == {"prog.py": [2]}  # tests themselves are excluded


def test_tests_cannot_be_weakened_by_the_variant(tmp_path: Path, sandbox: LocalSandbox) -> None:
    benchmark, variant = make(
        tmp_path,
        '[benchmark]\nfiles = ["tests"]\n[[task]]\ntest = "tests/test_p.py::test_x"\n',
        {"tests/test_p.py": "import prog\n\ndef test_x():\n    assert prog.VALUE == 1\n"},
        {"prog.py": "VALUE = 2\n", "tests/test_p.py": "def test_x():\n    pass\n"},  # a cheating variant
    )
    [result] = benchmark.evaluate(variant, benchmark.tasks(), sandbox)
    assert not result.passed


def test_command_tasks_and_scores(tmp_path: Path, sandbox: LocalSandbox) -> None:
    toml = '''
[[task]]
id = "exit-ok"
command = ["python", "-c", "print('hi')"]

[[task]]
id = "scored"
command = "python -c \\"print('DARWIN_SCORE=0.25')\\""
weight = 3

[[task]]
id = "exit-1"
command = ["python", "-c", "raise SystemExit(1)"]

[[task]]
id = "slow"
command = ["python", "-c", "import time; time.sleep(30)"]
timeout = 1
'''
    benchmark, variant = make(tmp_path, toml, {}, {"x.py": "\n"})
    results = {r.task_id: r for r in benchmark.evaluate(variant, benchmark.tasks(), sandbox)}
    assert results["exit-ok"].passed and results["exit-ok"].score == 1.0
    assert results["scored"].score == 0.25
    assert not results["exit-1"].passed and results["exit-1"].failure_kind == "fail"
    assert results["slow"].failure_kind == "timeout" and results["slow"].duration_s < 10
    assert [t.weight for t in benchmark.tasks()] == [1.0, 3.0, 1.0, 1.0]


def test_pytest_runner_is_used_for_pytest_style_tests(tmp_path: Path, sandbox: LocalSandbox) -> None:
    tests = '''
import pytest
import prog

@pytest.fixture
def two():
    return 2

def test_fixture(two):
    assert prog.add(two, two) == 4

def test_raises():
    with pytest.raises(ZeroDivisionError):
        1 / 0

def test_wrong(two):
    assert prog.add(two, 1) == 4
'''
    benchmark, variant = make(
        tmp_path, '[benchmark]\nfiles = ["tests"]\ndiscover = ["tests/test_*.py"]\n',
        {"tests/test_prog.py": tests}, {"prog.py": "def add(a, b):\n    return a + b\n"},
    )
    assert benchmark.runner == "pytest"
    results = {r.task_id.split("::")[1]: r.passed for r in benchmark.evaluate(variant, benchmark.tasks(), sandbox)}
    assert results == {"test_fixture": True, "test_raises": True, "test_wrong": False}


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[[task]]\nid = 'x'\n", "exactly one of 'command' or 'test'"),
        ("[[task]]\ncommand = ['true']\n", "needs an 'id'"),
        ("[benchmark]\ntimout = 3\n", "timout"),
        ("[benchmark]\ndiscover = ['nothing/*.py']\n", "matches no file"),
        ("", "defines no task"),
    ],
)
def test_bad_task_files_are_explained(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "tasks.toml").write_text(toml)
    with pytest.raises(UserError) as info:
        CustomBenchmark(tmp_path / "tasks.toml")
    assert message in str(info.value) and str(tmp_path) in str(info.value)
