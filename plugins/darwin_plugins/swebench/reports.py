"""Official-format outputs: predictions and the run summary.

Layout under the output directory (what ``swebench.harness`` writes and reads, relative to its
working directory)::

    predictions/<model>.jsonl                          instance_id, model_name_or_path, model_patch
    logs/run_evaluation/<eval run>/<model>/<instance>/ patch.diff, eval.sh, test_output.txt,
                                                       run_instance.log, report.json
    <model>.<eval run>.json                            summary (resolved / unresolved /
                                                       empty-patch / error ids)

``<model>`` is ``model_name_or_path`` with ``/`` replaced by ``__``, as the harness does.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

LOG_ROOT = Path("logs") / "run_evaluation"
_LOCK = threading.Lock()


def model_dir_name(model: str) -> str:
    return model.replace("/", "__")


def instance_log_dir(out: Path, eval_run: str, model: str, instance_id: str) -> Path:
    return out / LOG_ROOT / eval_run / model_dir_name(model) / instance_id


def predictions_path(out: Path, model: str, eval_run: str) -> Path:
    return out / "predictions" / f"{model_dir_name(model)}.{eval_run}.jsonl"


def write_predictions(path: Path, predictions: list[dict[str, Any]]) -> None:
    """Merge ``predictions`` into the JSONL file (one line per instance, latest wins)."""
    with _LOCK:
        merged: dict[str, dict[str, Any]] = {}
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    merged[row["instance_id"]] = row
        for row in predictions:
            merged[row["instance_id"]] = {k: row[k] for k in
                                          ("instance_id", "model_name_or_path", "model_patch")}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in merged.values()), encoding="utf-8")
        tmp.replace(path)


def read_predictions(path: Path) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {r["instance_id"]: r for r in rows}


def write_summary(out: Path, eval_run: str, model: str, dataset_ids: list[str]) -> Path:
    """The run report, computed from the instance logs the way ``make_run_report`` does."""
    with _LOCK:
        predictions = read_predictions(predictions_path(out, model, eval_run))
        ids = {k: set() for k in ("completed", "resolved", "unresolved", "empty_patch", "error",
                                  "incomplete")}
        for iid in dataset_ids:
            pred = predictions.get(iid)
            if pred is None:
                ids["incomplete"].add(iid)
                continue
            if pred.get("model_patch") in ("", None):
                ids["empty_patch"].add(iid)
                continue
            report_file = instance_log_dir(out, eval_run, model, iid) / "report.json"
            if not report_file.is_file():
                ids["error"].add(iid)
                continue
            ids["completed"].add(iid)
            try:
                resolved = json.loads(report_file.read_text(encoding="utf-8"))[iid]["resolved"]
            except (ValueError, KeyError):
                ids["error"].add(iid)
                continue
            ids["resolved" if resolved else "unresolved"].add(iid)
        summary = {
            "total_instances": len(dataset_ids),
            "submitted_instances": len(predictions),
            "completed_instances": len(ids["completed"]),
            "resolved_instances": len(ids["resolved"]),
            "unresolved_instances": len(ids["unresolved"]),
            "empty_patch_instances": len(ids["empty_patch"]),
            "error_instances": len(ids["error"]),
            "completed_ids": sorted(ids["completed"]),
            "incomplete_ids": sorted(ids["incomplete"]),
            "empty_patch_ids": sorted(ids["empty_patch"]),
            "submitted_ids": sorted(predictions),
            "resolved_ids": sorted(ids["resolved"]),
            "unresolved_ids": sorted(ids["unresolved"]),
            "error_ids": sorted(ids["error"]),
            "schema_version": 2,
        }
        path = out / f"{model_dir_name(model)}.{eval_run}.json"
        path.write_text(json.dumps(summary, indent=4) + "\n", encoding="utf-8")
        return path
