"""The `custom` benchmark on small programs, through the real local sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from darwin_hookspecs import UserError
from darwin_plugins.custom_benchmark.benchmark import CustomBenchmark
from darwin_plugins.local_sandbox import LocalSandbox, LocalSandboxOptions

from support import python_tasks


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


def test_reported_scores_and_metrics_are_raw_and_never_clamped(tmp_path: Path, sandbox: LocalSandbox) -> None:
    toml = python_tasks({
        "big": "print('DARWIN_SCORE=1.42')",
        "negative": "print('DARWIN_SCORE=-0.5')",
        "nan": "print('DARWIN_SCORE=nan')",
        "inf-metric": "print('DARWIN_METRIC runtime_s=inf')",
        "garbage": "print('DARWIN_SCORE=fast')",
        "metrics": "import json; print('DARWIN_METRIC runtime_s=2.5'); print('noise'); "
                   "print(json.dumps({'metrics': {'radius': 12.75, 'score': 3}, 'artifacts': {'note': 'hello'}}))",
        "json-nan": "print('{\"metrics\": {\"x\": NaN}}')",
    }, 'objective = { metric = "runtime_s", direction = "minimize" }')
    benchmark, variant = make(tmp_path, toml, {}, {"x.py": "\n"})
    results = {r.task_id: r for r in benchmark.evaluate(variant, benchmark.tasks(), sandbox)}
    assert results["big"].passed and results["big"].score == 1.42
    assert results["negative"].passed and results["negative"].score == -0.5
    for name in ("nan", "inf-metric", "garbage", "json-nan"):
        assert not results[name].passed and results[name].failure_kind == "error", name
        assert results[name].log.startswith("unreadable task output"), results[name].log
    assert "nan" in results["nan"].log and "'runtime_s'" in results["inf-metric"].log
    metrics = results["metrics"]
    assert metrics.passed and metrics.score == 3.0  # a metric named score sets the task score
    assert metrics.metrics == {"runtime_s": 2.5, "radius": 12.75}
    assert metrics.artifacts["note"] == "hello" and "noise" in metrics.artifacts["stdout"]
    assert "metrics" not in metrics.artifacts["stdout"]  # the JSON line is not repeated
    assert benchmark.objective.direction == "minimise" and benchmark.objective.metric == "runtime_s"


def test_artifacts_are_bounded(tmp_path: Path, sandbox: LocalSandbox) -> None:
    toml = '''
[[task]]
id = "chatty"
command = ["python", "-c", "import json; print(json.dumps({'metrics': {}, 'artifacts': {str(i): 'x' * 9000 for i in range(50)}}))"]
'''
    benchmark, variant = make(tmp_path, toml, {}, {"x.py": "\n"})
    [result] = benchmark.evaluate(variant, benchmark.tasks(), sandbox)
    from darwin_hookspecs.metrics import ARTIFACT_CHARS, ARTIFACT_COUNT, ARTIFACT_TOTAL
    assert result.passed and 0 < len(result.artifacts) <= ARTIFACT_COUNT
    assert all(len(v) <= ARTIFACT_CHARS for v in result.artifacts.values())
    assert sum(len(v) for v in result.artifacts.values()) <= ARTIFACT_TOTAL


def test_holdout_patterns_and_flags(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_one():\n    pass\n\ndef test_two():\n    pass\n")
    (tmp_path / "tests" / "test_hidden.py").write_text("def test_h():\n    pass\n")
    (tmp_path / "tasks.toml").write_text(
        '[benchmark]\nfiles = ["tests"]\ndiscover = ["tests/test_*.py"]\n'
        'holdout = ["tests/test_hidden.py::*"]\n'
        '[[task]]\nid = "c"\ncommand = ["true"]\nholdout = true\n'
    )
    tasks = {t.id: t.holdout for t in CustomBenchmark(tmp_path / "tasks.toml").tasks()}
    assert tasks == {"tests/test_a.py::test_one": False, "tests/test_a.py::test_two": False,
                     "tests/test_hidden.py::test_h": True, "c": True}
    (tmp_path / "tasks.toml").write_text('[benchmark]\ndiscover = ["tests/test_a.py"]\nholdout = ["nope*"]\n')
    with pytest.raises(UserError, match="matches no task"):
        CustomBenchmark(tmp_path / "tasks.toml")
    (tmp_path / "tasks.toml").write_text('[benchmark]\ndiscover = ["tests/test_a.py"]\nholdout = ["*"]\n')
    with pytest.raises(UserError, match="every task is held out"):
        CustomBenchmark(tmp_path / "tasks.toml")


PARAMETRIZED = '''
import time
import pytest
import prog

@pytest.mark.parametrize("a, b, total", [(1, 2, 3), (2, 2, 4), (0, 5, 5)])
def test_add(a, b, total):
    assert prog.add(a, b) == total

@pytest.mark.parametrize("x", [1, 2])
def test_double(x):
    assert prog.double(x) == 2 * x

def test_slow():
    time.sleep(30)

def test_dies():
    import os
    os._exit(3)

def test_plain():
    assert prog.add(0, 0) == 0
'''


def test_pytest_parametrized_tests_are_one_task_per_function(tmp_path: Path, sandbox: LocalSandbox) -> None:
    """Every case of a parametrized function is aggregated into the function's task; per-test
    timeouts and coverage hold with pytest."""
    benchmark, variant = make(
        tmp_path, '[benchmark]\nfiles = ["tests"]\ndiscover = ["tests/test_*.py"]\ntimeout = 1\n',
        {"tests/test_prog.py": PARAMETRIZED},
        {"prog.py": "def add(a, b):\n    return a + b\n\n\ndef double(x):\n    if x == 2:\n        return 5\n    return 2 * x\n"},
    )
    assert benchmark.runner == "pytest"
    results = {r.task_id.split("::")[1]: r for r in benchmark.evaluate(variant, benchmark.tasks(), sandbox)}
    add, double, slow, plain = results["test_add"], results["test_double"], results["test_slow"], results["test_plain"]
    assert add.passed and add.score == 1.0 and add.details["cases"] == 3
    assert not double.passed and double.failure_kind == "fail" and double.score == 0.5
    assert "test_double[2]" in double.log and "test_double[1]" not in double.log
    assert slow.failure_kind == "timeout" and slow.duration_s < 10
    assert results["test_dies"].failure_kind == "crash" and "without a result" in results["test_dies"].log
    assert plain.passed  # the run went on after the timed-out test and the dead process
    assert add.coverage == {"prog.py": [2]}  # the variant's lines only, not the tests'
    assert double.coverage == {"prog.py": [6, 7, 8]}  # both cases: the union
