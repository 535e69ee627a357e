"""The ``evaluator`` benchmark: an OpenEvolve-style evaluate(program_path), called in the sandbox."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from darwin_hookspecs import UserError
from darwin_plugins.evaluator_benchmark.benchmark import EvaluatorBenchmark, EvaluatorOptions
from darwin_plugins.local_sandbox import LocalSandbox, LocalSandboxOptions

from support import REPO

TOUR = REPO / "examples" / "tour"

EVALUATOR = '''
import math, os

class EvaluationResult:            # OpenEvolve's shape: metrics and artifacts attributes
    def __init__(self, metrics, artifacts):
        self.metrics, self.artifacts = metrics, artifacts

def evaluate_stage1(program_path):
    return {"runs": True, "combined_score": 0.5, "nested": {"a": 2}}

def evaluate_stage2(program_path):
    secret = os.environ.get("SECRET_PATH", "")
    program = os.path.join(program_path, "prog.py")
    return EvaluationResult({"combined_score": 1.5, "saw_host_file": float(os.path.exists(secret)),
                             "saw_program": float(os.path.exists(program))},
                            {"feedback": "fine", "cwd": os.getcwd()})

def evaluate_holdout(program_path):
    return {"combined_score": float("nan")}

def evaluate(program_path):
    raise RuntimeError("not called: the stages are")
'''


@pytest.fixture(scope="module")
def sandbox() -> LocalSandbox:
    return LocalSandbox(LocalSandboxOptions(isolation="bwrap"))


def make(tmp_path: Path, text: str, **options: object) -> tuple[EvaluatorBenchmark, Path]:
    (tmp_path / "evaluator.py").write_text(text)
    variant = tmp_path / "variant"
    variant.mkdir()
    (variant / "prog.py").write_text("X = 1\n")
    return EvaluatorBenchmark(EvaluatorOptions(path="evaluator.py", **options), tmp_path), variant


def test_stages_metrics_artifacts_and_the_sandbox_boundary(tmp_path: Path, sandbox: LocalSandbox) -> None:
    secret = tmp_path / "host-secret.txt"
    secret.write_text("the orchestrator's file")
    benchmark, variant = make(tmp_path, EVALUATOR, env={"SECRET_PATH": str(secret)})
    assert [(t.id, t.holdout) for t in benchmark.tasks()] == [
        ("evaluate_stage1", False), ("evaluate_stage2", False), ("evaluate_holdout", True)]
    assert benchmark.ordered and benchmark.metric_aggregation == "last"
    assert benchmark.objective.metric == "combined_score"
    first, second, holdout = benchmark.evaluate(variant, benchmark.tasks(), sandbox)
    assert first.passed and first.metrics == {"runs": 1.0, "combined_score": 0.5, "nested.a": 2.0}
    assert second.passed and second.metrics["combined_score"] == 1.5
    assert second.artifacts["feedback"] == "fine"
    assert second.metrics["saw_program"] == 1.0       # it sees the variant...
    assert second.metrics["saw_host_file"] == 0.0     # ...but not the host's files
    assert not second.artifacts["cwd"].startswith(str(tmp_path))  # it runs in the sandbox's copy
    assert holdout.failure_kind == "error" and "nan" in holdout.log


def test_evaluator_failures_are_task_errors(tmp_path: Path, sandbox: LocalSandbox) -> None:
    benchmark, variant = make(tmp_path, "def evaluate(p):\n    raise ValueError('no tour')\n")
    [result] = benchmark.evaluate(variant, benchmark.tasks(), sandbox)
    assert result.failure_kind == "error" and "ValueError: no tour" in result.log
    (tmp_path / "b").mkdir()
    benchmark, variant = make(tmp_path / "b", "def evaluate(p):\n    return 3\n")
    [result] = benchmark.evaluate(variant, benchmark.tasks(), sandbox)
    assert result.failure_kind == "error" and "not a dict of metrics" in result.log
    with pytest.raises(UserError, match="no function 'score'"):
        EvaluatorBenchmark(EvaluatorOptions(path="evaluator.py:score"), tmp_path)


def test_evaluation_copies_are_deleted_behind_the_evaluations(tmp_path: Path, sandbox: LocalSandbox) -> None:
    (tmp_path / "evaluator.py").write_text("def evaluate(p):\n    return {'combined_score': 1.0}\n")
    variant = tmp_path / "variant"
    variant.mkdir()
    (variant / "prog.py").write_text("X = 1\n")
    scratch = tmp_path / "scratch"
    benchmark = EvaluatorBenchmark(EvaluatorOptions(path="evaluator.py"), tmp_path, scratch)
    for _ in range(3):
        [result] = benchmark.evaluate(variant, benchmark.tasks(), sandbox)
        assert result.passed and result.metrics["combined_score"] == 1.0
    benchmark.close()  # waits for the deletions
    assert list(scratch.iterdir()) == []


def test_the_tour_example_end_to_end(tmp_path: Path, darwin_cli) -> None:
    example = tmp_path / "tour"
    shutil.copytree(TOUR, example)
    run_dir = example / "run"
    result = darwin_cli("run", str(example / "darwin.toml"), "--run-dir", str(run_dir), "-q",
                        "--set", "run.generations=3")
    assert result.returncode == 0, result.stderr
    status = json.loads(darwin_cli("status", str(run_dir), "--json").stdout)
    rows = json.loads(darwin_cli("archive", str(run_dir), "--json").stdout)
    root = next(r for r in rows if r["parent_id"] is None)
    assert status["objective"] == "minimise length"
    assert 7.0 < root["score"] < 7.5 and root["score"] == root["metrics"]["length"]  # raw, unbounded
    accepted = [r["score"] for r in rows if r["status"] == "accepted"]
    assert status["best_score"] == min(accepted) <= root["score"]
    assert status["best_holdout_score"] is not None  # evaluate_holdout ran on the best
