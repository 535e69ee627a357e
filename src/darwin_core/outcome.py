"""What the engine does with a finished executor job: record the attempt's child (or its
skip), or carry the attempt on to its evaluation job. Runs in the engine's thread, inside the
scheduling pass that handles the job (:mod:`darwin_core.durable`)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Union

from darwin_hookspecs import Attempt, UserError

from . import admission, infra
from .attempt import EvaluateJob, run_evaluate_job
from .evaluate import Evaluation
from .generate import Generated
from .record import Change
from .session import Session
from .stopping import BUDGET_EXIT, StopSignal

if TYPE_CHECKING:
    from .engine import Engine

Pending = Union[None, tuple[Generated, Change]]
"""What an in-flight future continues: ``None`` for a generate job, the reviewed change for an
evaluate job."""


def carry_on(engine: "Engine", steps: Session, attempt: Attempt, future: Future[Any],
             pending: Pending) -> tuple[Future[Evaluation], tuple[Generated, Change]] | None:
    """Carry a finished job on to its next step; the evaluate job to wait for, if any."""
    archive, store = engine.archive, engine.store
    parent = archive.get(attempt.parent_id)
    recorder = steps.recorder
    try:
        result = future.result()
    except Exception as exc:  # noqa: BLE001 - executor/infra failure of one attempt
        if (stop := infra.as_error(exc)) is not None:  # the machine's fault: retry after resume
            attempt.status = "planned"
            store.save_attempt(attempt)
            raise stop from exc
        error = f"attempt crashed in the executor: {type(exc).__name__}: {exc}"
        result = (Generated(attempt.id, error=error, error_kind="evaluation"), None) if pending is None \
            else Evaluation(error=error, error_kind="evaluation")
    if pending is not None:  # an evaluate job
        generated, change = pending
        recorder.record_child(attempt, parent, generated, change, result)
        return None
    generated, evaluation = result
    if generated.error_kind == "budget":  # not paid for: it runs again after resume
        attempt.status = "planned"
        store.save_attempt(attempt)
        steps.stop = StopSignal(generated.error, "stopped", BUDGET_EXIT)
        return None
    if generated.error_kind == "user":  # bad input (e.g. a refused API key): stop at once, exit 2
        attempt.status = "planned"
        store.save_attempt(attempt)
        raise UserError(generated.error)
    change = recorder.store_change(parent.id, generated.changes)
    if generated.error or not generated.changed or generated.proposal is None:
        recorder.record_child(attempt, parent, generated, change, None)
        return None
    duplicate = engine.trees.find(change.manifest) if generated.duplicate else None
    if duplicate is not None:  # the job found its code evaluated already (duplicates.py)
        recorder.record_child(attempt, parent, generated, change, None, duplicate_of=duplicate)
        return None
    if not admission.review(steps.gate, attempt, archive, generated.proposal, change, engine.trees):
        recorder.record_skipped(attempt, generated, change)
        return None
    if evaluation is not None:
        recorder.record_child(attempt, parent, generated, change, evaluation)
        return None
    job = EvaluateJob(**engine.run_fields(), attempt=attempt, parent_files=engine.codebook.files(parent.id),
                      changes=generated.changes)
    return steps.executor.submit(run_evaluate_job, job), (generated, change)
