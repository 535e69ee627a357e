"""Issue 13's "done when" through real runs (`darwin run`, then the CLI or the records):
raw reported scores, an unreadable one an error with its reason, parametrized pytest tests
scoring the correct program fully."""

from __future__ import annotations

import json
from pathlib import Path

from darwin_core import open_run

from support import python_tasks, write_config

TASKS = python_tasks({"big": "print('DARWIN_SCORE=1.42')", "negative": "print('DARWIN_SCORE=-0.5')",
                      "nan": "print('DARWIN_SCORE=nan')"},
                     'files = ["tests"]\ndiscover = ["tests/test_*.py"]\nrunner = "pytest"')

PARAMETRIZED = '''
import pytest
import prog

@pytest.mark.parametrize("a, b, total", [(1, 2, 3), (2, 2, 4), (0, 5, 5)])
def test_add(a, b, total):
    assert prog.add(a, b) == total

@pytest.mark.parametrize("x", [1, 2, 3])
def test_double(x):
    assert prog.double(x) == 2 * x
'''


def test_reported_scores_are_raw_nan_is_an_error_and_parametrized_tests_pass(tmp_path: Path, darwin_cli) -> None:
    (tmp_path / "program").mkdir()
    (tmp_path / "program" / "prog.py").write_text("def add(a, b):\n    return a + b\n\n\ndef double(x):\n    return 2 * x\n")
    (tmp_path / "bench" / "tests").mkdir(parents=True)
    (tmp_path / "bench" / "tasks.toml").write_text(TASKS)
    (tmp_path / "bench" / "tests" / "test_prog.py").write_text(PARAMETRIZED)
    config = write_config(tmp_path, '''
[run]
name = "raw"
initial = "program"
generations = 1
children_per_generation = 1
[generator]
name = "mutation"
[benchmark]
name = "custom"
path = "bench/tasks.toml"
''')
    run_dir = tmp_path / "run"
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
    assert result.returncode == 0, result.stderr
    root = open_run(run_dir).archive.root
    results = root.task_results
    assert results["big"].passed and results["big"].score == 1.42  # recorded raw, not clamped to 1
    assert results["negative"].passed and results["negative"].score == -0.5  # nor to 0
    assert not results["nan"].passed and results["nan"].failure_kind == "error"
    assert "unreadable task output" in results["nan"].log and "nan" in results["nan"].log
    add, double = (results[f"tests/test_prog.py::{name}"] for name in ("test_add", "test_double"))
    assert add.passed and add.score == 1.0 and add.details["cases"] == 3  # the correct program: every case
    assert double.passed and double.score == 1.0 and double.details["cases"] == 3
    assert root.score == (1.42 - 0.5 + 0.0 + 1.0 + 1.0) / 5  # the mean of raw task scores
    rows = json.loads(darwin_cli("archive", str(run_dir), "--json").stdout)
    assert next(r for r in rows if r["id"] == root.id)["score"] == root.score
    shown = darwin_cli("show", str(run_dir), root.id)
    assert shown.returncode == 0 and "nan" in shown.stdout and "unreadable task output" in shown.stdout
