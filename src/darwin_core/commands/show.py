"""``darwin show RUN VARIANT``: one variant's facts, its failing tasks' logs, its diff, its code."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from darwin_hookspecs import DarwinError, TaskResult, Variant

from .app import app, guard, out, styled

if TYPE_CHECKING:
    from ..reader import RunView


def task_log(view: "RunView", result: TaskResult) -> str:
    """The task's full log when it was stored as a blob, else the inline excerpt."""
    if result.log_ref:
        try:
            return view.store.get_blob(result.log_ref).decode("utf-8", errors="replace")
        except DarwinError:
            pass
    return result.log


def failing_logs(view: "RunView", variant: Variant) -> dict[str, dict[str, Any]]:
    """``{task id: {"failure_kind", "score", "log"}}`` of every task the variant did not pass."""
    return {
        task_id: {"failure_kind": r.failure_kind or "fail", "score": r.score, "log": task_log(view, r)}
        for task_id, r in sorted(variant.task_results.items()) if not r.passed
    }


@app.command()
def show(
    run_dir: Path = typer.Argument(..., help="The run directory."),
    variant_ref: str = typer.Argument(..., metavar="VARIANT", help="A variant id (or a unique prefix, best, root)."),
    files: Optional[Path] = typer.Option(None, "--files", help="Write the variant's code into this directory."),
    diff: bool = typer.Option(False, "--diff", help="Print the diff against its parent."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show a variant: status, score, change, failing tasks with their logs; write its code."""
    with guard():
        from ..reader import open_run

        view = open_run(run_dir)
        variant = view.variant(variant_ref)
        written = view.write_code(variant.id, files) if files is not None else []
        patch = ""
        if diff and variant.patch_ref:
            patch = view.store.get_blob(variant.patch_ref).decode("utf-8", errors="replace")
        failing = failing_logs(view, variant)
    if as_json:
        sys.stdout.write(json.dumps({
            "id": variant.id, "parent_id": variant.parent_id, "generation": variant.generation,
            "status": variant.status, "score": variant.score, "reason": variant.reason,
            "improvement_type": variant.improvement_type, "description": variant.description,
            "failing": failing, "files_written": written, "diff": patch if diff else None,
        }, indent=2) + "\n")
        return
    passed = sum(r.passed for r in variant.task_results.values())
    out.print(styled(variant.id, "bold", f"  {variant.status}  score {variant.score:.4f}  "
                     f"({passed}/{len(variant.task_results)} tasks passed)"))
    out.print(f"  parent {variant.parent_id or '-'}, generation {variant.generation}")
    if variant.description or variant.improvement_type:
        out.print(f"  change: {variant.improvement_type}: {variant.description}")
    if variant.reason:
        out.print(f"  reason: {variant.reason}")
    for task_id, info in failing.items():
        out.print(styled(f"\n--- {task_id}", "bold red", f" ({info['failure_kind']}, score {info['score']:.3f})"))
        out.print(info["log"].rstrip() or "(no output)", soft_wrap=True)
    if diff:
        out.print(styled("\n--- diff against its parent", "bold"))
        out.print(patch.rstrip() or "(no diff: the initial variant, or nothing changed)", soft_wrap=True)
    if files is not None:
        out.print(f"\nwrote {len(written)} files into {files}")
