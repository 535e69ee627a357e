"""The ``evaluator`` benchmark in a container sandbox: the tour example end to end through the
CLI, and an evaluator that cannot see the host's files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from darwin_plugins.evaluator_benchmark.benchmark import EvaluatorBenchmark, EvaluatorOptions

from support import REPO

from .conftest import make_sandbox, owned_containers

PEEK = '''
import os

def evaluate(program_path):
    secret = os.environ["SECRET_PATH"]
    return {"combined_score": 1.0, "saw_host_file": float(os.path.exists(secret)),
            "saw_program": float(os.path.exists(os.path.join(program_path, "prog.py")))}
'''


def test_the_evaluator_runs_in_the_container(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret.txt"
    secret.write_text("the orchestrator's file")
    (tmp_path / "evaluator.py").write_text(PEEK)
    variant = tmp_path / "variant"
    variant.mkdir()
    (variant / "prog.py").write_text("X = 1\n")
    benchmark = EvaluatorBenchmark(EvaluatorOptions(path="evaluator.py", env={"SECRET_PATH": str(secret)}), tmp_path)
    sandbox = make_sandbox("docker")
    [result] = benchmark.evaluate(variant, benchmark.tasks(), sandbox)
    assert result.passed, result.log
    assert result.metrics["saw_program"] == 1.0 and result.metrics["saw_host_file"] == 0.0


def test_the_tour_example_in_docker(tmp_path: Path, darwin_cli) -> None:
    example = tmp_path / "tour"
    shutil.copytree(REPO / "examples" / "tour", example)
    run_dir = example / "run"
    result = darwin_cli("run", str(example / "darwin.toml"), "--run-dir", str(run_dir), "-q",
                        "--set", "run.generations=2", "--set", "sandbox.name=docker",
                        "--set", "sandbox.pool_size=2")
    assert result.returncode == 0, result.stderr
    status = json.loads(darwin_cli("status", str(run_dir), "--json").stdout)
    rows = json.loads(darwin_cli("archive", str(run_dir), "--json").stdout)
    root = next(r for r in rows if r["parent_id"] is None)
    assert status["objective"] == "minimise length"
    assert 7.0 < root["score"] < 7.5  # the same length as in the local sandbox
    assert status["best_score"] == min(r["score"] for r in rows if r["status"] == "accepted")
    assert status["best_holdout_score"] is not None
    assert owned_containers(dead_owners=True) == {}
