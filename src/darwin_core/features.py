"""Features of a planned attempt, computed in the orchestrator before it is paid for.

Numbers describe the parent (score, depth, children), its clade (the parent and all its
descendants: pooled task pass rate, how often its members' children improved), the targeted
task's history and the run's so far; labels name the generator, model and target. Predictors
receive them as ``{name: float | str}`` dicts (see :class:`~darwin_hookspecs.Predictor`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable

from darwin_hookspecs import Attempt, Variant

from .archive import Archive
from .replay import ReplayRecord


@dataclass
class _Tally:
    n: int = 0
    accepted: int = 0
    improved: int = 0
    fixed: int = 0
    delta_sum: float = 0.0

    def add(self, outcome: dict[str, Any]) -> None:
        self.n += 1
        self.accepted += bool(outcome.get("accepted"))
        self.improved += outcome.get("failure_kind") is None
        self.fixed += bool(outcome.get("target_fixed"))
        self.delta_sum += float(outcome.get("score_delta", 0.0))

    def rates(self, prefix: str) -> dict[str, float]:
        """Laplace-smoothed rates, so an unseen key reads as an uninformed prior."""
        return {
            f"{prefix}_attempts": float(self.n),
            f"{prefix}_accept_rate": (self.accepted + 1) / (self.n + 2),
            f"{prefix}_improve_rate": (self.improved + 1) / (self.n + 2),
            f"{prefix}_fix_rate": (self.fixed + 1) / (self.n + 2),
            f"{prefix}_mean_delta": self.delta_sum / (self.n + 1),
        }


class History:
    """Running tallies of finished attempts by targeted task, by parent, by edit signature (the
    after-generation gate's ``patch_signature``) and for the run."""

    def __init__(self, records: Iterable[ReplayRecord] = ()) -> None:
        self.by_task: dict[str, _Tally] = defaultdict(_Tally)
        self.by_parent: dict[str, _Tally] = defaultdict(_Tally)
        self.by_signature: dict[str, _Tally] = defaultdict(_Tally)
        self.run = _Tally()
        for record in records:
            self.add(record)

    def add(self, record: ReplayRecord) -> None:
        if not record.trainable:
            return
        assert record.outcome is not None
        self.by_task[record.task_id or "-"].add(record.outcome)
        self.by_parent[record.parent_id].add(record.outcome)
        signature = record.features.get("patch_signature")
        if signature:
            self.by_signature[str(signature)].add(record.outcome)
        self.run.add(record.outcome)

    def signature_rates(self, signature: str) -> dict[str, float]:
        """How the same edit fared earlier (``patch_seen_*``; an unseen edit reads as the prior)."""
        tally = self.by_signature.get(signature) or _Tally()
        return tally.rates("patch_seen")


def clade(archive: Archive, variant_id: str) -> list[Variant]:
    """The variant and all its descendants."""
    members, stack = [], [variant_id]
    while stack:
        current = stack.pop()
        members.append(archive.get(current))
        stack.extend(c.id for c in archive.children(current))
    return members


def clade_stats(archive: Archive, variant_id: str) -> dict[str, float]:
    members = clade(archive, variant_id)
    passed = sum(r.passed for m in members for r in m.task_results.values())
    evaluated = sum(len(m.task_results) for m in members)
    edges = improved = 0
    for m in members:
        for child in archive.children(m.id):
            edges += 1
            improved += child.score > m.score
    return {
        "clade_size": float(len(members)),
        "clade_evaluations": float(evaluated),
        "clade_pass_rate": (passed + 1) / (evaluated + 2),
        "clade_improve_rate": (improved + 1) / (edges + 2),
    }


def attempt_features(
    attempt: Attempt,
    parent: Variant,
    archive: Archive,
    history: History,
    *,
    generator: str,
    model: str = "",
) -> dict[str, Any]:
    """The features of ``attempt`` (a child of ``parent``) as the archive stands now."""
    children = archive.children(parent.id)
    best = archive.best
    target = attempt.target
    task_id = target.task_id if target else None
    target_result = parent.task_results.get(task_id) if task_id else None
    features: dict[str, Any] = {
        "parent_score": parent.score,
        "parent_depth": float(archive.depth(parent.id)),
        "parent_children": float(len(children)),
        "parent_children_accepted": float(sum(c.status == "accepted" for c in children)),
        "parent_children_improved": float(sum(c.score > parent.score for c in children)),
        "parent_complete": float(parent.stage_reached >= archive.last_stage),
        "parent_failing": float(len(parent.failing_tasks)),
        "parent_evaluated": float(len(parent.task_results)),
        "best_gap": (best.score - parent.score) if best else 0.0,
        "generation": float(attempt.generation),
        "target_explore": float(target is not None and target.kind == "explore"),
        **clade_stats(archive, parent.id),
        **history.by_task[task_id or "-"].rates("task"),
        **history.by_parent[parent.id].rates("parent_hist"),
        **history.run.rates("run"),
        # labels
        "generator": generator,
        "model": model,
        "target_kind": target.kind if target else "",
        "target_task": task_id or "",
        "target_failure": (target_result.failure_kind or "") if target_result else "",
    }
    return features
