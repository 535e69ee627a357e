"""Grading one prediction exactly like the official harness's ``run_instance``.

In a fresh container of the instance image: the model patch is applied with the official chain
(``git apply``, ``--3way``, ``--reject``, ``patch --fuzz``; the tree reset between tries and a
reverse check at the end), the official eval script runs (test patch applied, the tests between
the output markers), and the official :func:`get_eval_report` parses the log with the
instance's log parser: *resolved* iff every FAIL_TO_PASS and PASS_TO_PASS test passes. The
instance's log directory gets the official files (``patch.diff``, ``eval.sh``,
``test_output.txt``, ``run_instance.log``, and ``report.json`` when the run completed).
"""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .containers import InstanceContainer, Limits, start_container
from .harness import EvalSpec, is_empty_patch, official

PATCH_FILE = "/tmp/patch.diff"


@dataclass
class Grade:
    """``status``: ``resolved``, ``unresolved``, ``empty_patch`` or ``error`` (the four
    groups of the official summary)."""

    instance_id: str
    status: str
    reason: str = ""
    report: dict[str, Any] = field(default_factory=dict)
    test_output: str = ""
    duration_s: float = 0.0
    timed_out: bool = False


def grade(client: Any, spec: EvalSpec, prediction: dict[str, Any], log_dir: Path, *,
          workdir: str, limits: Limits, timeout_s: float, hostname: str = "sweb",
          run_label: str = "") -> Grade:
    """Grade ``prediction`` (``instance_id``, ``model_name_or_path``, ``model_patch``)."""
    h = official()
    c = h.constants
    iid = spec.instance_id
    log_dir.mkdir(parents=True, exist_ok=True)
    log: list[str] = []
    started = time.monotonic()

    def finish(result: Grade) -> Grade:
        result.duration_s = time.monotonic() - started
        (log_dir / c.LOG_INSTANCE).write_text("\n".join(log) + "\n", encoding="utf-8")
        return result

    for stale in (c.LOG_REPORT, c.LOG_TEST_OUTPUT, "patch.diff", "eval.sh"):
        (log_dir / stale).unlink(missing_ok=True)  # identical code graded again: start clean
    patch = prediction.get("model_patch")
    if is_empty_patch(patch):
        log.append(f"Empty patch for {iid}: not evaluated (counted in empty_patch_ids)")
        return finish(Grade(iid, "empty_patch", reason="the prediction's patch is empty"))
    (log_dir / "patch.diff").write_text(patch, encoding="utf-8")
    container = start_container(client, spec.image, purpose="eval", hostname=hostname,
                                limits=limits, run_label=run_label)
    log.append(f"Container for {iid} started from {spec.image}: {container.container.name}")
    try:
        container.put({PATCH_FILE.lstrip("/"): patch.encode("utf-8")}, "/")
        applied, output = _apply(container, workdir, h.git_apply_cmds, log)
        if not applied:
            log.append(f"{c.APPLY_PATCH_FAIL}:\n{output}")
            return finish(Grade(iid, "error", reason=f"{c.APPLY_PATCH_FAIL}:\n{output.strip()}"))
        _, before, _ = container.run(["git", "-c", "core.fileMode=false", "diff"], workdir=workdir)
        log.append(f"Git diff before:\n{before.strip()}")
        script = spec.eval_script
        (log_dir / "eval.sh").write_text(script, encoding="utf-8")
        container.put({"eval.sh": script.encode("utf-8")}, "/", mode=0o755)
        run = container.run_long(["/bin/bash", "/eval.sh"], timeout_s=timeout_s)
        log.append(f"Test runtime: {run.duration_s:_.2f} seconds")
        output_path = log_dir / c.LOG_TEST_OUTPUT
        text = run.output
        if run.timed_out:
            text += f"\n\nTimeout error: {timeout_s} seconds exceeded."
        output_path.write_text(text, encoding="utf-8")
        if run.timed_out:
            log.append(f"Test timed out after {timeout_s} seconds.")
            return finish(Grade(iid, "error", reason=f"Test timed out after {timeout_s} seconds.",
                                test_output=text, timed_out=True))
        report = h.get_eval_report(test_spec=spec.test_spec, prediction=prediction,
                                   test_log_path=str(output_path), include_tests_status=True)
        (log_dir / c.LOG_REPORT).write_text(json.dumps(report, indent=4), encoding="utf-8")
        entry = report[iid]
        log.append(f"report: {json.dumps(entry)}\nResult for {iid}: resolved: {entry['resolved']}")
        status = "resolved" if entry["resolved"] else "unresolved"
        reason = "" if entry["resolved"] else _why(entry)
        return finish(Grade(iid, status, reason=reason, report=entry, test_output=text))
    finally:
        container.remove()


def _apply(container: InstanceContainer, workdir: str, commands: list[str],
           log: list[str]) -> tuple[bool, str]:
    """The official patch chain; ``(applied, output of the last try)``."""
    c = official().constants
    output = ""
    for attempt, command in enumerate(commands):
        if attempt:
            container.run(["/bin/bash", "-c", "git checkout -- . ; git clean -fd"], workdir=workdir)
        code, out, err = container.run([*shlex.split(command), PATCH_FILE], workdir=workdir)
        output = out + err
        if code == 0:
            log.append(f"{c.APPLY_PATCH_PASS} ({command}):\n{output}")
            return True, output
        log.append(f"Failed to apply patch to container: {command}")
    code, _, _ = container.run(["git", "apply", "--check", "--reverse", PATCH_FILE], workdir=workdir)
    if code == 0:
        log.append(f"{c.APPLY_PATCH_PASS}: verified already applied")
        return True, output
    return False, output


def _why(entry: dict[str, Any]) -> str:
    if not entry.get("patch_successfully_applied"):
        reason = entry.get("infra_failure_reason") or "no test result could be parsed from the log"
        return f"tests did not run: {reason}"
    status = entry.get("tests_status") or {}
    parts = []
    for key in ("FAIL_TO_PASS", "PASS_TO_PASS"):
        failed = (status.get(key) or {}).get("failure") or []
        if failed:
            parts.append(f"{key} failing: {', '.join(failed[:10])}")
    return "; ".join(parts) or "not resolved"
