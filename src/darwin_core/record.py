"""The record step: the orchestrator, the only writer, stores a change and the variant it makes.

A change's files go to content-addressed blobs and its diff to a blob; a child variant is
written once (immutable), then its attempt is marked finished, so a crash in between leaves a
recorded child that resume recognises. The initial variant and warm-start seeds are recorded
by the same :meth:`Recorder.record_evaluated`.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, replace
from typing import Any

from darwin_hookspecs import Attempt, TaskResult, TaskSpec, Variant

from . import acceptance, health
from .evaluate import Evaluation, evaluate_fully
from .generate import Generated
from .holdout import HoldoutChecker
from .objective import Scorer
from .run import RunHandle
from .runtime import Runtime
from .snapshots import unified_diff

ROOT_ID = "v0000root"
INLINE_LOG = 1500


def variant_id_for(attempt_id: str) -> str:
    return "v" + attempt_id[1:]


@dataclass
class Change:
    """A generated code change, stored: the child's ``snapshot`` (what differs from its parent),
    the effective ``new`` content (``None`` deletes), the parent's ``old`` content of those
    files, and the child's full ``manifest``."""

    snapshot: dict[str, str | None]
    new: dict[str, bytes | None]
    old: dict[str, bytes]
    manifest: dict[str, str]

    def diff(self) -> bytes:
        return unified_diff(self.old, self.new).encode()


NO_CHANGE = Change(snapshot={}, new={}, old={}, manifest={})


class Recorder:
    """Writes what the pipeline produced into the run (store, code book, archive) and tells
    the observers (``darwin_*`` hooks)."""

    def __init__(self, handle: RunHandle, tasks: list[TaskSpec], gate: Any, scorer: Scorer | None = None,
                 holdout: HoldoutChecker | None = None) -> None:
        self.handle = handle
        self.store = handle.store
        self.hook = handle.plugins.hook
        self.gate = gate
        self.scorer = scorer or Scorer(handle.archive.objective, tasks)
        """Scores variants by the benchmark's objective (:mod:`darwin_core.objective`)."""
        self.holdout = holdout
        """Checks each new best on the held-out tasks (:mod:`darwin_core.holdout`)."""

    # ------------------------------------------------------------- pieces

    def store_change(self, parent_id: str, changes: dict[str, bytes | None]) -> Change:
        """Store the changed files; the :class:`Change` they make to ``parent_id``."""
        if not changes:
            return NO_CHANGE
        codebook = self.handle.codebook
        snapshot, new = codebook.store_changes(parent_id, changes)
        manifest = codebook.manifest(parent_id)
        old = {rel: self.store.get_blob(manifest[rel]) for rel in new if rel in manifest}
        for rel, key in snapshot.items():
            if key is None:
                manifest.pop(rel, None)
            else:
                manifest[rel] = key
        return Change(snapshot=snapshot, new=new, old=old, manifest=manifest)

    def score(self, results: list[TaskResult]) -> float:
        """The objective's value (by default the weighted mean task score over the whole task
        set, unevaluated tasks counting 0); 0 when it has none (such a child is ``invalid``)."""
        value = self.scorer.score(results)[0]
        return 0.0 if value is None else value

    def compact(self, results: list[TaskResult]) -> dict[str, TaskResult]:
        """Keep logs of failing tasks only (long logs go to a blob); keep every task's coverage:
        fault localisation (the mutation generator's Ochiai) weighs a line by the passing tasks
        that execute it too, so a child of this variant needs them."""
        compact: dict[str, TaskResult] = {}
        for r in results:
            r = TaskResult(**{**r.__dict__})
            if r.passed:
                r.log = ""
            elif len(r.log) > INLINE_LOG:
                r.log_ref = self.store.put_blob(r.log.encode(), shared=False)
                r.log = r.log[-INLINE_LOG:]
            compact[r.task_id] = r
        return compact

    def check_best(self) -> None:
        """Check the best on the held-out tasks if a crash came between recording it and its
        check (a resume calls it; nothing to do when its record exists)."""
        best_id = self.handle.archive.best_id  # decoded only when its check is missing
        if self.holdout is not None and best_id is not None and best_id not in self.holdout.records:
            best = self.handle.archive.get(best_id)
            self.holdout.check(best, self._parent(best))

    def save_variant(self, variant: Variant) -> Variant:
        """Write a variant once (in the open batch, if any); one a crashed pass already wrote is
        taken as recorded. Once it is durable, a new best is checked on the held-out tasks and
        observers hear of it."""
        self.scorer.annotate(variant)
        archive = self.handle.archive
        before = archive.best_id
        self.handle.add_variant(variant)
        self.store.save_variant(variant, keep=self._adopt)
        if self.holdout is not None and archive.best_id == variant.id != before:
            parent = self._parent(variant)
            holdout = self.holdout  # its code's blobs are readable once the batch is committed
            self.store.after_commit(lambda: holdout.check(variant, parent))
        if variant.id != ROOT_ID:
            self.store.after_commit(lambda: self._announce(variant.id))
        return variant

    def _parent(self, variant: Variant) -> Variant | None:
        return self.handle.archive.get(variant.parent_id) if variant.parent_id else None

    def _adopt(self, stored: dict[str, Any]) -> None:
        """The recorded copy of a variant supersedes ours (written by a crashed pass)."""
        variant = Variant.from_dict(stored)
        self.handle.codebook.add(variant)
        self.handle.archive.replace(variant)

    def _announce(self, variant_id: str) -> None:
        variant = self.handle.archive.get(variant_id)
        if variant.status == "accepted":
            self.hook.darwin_variant_accepted(run=self.handle.run, variant=variant)
        else:
            self.hook.darwin_variant_rejected(run=self.handle.run, variant=variant, reason=variant.reason)

    def _evaluated(self, attempt: Attempt | None, results: list[TaskResult]) -> None:
        for result in results:
            self.hook.darwin_task_evaluated(run=self.handle.run, attempt=attempt, result=result)

    def _proposed(self, attempt: Attempt, generated: Generated) -> None:
        if generated.proposal is not None:
            self.hook.darwin_proposal_generated(
                run=self.handle.run, attempt=attempt, proposal=generated.proposal,
                started_at=generated.proposal_started, duration_s=generated.proposal_s,
            )

    # ------------------------------------------------------------- records

    def record_initial(self, runtime: Runtime, variant: Variant, *, judge: bool) -> Variant:
        """Evaluate a variant that is no attempt's child (its ``snapshot`` against its parent)
        on every task and record it. This runs in the orchestrator; the benchmark runs the
        code in the sandbox."""
        codebook = self.handle.codebook
        codebook.add(variant)
        workdir = codebook.materialize(variant.id, self.handle.run_dir / "scratch" / variant.id)
        try:
            evaluation = evaluate_fully(runtime, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return self.record_evaluated(variant, evaluation, judge=judge)

    def record_evaluated(self, variant: Variant, evaluation: Evaluation, *, judge: bool) -> Variant:
        """An evaluated variant that is no attempt's child (the initial variant, a seed):
        ``judge`` marks one whose every task crashed invalid (the initial variant is accepted)."""
        results = evaluation.results
        if variant.id == ROOT_ID:  # a benchmark that cannot run stops the run here
            health.check_initial(results)
            if self.scorer.score(results)[0] is None:
                health.check_objective(self.scorer.missing(self.scorer.metrics(results)))
        self._evaluated(None, results)
        status, reason = "accepted", ""
        if judge:
            status, reason = acceptance.validity(results, changed=True) or ("accepted", "")
        return self.save_variant(replace(
            variant, status=status, reason=reason, score=self.score(results),
            task_results=self.compact(results), stage_reached=evaluation.stage_reached,
            created_at=time.time(), timings={"evaluation_s": evaluation.evaluation_s},
        ))

    def record_child(self, attempt: Attempt, parent: Variant, generated: Generated, change: Change,
                     evaluation: Evaluation | None, duplicate_of: str | None = None) -> Variant:
        """The child of a finished attempt (judged), then the attempt itself; a ``duplicate_of``
        child (its code equals that variant's) is recorded ``invalid`` without evaluation."""
        evaluation = evaluation or Evaluation()
        self._proposed(attempt, generated)
        self._evaluated(attempt, evaluation.results)
        value, metrics, _ = self.scorer.score(evaluation.results)
        score = 0.0 if value is None else value
        error = generated.error or evaluation.error
        status, reason = acceptance.verdict(
            self.handle.config, error, bool(change.new), value, parent, self.handle.archive.root,
            evaluation.results, self.scorer.objective, self.scorer.missing(metrics))
        if duplicate_of is not None:
            status, reason = "invalid", f"duplicate: its code equals {duplicate_of}'s (evaluated already); not evaluated"
        proposal = generated.proposal
        with self.store.batch():  # one durable commit: blobs, the child, the finished attempt
            patch_ref = self.store.put_blob(change.diff(), shared=False) if change.new else None
            child = Variant(
                id=variant_id_for(attempt.id), parent_id=parent.id, generation=attempt.generation,
                status=status, reason=reason, score=score, task_results=self.compact(evaluation.results),
                snapshot=change.snapshot, patch_ref=patch_ref,
                generator=self.handle.config.generator.name, improvement_type=proposal.improvement_type if proposal else "",
                description=proposal.description if proposal else "", target=attempt.target,
                usage=generated.usage, cost_usd=sum(u.cost_usd for u in generated.usage),
                timings={"proposal_s": generated.proposal_s, "evaluation_s": evaluation.evaluation_s},
                stage_reached=evaluation.stage_reached, attempt_id=attempt.id, created_at=time.time(),
                metadata={**(proposal.metadata if proposal else {}),
                          **({"duplicate_of": duplicate_of} if duplicate_of else {})},
            )
            self._record_child(attempt, parent, child, error)
        return self.handle.archive.get(variant_id_for(attempt.id))

    def _record_child(self, attempt: Attempt, parent: Variant, child: Variant, error: str) -> None:
        self.save_variant(child)
        attempt.status, attempt.child_id = "finished", child.id
        attempt.finished_at, attempt.error = time.time(), error[:4000]
        self.store.save_attempt(attempt)
        self.gate.observe(attempt, parent, child, self.handle.archive)  # its records share the commit
        self.store.after_commit(lambda: self._finished(attempt, parent))

    def _finished(self, attempt: Attempt, parent: Variant) -> None:
        child = self.handle.archive.get(attempt.child_id or "")
        self.hook.darwin_memory_record(run=self.handle.run, attempt=attempt, parent=parent, child=child)
        self.hook.darwin_attempt_finished(run=self.handle.run, attempt=attempt, child=child)

    def record_skipped(self, attempt: Attempt, generated: Generated | None = None,
                       change: Change = NO_CHANGE) -> None:
        """An attempt a gate skipped; one skipped after the generate step keeps its change (its diff in
        a blob) on the attempt, and is never evaluated."""
        with self.store.batch():
            if generated is not None and generated.proposal is not None:
                self._proposed(attempt, generated)
                attempt.metadata["proposal"] = {
                    "improvement_type": generated.proposal.improvement_type,
                    "description": generated.proposal.description[:2000],
                    "patch_ref": self.store.put_blob(change.diff(), shared=False),
                    "snapshot": change.snapshot,
                    "cost_usd": sum(u.cost_usd for u in generated.usage),
                    "proposal_s": generated.proposal_s,
                }
            attempt.status, attempt.finished_at = "skipped", time.time()
            self.store.save_attempt(attempt)
            self.store.after_commit(lambda: self.hook.darwin_attempt_finished(
                run=self.handle.run, attempt=attempt, child=None))
