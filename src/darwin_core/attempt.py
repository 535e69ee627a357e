"""The executor jobs of an attempt: pure functions of picklable jobs.

They run wherever the executor puts them (a thread here, a Ray worker elsewhere), touch no
storage and decide nothing about the archive. :func:`run_generate_job` runs the generate step
and returns the change; when no gate reviews changes (``evaluate=True``) it also evaluates the
child in the same job, saving a round trip, unless the child's code equals an evaluated
variant's (``skip_trees``). Otherwise the orchestrator reviews the change and
submits :func:`run_evaluate_job` for the changes it admits.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import AbstractSet, Any, Iterator

from darwin_hookspecs import Attempt, Inspiration, Sibling, Variant

from .duplicates import child_files, tree_digest
from .durable import EVALUATION_SLOTS, GATES, MODEL_SLOTS
from .evaluate import Evaluation, apply_changes, evaluate_child
from .generate import Generated, generate
from .ledger import flush_at_job_end
from .runtime import Runtime, runtime_for
from .snapshots import write_tree
from .trash import SCRATCH
from .workcopy import COPIES, WorkingCopy, write_file


@dataclass
class RunJob:
    """How a worker finds (or builds) the run's runtime (an executor may point ``run_dir`` at
    its workers' own directory)."""

    run_id: str
    config_data: dict[str, Any]
    config_source: str | None
    run_dir: str
    reuse_copy: bool
    """Reuse a worker's working copy (:mod:`darwin_core.workcopy`; in-process executors)."""

    def runtime(self) -> Runtime:
        return runtime_for(self.run_id, self.config_data, self.config_source, self.run_dir)


@dataclass
class GenerateJob(RunJob):
    """Generate a child of ``parent``; with ``evaluate``, evaluate it in the same job."""

    attempt: Attempt
    parent: Variant
    parent_files: dict[str, bytes]
    memory: list[str] = field(default_factory=list)
    evaluate: bool = True
    inspirations: list[Inspiration] = field(default_factory=list)
    operator_stats: dict[str, tuple[int, int]] = field(default_factory=dict)
    siblings: list[Sibling] = field(default_factory=list)
    skip_trees: AbstractSet[str] = frozenset()
    """Digests (:func:`darwin_core.duplicates.tree_digest`) of evaluated trees: a child with
    one of them is not evaluated."""


@dataclass
class EvaluateJob(RunJob):
    """Evaluate the child made of ``parent_files`` and ``changes``."""

    attempt: Attempt
    parent_files: dict[str, bytes]
    changes: dict[str, bytes | None]


@contextmanager
def _workdir(runtime: Runtime, attempt_id: str, reuse: bool) -> Iterator[tuple[Path, WorkingCopy | None]]:
    """The attempt's scratch directory, and the working copy it belongs to (``reuse``)."""
    scratch = runtime.run_dir / "scratch"
    if reuse:
        copy = COPIES.take(scratch)
        try:
            yield copy.root, copy
        except BaseException:
            SCRATCH.put(copy.root)  # a job that did not end normally leaves no copy to reuse
            raise
        COPIES.give(copy)
        return
    scratch.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"{attempt_id}-", dir=scratch))
    try:
        yield workdir, None
    finally:
        SCRATCH.put(workdir)  # deleted after the job has returned its result


def _target_task(attempt: Attempt) -> str | None:
    return attempt.target.task_id if attempt.target else None


def _slot_key(attempt: Attempt) -> tuple[int, int]:
    return attempt.generation, attempt.index


def run_generate_job(job: GenerateJob) -> tuple[Generated, Evaluation | None]:
    """Entry point for executors (module-level, picklable): the change, and its evaluation
    when the job evaluates too and there is a change to evaluate."""
    runtime = job.runtime()
    with _workdir(runtime, job.attempt.id, job.reuse_copy) as (workdir, copy), flush_at_job_end(job.attempt.id):
        with MODEL_SLOTS.slot(job.run_id, _slot_key(job.attempt)):  # [run] lookahead: max_workers at once
            generated, child_dir = generate(runtime, job.attempt, job.parent, job.parent_files, job.memory, workdir,
                                            inspirations=job.inspirations, operator_stats=job.operator_stats, siblings=job.siblings,
                                            copy=copy)
        if not job.evaluate or child_dir is None or not generated.changed:
            return generated, None
        if job.skip_trees and tree_digest(child_files(job.parent_files, generated.changes)) in job.skip_trees:
            generated.duplicate = True
            return generated, None
        GATES.wait(job.run_id, job.attempt.id)  # its running mark is durable before anything runs
        with EVALUATION_SLOTS.slot(job.run_id, _slot_key(job.attempt)):
            return generated, evaluate_child(runtime, child_dir, _target_task(job.attempt))


def run_evaluate_job(job: EvaluateJob) -> Evaluation:
    """Entry point for executors (module-level, picklable)."""
    runtime = job.runtime()
    with _workdir(runtime, job.attempt.id, job.reuse_copy) as (workdir, copy):
        child_dir = copy.checkout(job.parent_files) if copy is not None else workdir / "child"
        if copy is None:
            write_tree(job.parent_files, child_dir)
        error = apply_changes(job.changes, child_dir, write=write_file if copy is not None else None)
        if error:
            return Evaluation(error=error, error_kind="apply")
        with EVALUATION_SLOTS.slot(job.run_id, _slot_key(job.attempt)):
            return evaluate_child(runtime, child_dir, _target_task(job.attempt))
