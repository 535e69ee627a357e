"""The replay buffer: every attempt's features and outcome, durable in the run's storage.

One record per attempt in the ``state_replay`` collection (collections prefixed ``state_`` are
plugin state that warm starts carry along). Keys are ``<run_id>.<attempt_id>`` so records
carried from an earlier run never collide with the new run's. A record holds the features the
gate computed before the attempt was paid for, the gate's decision, and, once known, the
outcome: whether the child was accepted, its score change, why it did not improve (the failure
kind) and what it cost. Queries by task, parent and failure kind run over every record: the
in-memory copy while it holds them all, else the storage's.

The engine keeps the newest ``[run] replay_in_memory`` records in memory (default 1 000; the
gate needs none of the older ones: its running tallies, :class:`~darwin_core.features.History`,
are built from them once at start-up and then updated, and an evicted record written again is
found by the storage's create-only write), so memory per attempt stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from darwin_hookspecs import Attempt, ConflictError, NotFoundError, Objective, Variant

from .store import RunStore

COLLECTION = "state_replay"

FAILURE_KINDS = ("error", "invalid", "rejected", "stage_threshold", "regression", "no_gain", "skipped")
"""Why an attempt did not improve on its parent (``None`` when it did)."""


@dataclass
class ReplayRecord:
    """One attempt, as the learners see it.

    :param features: Computed before the attempt was paid for (name -> number or label).
    :param decision: The gate's decision (``p_accept``, ``expected_delta``, ``decision``...).
    :param outcome: ``None`` until the attempt is recorded; see :func:`outcome_of`.
    """

    key: str
    run_id: str
    attempt_id: str
    generation: int
    parent_id: str
    task_id: str | None
    target_kind: str
    features: dict[str, Any] = field(default_factory=dict)
    decision: dict[str, Any] = field(default_factory=dict)
    outcome: dict[str, Any] | None = None
    created_at: float = 0.0

    @property
    def accepted(self) -> bool:
        return bool(self.outcome and self.outcome.get("accepted"))

    @property
    def failure_kind(self) -> str | None:
        return self.outcome.get("failure_kind") if self.outcome else None

    @property
    def trainable(self) -> bool:
        """An attempt that ran and whose outcome is known (skipped ones teach nothing)."""
        return self.outcome is not None and not self.outcome.get("skipped", False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "run_id": self.run_id, "attempt_id": self.attempt_id,
            "generation": self.generation, "parent_id": self.parent_id, "task_id": self.task_id,
            "target_kind": self.target_kind, "features": dict(self.features),
            "decision": dict(self.decision), "outcome": self.outcome, "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ReplayRecord":
        return cls(
            key=str(data["key"]), run_id=str(data.get("run_id", "")),
            attempt_id=str(data["attempt_id"]), generation=int(data.get("generation", 0)),
            parent_id=str(data.get("parent_id", "")), task_id=data.get("task_id"),
            target_kind=str(data.get("target_kind", "")), features=dict(data.get("features") or {}),
            decision=dict(data.get("decision") or {}), outcome=data.get("outcome"),
            created_at=float(data.get("created_at", 0.0)),
        )


def record_key(run_id: str, attempt_id: str) -> str:
    return f"{run_id}.{attempt_id}"


def proposal_seconds(timings: dict[str, float]) -> float:
    """How long the generator took (``proposal_s``; older records call it ``generation_s``)."""
    return float(timings.get("proposal_s", timings.get("generation_s", 0.0)))


def outcome_of(parent: Variant, child: Variant, last_stage: int, objective: Objective | None = None) -> dict[str, Any]:
    """The learnable outcome of a recorded child; ``score_delta`` is its improvement on its
    parent in the objective's direction (positive: better, also when minimising)."""
    delta = (objective or Objective()).utility(child.score - parent.score)
    if child.status == "error":
        kind: str | None = "error"
    elif child.status == "invalid":
        kind = "invalid"
    elif child.status == "rejected":
        kind = "rejected"
    elif child.stage_reached < last_stage:
        kind = "stage_threshold"
    elif delta < 0:
        kind = "regression"
    elif delta == 0:
        kind = "no_gain"
    else:
        kind = None
    target = child.target.task_id if child.target else None
    target_result = child.task_results.get(target) if target else None
    return {
        "status": child.status,
        "accepted": child.status == "accepted",
        "skipped": False,
        "child_id": child.id,
        "score_delta": delta,
        "failure_kind": kind,
        "target_fixed": bool(target_result and target_result.passed),
        "target_failure": target_result.failure_kind if target_result and not target_result.passed else None,
        "cost": {
            "usd": child.cost_usd,
            "proposal_s": proposal_seconds(child.timings),
            "evaluation_s": float(child.timings.get("evaluation_s", 0.0)),
            "tasks_evaluated": len(child.task_results),
        },
    }


SKIPPED_OUTCOME: dict[str, Any] = {
    "status": "skipped", "accepted": False, "skipped": True, "child_id": None,
    "score_delta": 0.0, "failure_kind": "skipped", "target_fixed": False, "target_failure": None,
    "cost": {"usd": 0.0, "proposal_s": 0.0, "evaluation_s": 0.0, "tasks_evaluated": 0},
}


class ReplayBuffer:
    """The run's replay records: loaded once, appended durably, queried in memory.

    :param keep: Records held in memory after :meth:`trim` and each :meth:`add`, the newest
        (``None``: all). Older ones stay in the storage, read back by the queries.

    Not thread-safe: the orchestrator is its only writer.
    """

    def __init__(self, store: RunStore | None, keep: int | None = None) -> None:
        self.store = store
        self.keep = keep if store is not None else None  # nothing to read evicted records back from
        self._records: dict[str, ReplayRecord] = {}  # oldest first
        self._evicted = 0
        if store is not None:
            for record in self._stored():
                self._records[record.key] = record
        self._count = len(self._records)

    def _stored(self) -> list[ReplayRecord]:
        assert self.store is not None
        store = self.store
        records = [store._decode(COLLECTION, key, value, ReplayRecord.from_dict)
                   for key, value in store.scan(COLLECTION, remember=False)]
        return sorted(records, key=lambda r: (r.created_at, r.key))

    def __len__(self) -> int:
        return self._count

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[ReplayRecord]:
        return iter(self.records())

    def get(self, key: str) -> ReplayRecord | None:
        record = self._records.get(key)
        if record is None and self._evicted and self.store is not None:
            try:
                value, _ = self.store.get(COLLECTION, key)
            except NotFoundError:
                return None
            record = self.store._decode(COLLECTION, key, value, ReplayRecord.from_dict)
        return record

    @property
    def in_memory(self) -> int:
        """Records held in memory now."""
        return len(self._records)

    def records(self) -> list[ReplayRecord]:
        """Every record, oldest first (read from the storage once some were evicted)."""
        if self._evicted:
            return self._stored()
        return sorted(self._records.values(), key=lambda r: (r.created_at, r.key))

    def trim(self) -> None:
        """Drop the oldest records from memory down to :attr:`keep`."""
        if self.keep is None:
            return
        records = self._records
        while len(records) > self.keep:
            del records[next(iter(records))]
            self._evicted += 1

    def add(self, record: ReplayRecord) -> ReplayRecord:
        """Write ``record`` (once: a record already stored under its key wins and is returned)."""
        existing = self._records.get(record.key)
        if existing is not None and existing.outcome is not None:
            return existing
        new = existing is None
        if self.store is not None:
            try:
                self.store.put(COLLECTION, record.key, record.to_dict(), create=new, remember=False)
            except ConflictError:  # written by a pass that crashed before we loaded it, or evicted
                value, _ = self.store.get(COLLECTION, record.key)
                record = ReplayRecord.from_dict(value)
                new = not self._evicted  # evicted: counted when first added
        self._count += int(new)
        self._records[record.key] = record
        self.trim()
        return record

    # ------------------------------------------------------------------ queries

    def query(
        self,
        *,
        task: str | None = None,
        parent: str | None = None,
        failure_kind: str | None = None,
        run_id: str | None = None,
        finished: bool | None = None,
    ) -> list[ReplayRecord]:
        """Records matching every given criterion (``failure_kind="none"`` selects improvements)."""
        result = []
        for record in self.records():
            if task is not None and record.task_id != task:
                continue
            if parent is not None and record.parent_id != parent:
                continue
            if run_id is not None and record.run_id != run_id:
                continue
            if finished is not None and (record.outcome is not None) != finished:
                continue
            if failure_kind is not None:
                if record.outcome is None:
                    continue
                kind = record.failure_kind or "none"
                if kind != failure_kind:
                    continue
            result.append(record)
        return result

    def by_task(self, task_id: str) -> list[ReplayRecord]:
        return self.query(task=task_id)

    def by_parent(self, parent_id: str) -> list[ReplayRecord]:
        return self.query(parent=parent_id)

    def by_failure_kind(self, kind: str) -> list[ReplayRecord]:
        return self.query(failure_kind=kind)

    def trainable(self) -> list[ReplayRecord]:
        return [r for r in self.records() if r.trainable]


def new_record(
    run_id: str, attempt: Attempt, features: dict[str, Any], decision: dict[str, Any],
    created_at: float,
) -> ReplayRecord:
    target = attempt.target
    return ReplayRecord(
        key=record_key(run_id, attempt.id), run_id=run_id, attempt_id=attempt.id,
        generation=attempt.generation, parent_id=attempt.parent_id,
        task_id=target.task_id if target else None, target_kind=target.kind if target else "",
        features=features, decision=decision, created_at=created_at,
    )
