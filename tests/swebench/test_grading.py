"""Grading through real Docker containers: the five outcomes of the official harness, the patch
fallback chain, and reports the official tooling reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from darwin_plugins.swebench import reports

CALC = "darwin-examples__calc-1"


def pred(instance_id: str, patch: str | None, model: str = "test-model") -> dict[str, Any]:
    return {"instance_id": instance_id, "model_name_or_path": model, "model_patch": patch}


def calc_patch(make_dataset: Any, swe_dataset: Path, ops: str) -> str:
    """A patch setting calc/ops.py to ``ops`` (made with git against base_commit)."""
    return make_dataset.diff_for(swe_dataset / "repos" / "darwin-examples__calc", {"calc/ops.py": ops})


@pytest.fixture
def calc_base(make_dataset: Any) -> str:
    return make_dataset.CALC_BASE["calc/ops.py"]


def test_gold_patch_is_resolved(make_benchmark, instances) -> None:
    bench = make_benchmark()
    grade = bench.grade_prediction(pred(CALC, instances[CALC]["patch"], "gold"))
    assert grade.status == "resolved", grade.reason
    log_dir = reports.instance_log_dir(bench.output_dir, "test-run", "gold", CALC)
    report = json.loads((log_dir / "report.json").read_text())
    entry = report[CALC]
    assert entry["resolved"] is True and entry["patch_successfully_applied"] is True
    assert entry["tests_status"]["FAIL_TO_PASS"]["success"] == ["tests/test_ops.py::test_add"]
    assert sorted(entry["tests_status"]["PASS_TO_PASS"]["success"]) == [
        "tests/test_ops.py::test_mul", "tests/test_ops.py::test_sub"]
    for name in ("patch.diff", "eval.sh", "test_output.txt", "run_instance.log"):
        assert (log_dir / name).is_file(), name
    assert "PASSED tests/test_ops.py::test_add" in (log_dir / "test_output.txt").read_text()


def test_empty_patch_is_not_run(make_benchmark) -> None:
    bench = make_benchmark()
    grade = bench.grade_prediction(pred(CALC, ""))
    assert grade.status == "empty_patch"
    log_dir = reports.instance_log_dir(bench.output_dir, "test-run", "test-model", CALC)
    assert not (log_dir / "report.json").exists()
    assert not (log_dir / "test_output.txt").exists()


def test_wrong_patch_is_unresolved(make_benchmark, make_dataset, swe_dataset, calc_base) -> None:
    bench = make_benchmark()
    wrong = calc_base.replace("def add(a, b):\n    return a - b", "def add(a, b):\n    return a * b")
    grade = bench.grade_prediction(pred(CALC, calc_patch(make_dataset, swe_dataset, wrong)))
    assert grade.status == "unresolved"
    assert grade.report["patch_successfully_applied"] is True
    assert grade.report["tests_status"]["FAIL_TO_PASS"]["failure"] == ["tests/test_ops.py::test_add"]
    assert grade.report["tests_status"]["PASS_TO_PASS"]["failure"] == []
    assert "FAIL_TO_PASS failing: tests/test_ops.py::test_add" in grade.reason


def test_patch_breaking_pass_to_pass_is_unresolved(make_benchmark, make_dataset, swe_dataset,
                                                   calc_base) -> None:
    bench = make_benchmark()
    greedy = calc_base.replace("return a - b", "return a + b")  # fixes add, breaks sub
    grade = bench.grade_prediction(pred(CALC, calc_patch(make_dataset, swe_dataset, greedy)))
    assert grade.status == "unresolved"
    status = grade.report["tests_status"]
    assert status["FAIL_TO_PASS"]["success"] == ["tests/test_ops.py::test_add"]
    assert status["PASS_TO_PASS"]["failure"] == ["tests/test_ops.py::test_sub"]
    assert "PASS_TO_PASS failing: tests/test_ops.py::test_sub" in grade.reason


def test_patch_that_does_not_apply_is_an_error_with_reason(make_benchmark) -> None:
    bench = make_benchmark()
    bogus = ("diff --git a/calc/ops.py b/calc/ops.py\n--- a/calc/ops.py\n+++ b/calc/ops.py\n"
             "@@ -1,3 +1,3 @@\n def nothing_like_this():\n-    return 41\n+    return 42\n pass\n")
    grade = bench.grade_prediction(pred(CALC, bogus))
    assert grade.status == "error"
    assert ">>>>> Patch Apply Failed" in grade.reason
    assert "calc/ops.py" in grade.reason  # the tool's own complaint is kept
    log_dir = reports.instance_log_dir(bench.output_dir, "test-run", "test-model", CALC)
    assert not (log_dir / "report.json").exists()
    log = (log_dir / "run_instance.log").read_text()
    # every step of the official chain was tried, in order
    positions = [log.index(f"Failed to apply patch to container: {cmd}") for cmd in (
        "git apply --verbose", "git apply --verbose --reject", "patch --batch --forward --fuzz=5")]
    assert positions == sorted(positions)


def test_fuzzy_patch_falls_back_to_patch_fuzz(make_benchmark, instances) -> None:
    """A patch whose context is slightly off is refused by `git apply` but applied by
    `patch --fuzz`, as in the official harness."""
    bench = make_benchmark()
    fuzzy = instances[CALC]["patch"].replace(" def sub(a, b):", " def subtract(a, b):")
    assert fuzzy != instances[CALC]["patch"]
    grade = bench.grade_prediction(pred(CALC, fuzzy, "fuzzy"))
    assert grade.status == "resolved", grade.reason
    log_dir = reports.instance_log_dir(bench.output_dir, "test-run", "fuzzy", CALC)
    log = (log_dir / "run_instance.log").read_text()
    assert "Failed to apply patch to container: git apply --verbose\n" in log
    assert ">>>>> Applied Patch (patch --batch --forward --fuzz=5" in log


OFFICIAL_REPORT = """
import json, sys
from swebench.harness.reporting import make_run_report
preds = {}
for line in open(sys.argv[1]):
    row = json.loads(line)
    preds[row["instance_id"]] = row
full = [json.loads(line) for line in open(sys.argv[2])]
print(make_run_report(preds, full, sys.argv[3], report_dir=sys.argv[4]))
"""


def test_summary_matches_the_official_report(make_benchmark, instances, make_dataset,
                                             swe_dataset, tmp_path) -> None:
    """One model over the four instances: resolved, empty, unresolved, error. Our summary and
    the official ``make_run_report`` (run on our output directory) agree."""
    bench = make_benchmark()
    model = "mixed/model"
    wrong = make_dataset.SHAPES_BASE["shapes/area.py"].replace("side * 2", "side + side")
    rows = [
        pred(CALC, instances[CALC]["patch"], model),
        pred("darwin-examples__textkit-1", "", model),
        pred("darwin-examples__shapes-1", make_dataset.diff_for(
            swe_dataset / "repos" / "darwin-examples__shapes", {"shapes/area.py": wrong}), model),
        pred("darwin-examples__clock-1", "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", model),
    ]
    statuses = [bench.grade_prediction(row).status for row in rows]
    assert statuses == ["resolved", "empty_patch", "unresolved", "error"]
    path = reports.predictions_path(bench.output_dir, model, "test-run")
    reports.write_predictions(path, rows)
    ours = json.loads(reports.write_summary(bench.output_dir, "test-run", model, list(instances)).read_text())
    assert ours["resolved_ids"] == [CALC]
    assert ours["empty_patch_ids"] == ["darwin-examples__textkit-1"]
    assert ours["unresolved_ids"] == ["darwin-examples__shapes-1"]
    assert ours["error_ids"] == ["darwin-examples__clock-1"]
    # predictions file: exactly the official three fields
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert all(set(x) == {"instance_id", "model_name_or_path", "model_patch"} for x in lines)
    official_dir = tmp_path / "official"
    proc = subprocess.run(
        [sys.executable, "-c", OFFICIAL_REPORT, str(path), str(swe_dataset / "instances.jsonl"),
         "test-run", str(official_dir)],
        cwd=bench.output_dir, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads((official_dir / "mixed__model.test-run.json").read_text())
    for key in ("resolved_ids", "unresolved_ids", "empty_patch_ids", "error_ids", "completed_ids",
                "submitted_ids", "total_instances"):
        assert theirs[key] == ours[key], key
    # the official harness re-grades our logs from the dataset as graded, to the same verdicts
    proc = subprocess.run(
        [sys.executable, "-m", "swebench.harness.run_evaluation", "--dataset_name",
         str(bench.output_dir / "instances.graded.jsonl"), "--predictions_path", str(path),
         "--run_id", "test-run", "--rewrite_reports", "true"],
        cwd=bench.output_dir, capture_output=True, text=True, timeout=300,
        env={**os.environ, "DOCKER_HOST": bench.options.docker_host},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    regraded = json.loads((bench.output_dir / "mixed__model.test-run.json").read_text())
    for key in ("resolved_ids", "unresolved_ids", "empty_patch_ids", "error_ids"):
        assert regraded[key] == ours[key], key
