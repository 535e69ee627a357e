"""What a run's index needs of a variant, read without decoding the whole record.

Opening a run reads a :class:`VariantSummary` of every variant through a projected scan
(:func:`darwin_hookspecs.projection.project`: on ``file://`` SQLite picks the fields out of the
JSON text); full :class:`~darwin_hookspecs.Variant` records are decoded only when asked for
(:meth:`darwin_core.archive.Archive.get`). ``darwin status``, ``darwin archive``, the best and
root, the tree (parents, children), exhaustion and selection all work on summaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from darwin_hookspecs import Variant

PATHS: tuple[str, ...] = (
    "parent_id", "generation", "status", "score", "stage_reached", "cost_usd", "created_at",
    "attempt_id", "improvement_type", "description", "reason", "patch_ref", "target.task_id",
    "metadata.exhausted", "metadata.neighbourhood", "metrics", "repeats", "summary",
)
"""The projection a summary is built from, in :meth:`VariantSummary.from_values` order; none
has a ``*``, so ``file://`` answers it from an index (see :meth:`RunStore.prepare_indexes`);
``summary`` (the carried counts) comes last."""

TALLY_PATHS: tuple[str, ...] = (
    "task_results.*.passed", "task_results.*.failure_kind", "usage.*.input_tokens",
    "usage.*.output_tokens",
)
"""What :func:`tally` counts, read from records written before they carried it."""


def tally(variant: Variant) -> dict[str, Any]:
    """The counts a variant record carries beside its fields (key ``summary``), so that a
    summary never needs the task results or usage: written by ``RunStore.save_variant``."""
    failures: dict[str, int] = {}
    for result in variant.task_results.values():
        if result.failure_kind:
            failures[result.failure_kind] = failures.get(result.failure_kind, 0) + 1
    counts: dict[str, Any] = {
        "passed": sum(bool(r.passed) for r in variant.task_results.values()),
        "evaluated": len(variant.task_results), "failures": failures,
        "input_tokens": sum(u.input_tokens for u in variant.usage),
        "output_tokens": sum(u.output_tokens for u in variant.usage)}
    behaviour = behaviour_of(variant)
    if behaviour:
        counts["behaviour"] = behaviour
    edits = edits_of(variant)
    if edits != 1:
        counts["edits"] = edits
    return counts


def edits_of(variant: Variant) -> int:
    """The changes its attempt made to its parent: the length of ``metadata["edits"]`` when the
    generator reports a non-empty list there (the mutation generator: one key per edit, two for a
    pair), else 1 (the root: 0)."""
    if variant.parent_id is None:
        return 0
    edits = (variant.metadata or {}).get("edits")
    return len(edits) if isinstance(edits, list) and edits else 1


def behaviour_of(variant: Variant) -> dict[str, str]:
    """``{task id: fingerprint}``: each task's ``details["probes"]`` (a benchmark's hashes of its
    outputs on probe inputs, e.g. the custom benchmark's ``probes = true``), when reported."""
    return {task_id: str(r.details["probes"]) for task_id, r in sorted(variant.task_results.items())
            if isinstance(r.details.get("probes"), str)}


def agreement(one: dict[str, str], other: dict[str, str]) -> int:
    """How many probes give the same hash in two fingerprints (tasks both have, in order)."""
    return sum(a == b for task_id, hashes in one.items() if task_id in other
               for a, b in zip(hashes.split(), other[task_id].split()))


def tally_of(values: list[Any]) -> dict[str, Any]:
    """:func:`tally` from the values of :data:`TALLY_PATHS`."""
    passed, kinds, tokens_in, tokens_out = values
    failures: dict[str, int] = {}
    for kind in kinds:
        if kind:
            failures[kind] = failures.get(kind, 0) + 1
    return {"passed": sum(bool(p) for p in passed), "evaluated": len(passed), "failures": failures,
            "input_tokens": sum(t or 0 for t in tokens_in), "output_tokens": sum(t or 0 for t in tokens_out)}


@dataclass(slots=True)
class VariantSummary:
    """The fields of a variant that indexes, status and listings read (immutable, like it)."""

    id: str
    parent_id: str | None
    generation: int
    status: str
    score: float = 0.0
    stage_reached: int = -1
    cost_usd: float = 0.0
    created_at: float = 0.0
    attempt_id: str | None = None
    improvement_type: str = ""
    description: str = ""
    reason: str = ""
    patch_ref: str | None = None
    target_task: str | None = None
    passed: int = 0
    evaluated: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    """``failure_kind -> count`` over the task results (``fail`` included)."""
    input_tokens: int = 0
    output_tokens: int = 0
    exhausted: bool = False
    """``metadata["exhausted"]``: the generator ran out of its parent's neighbourhood."""
    neighbourhood: int | None = None
    """``metadata["neighbourhood"]``: the size of its parent's neighbourhood, when known."""
    metrics: dict[str, float] = field(default_factory=dict)
    """The variant's aggregate metrics (:attr:`Variant.metrics <darwin_hookspecs.Variant>`)."""
    repeats: dict[str, Any] = field(default_factory=dict)
    """Its repeated evaluations (``values``, ``seeds``, ``mean``, ``stderr``), if any."""
    behaviour: dict[str, str] = field(default_factory=dict)
    """Its behaviour fingerprint per task (:func:`behaviour_of`); empty when none was reported."""
    edits: int = 1
    """The changes its attempt made to its parent (:func:`edits_of`; 1 unless reported)."""

    @classmethod
    def from_values(cls, key: str, values: list[Any], counts: dict[str, Any] | None = None) -> "VariantSummary":
        """A summary from a projected record (``values`` in :data:`PATHS` order; ``counts``:
        the :func:`tally` of a record that does not carry it)."""
        (parent_id, generation, status, score, stage, cost, created, attempt_id, kind, description,
         reason, patch_ref, target_task, exhausted, neighbourhood, metrics, repeats, carried) = values
        if not isinstance(generation, int) or not isinstance(status, str):
            raise ValueError("generation or status missing")
        counts = counts or carried
        if not isinstance(counts, dict):
            raise ValueError("no summary counts")
        return cls(  # positional, in field order (10 000 of them open a large run); the values are fresh
            key, parent_id, generation, status, 0.0 if score is None else score, -1 if stage is None else stage,
            0.0 if cost is None else cost, 0.0 if created is None else created, attempt_id, kind or "",
            description or "", reason or "", patch_ref, target_task, counts["passed"], counts["evaluated"],
            counts["failures"], counts["input_tokens"],
            counts["output_tokens"], bool(exhausted), _size(neighbourhood),
            metrics if isinstance(metrics, dict) else {}, repeats if isinstance(repeats, dict) else {},
            counts.get("behaviour") or {}, _edits(counts, parent_id),
        )

    @classmethod
    def of(cls, variant: Variant) -> "VariantSummary":
        """The summary of a decoded variant (the same values a projection gives)."""
        meta = variant.metadata or {}
        counts = tally(variant)
        return cls(
            id=variant.id, parent_id=variant.parent_id, generation=variant.generation,
            status=variant.status, score=variant.score, stage_reached=variant.stage_reached,
            cost_usd=variant.cost_usd, created_at=variant.created_at, attempt_id=variant.attempt_id,
            improvement_type=variant.improvement_type, description=variant.description,
            reason=variant.reason, patch_ref=variant.patch_ref,
            target_task=variant.target.task_id if variant.target else None,
            passed=counts["passed"], evaluated=counts["evaluated"], failures=counts["failures"],
            input_tokens=counts["input_tokens"], output_tokens=counts["output_tokens"],
            exhausted=bool(meta.get("exhausted")), neighbourhood=_size(meta.get("neighbourhood")),
            metrics=dict(variant.metrics), repeats=dict(variant.repeats),
            behaviour=counts.get("behaviour") or {}, edits=_edits(counts, variant.parent_id),
        )


def _edits(counts: dict[str, Any], parent_id: str | None) -> int:
    edits = counts.get("edits")
    return edits if isinstance(edits, int) and not isinstance(edits, bool) else int(parent_id is not None)


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


ATTEMPT_PATHS: tuple[str, ...] = ("generation", "index", "status", "started_at", "finished_at", "parent_id",
                                  "retry_of", "child_id")


ENDED = frozenset({"finished", "interrupted", "skipped", "abandoned"})
"""The statuses of an attempt that has ended (its record is not written again)."""


@dataclass(slots=True)
class AttemptSummary:
    """What ``darwin status`` (:func:`~darwin_core.metrics.compute_metrics`) and a resume's
    planning (:mod:`darwin_core.attempt_index`) read of an attempt."""

    id: str
    generation: int
    index: int
    status: str
    started_at: float = 0.0
    finished_at: float = 0.0
    parent_id: str = ""
    retry_of: str | None = None
    child_id: str | None = None

    @classmethod
    def from_values(cls, key: str, values: list[Any]) -> "AttemptSummary":
        generation, index, status, started, finished, parent_id, retry_of, child_id = values
        if not isinstance(generation, int) or not isinstance(index, int) or not isinstance(status, str):
            raise ValueError("generation, index or status missing")
        return cls(key, generation, index, status, 0.0 if started is None else started,  # positional
                   0.0 if finished is None else finished, parent_id or "", retry_of, child_id)

    @classmethod
    def of(cls, attempt: Any) -> "AttemptSummary":
        """The summary of a decoded :class:`~darwin_hookspecs.Attempt` (what a projection gives)."""
        return cls(id=attempt.id, generation=attempt.generation, index=attempt.index, status=attempt.status,
                   started_at=attempt.started_at or 0.0, finished_at=attempt.finished_at or 0.0,
                   parent_id=attempt.parent_id or "", retry_of=attempt.retry_of, child_id=attempt.child_id)
