"""The end of a run: its final status recorded (never over a new writer's records) and the
summary the CLI prints and ``darwin_run_finished`` receives."""

from __future__ import annotations

from typing import TYPE_CHECKING

from darwin_hookspecs import ConflictError, DarwinError, Lease, LeaseLostError, RunInfo, RunSummary

from .run import RunHandle

if TYPE_CHECKING:  # the summary alone is read by a resume with nothing left (no session built)
    from .session import Session


def finish(handle: RunHandle, lease: Lease | None, steps: Session | None, run: RunInfo,
           status: str, reason: str) -> RunSummary:
    """Save the run's status and stop reason, then report the run finished."""
    run.status = status
    run.metadata["stop_reason"] = reason
    try:
        if steps is not None:
            steps.gate.save()
        lease.check() if lease is not None else None  # never write over a new writer
        handle.store.save_run(run)
    except (ConflictError, LeaseLostError):
        raise  # another writer took over: never report this run's status over its records
    except (DarwinError, OSError):
        pass  # the store is gone, full or read-only: the records already written stand
    result = summary(handle, status, reason)
    handle.plugins.hook.darwin_run_finished(run=run, summary=result)
    return result


def summary(handle: RunHandle, status: str = "", reason: str = "") -> RunSummary:
    """The run's counts and best score (its recorded status unless ``status`` is given)."""
    archive = handle.archive
    variants = archive.summaries()  # nothing is decoded whole
    best = archive.summary(archive.best_id) if archive.best_id else None
    root = variants[0] if variants else None
    return RunSummary(
        run_id=handle.pointer.run_id, status=status or (handle.run.status if handle.run else ""),
        attempts=len(handle.attempts), variants=len(variants),
        accepted=sum(v.status == "accepted" for v in variants),
        best_id=best.id if best else None, best_score=best.score if best else 0.0,
        initial_score=root.score if root else 0.0, stop_reason=reason,
        cost_usd=sum(v.cost_usd for v in variants),
    )
