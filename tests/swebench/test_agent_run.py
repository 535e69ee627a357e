"""End to end: `darwin run` in agent mode over the shipped instances, through Docker, producing
official-format predictions, reports and summaries; children aimed at the empty patch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from darwin_core.reader import open_run

from .conftest import EXAMPLE

CALC, TEXT, SHAPES = ("darwin-examples__calc-1", "darwin-examples__textkit-1",
                      "darwin-examples__shapes-1")


def test_darwin_run_agent_mode_end_to_end(tmp_path: Path, darwin_cli, make_dataset) -> None:
    example = tmp_path / "example"
    shutil.copytree(EXAMPLE, example, ignore=shutil.ignore_patterns("dataset", "runs"))
    make_dataset.build(example / "dataset")
    config = example / "darwin.toml"
    config.write_text(config.read_text().replace("generations = 2", "generations = 1"))
    run_dir = tmp_path / "run"
    proc = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q", timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    view = open_run(run_dir)
    root = view.archive.root
    assert root is not None
    assert {t for t, r in root.task_results.items() if r.passed} == {CALC, TEXT}
    assert abs(root.score - 2 / 3) < 1e-9
    shapes = root.task_results[SHAPES]
    assert shapes.failure_kind == "empty_patch"
    assert shapes.details["swebench_status"] == "empty_patch"
    # DGM targeting: the only unresolved instance is an empty patch; every child aims at it
    attempts = [a for a in view.attempts if a.generation == 1]
    assert len(attempts) == 2
    for attempt in attempts:
        assert attempt.target is not None
        assert (attempt.target.kind, attempt.target.task_id) == ("empty_patch", SHAPES)

    out = run_dir / "swebench"
    model = root.task_results[CALC].details["model_name_or_path"]
    assert model.startswith("darwin-agent@")
    predictions_file = out / "predictions" / f"{model}.{view.pointer.run_id}.jsonl"
    rows = {json.loads(line)["instance_id"]: json.loads(line)
            for line in predictions_file.read_text().splitlines()}
    assert set(rows) == {CALC, TEXT, SHAPES}
    for row in rows.values():
        assert set(row) == {"instance_id", "model_name_or_path", "model_patch"}
        assert row["model_name_or_path"] == model
    assert rows[SHAPES]["model_patch"] == ""
    assert "-    return a - b\n+    return a + b" in rows[CALC]["model_patch"]
    assert 'text.split(" ")' in rows[TEXT]["model_patch"]

    summary = json.loads((out / f"{model}.{view.pointer.run_id}.json").read_text())
    assert summary["resolved_ids"] == [CALC, TEXT]
    assert summary["empty_patch_ids"] == [SHAPES]
    assert summary["unresolved_ids"] == [] and summary["error_ids"] == []
    assert summary["total_instances"] == 3
    report = json.loads((out / "logs" / "run_evaluation" / view.pointer.run_id / model / CALC
                         / "report.json").read_text())
    assert report[CALC]["resolved"] is True
    agent_log = (out / "logs" / "run_evaluation" / view.pointer.run_id / model / SHAPES
                 / "agent.log").read_text()
    assert "no actionable hint" in agent_log

    # every evaluated child has its own model name (its code's hash) and summary
    children = [v for v in view.variants if v.parent_id is not None]
    assert len(children) == 2
    for child in children:
        if child.task_results:
            name = next(iter(child.task_results.values())).details["model_name_or_path"]
            assert name != model
            assert (out / f"{name}.{view.pointer.run_id}.json").is_file()
        if child.status == "rejected":
            assert "margin" in child.reason
