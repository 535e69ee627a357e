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
    after-generation gate's ``patch_signature``) and for the run, and the clade index of the
    run's archive."""

    def __init__(self, records: Iterable[ReplayRecord] = ()) -> None:
        self.by_task: dict[str, _Tally] = defaultdict(_Tally)
        self.by_parent: dict[str, _Tally] = defaultdict(_Tally)
        self.by_signature: dict[str, _Tally] = defaultdict(_Tally)
        self.run = _Tally()
        self.clades = CladeIndex()
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
    """The clade's features by walking it (the reference for :class:`CladeIndex`)."""
    members = clade(archive, variant_id)
    passed = sum(r.passed for m in members for r in m.task_results.values())
    evaluated = sum(len(m.task_results) for m in members)
    edges = improved = 0
    for m in members:
        for child in archive.children(m.id):
            edges += 1
            improved += archive.objective.better(child.score, m.score)
    return _clade_features(len(members), evaluated, passed, edges, improved)


def _clade_features(size: int, evaluated: int, passed: int, edges: int, improved: int) -> dict[str, float]:
    """Laplace-smoothed, like :meth:`_Tally.rates`."""
    return {
        "clade_size": float(size),
        "clade_evaluations": float(evaluated),
        "clade_pass_rate": (passed + 1) / (evaluated + 2),
        "clade_improve_rate": (improved + 1) / (edges + 2),
    }


class CladeIndex:
    """Running clade sums for every variant of one archive, kept up to date incrementally.

    Per variant: clade size, evaluated tasks, passed tasks and improved edges (a member's child
    scoring strictly above it). Edges inside a clade are ``size - 1``: every member but the clade's
    own top has its parent inside. :meth:`stats` equals :func:`clade_stats` but costs O(1) once
    synced; syncing costs O(depth) per new variant (its sums are added to each ancestor's).

    Syncing is lazy: the index picks up whatever the archive gained since the last query (the gate,
    warm-start seeds, a resume loading every variant at once), in any order. A variant indexed
    before its parent is a provisional top; when the parent arrives it absorbs the child's sums,
    then passes the total up. The archive never replaces or removes a variant (``Archive.add``
    keeps the first one recorded under an id) and nothing edits a recorded variant's score or
    task results, so sums once added stay right.
    """

    def __init__(self) -> None:
        self._archive: Archive | None = None
        self._sums: dict[str, list[int]] = {}  # id -> [size, evaluated, passed, improved edges]

    def stats(self, archive: Archive, variant_id: str) -> dict[str, float]:
        """The clade features of ``variant_id`` (keys and values as :func:`clade_stats`)."""
        self.sync(archive)
        size, evaluated, passed, improved = self._sums[variant_id]
        return _clade_features(size, evaluated, passed, size - 1, improved)

    def sync(self, archive: Archive) -> None:
        """Index the variants ``archive`` gained since the last call (all of them for a new one)."""
        if archive is not self._archive:
            self._archive, self._sums = archive, {}
        new = len(archive) - len(self._sums)
        if new <= 0:
            return
        for variant in archive.added_since(len(self._sums)):
            self._add(archive, variant)

    def _add(self, archive: Archive, variant: Variant) -> None:
        results = variant.task_results.values()
        sums = [1, len(results), sum(r.passed for r in results), 0]
        for child in archive.children(variant.id):  # children indexed before their parent
            below = self._sums.get(child.id)
            if below is not None:
                sums = [a + b for a, b in zip(sums, below)]
                sums[3] += archive.objective.better(child.score, variant.score)
        self._sums[variant.id] = sums
        size, evaluated, passed, improved = sums
        parent_id = variant.parent_id
        if parent_id in self._sums:  # the new edge parent -> variant
            improved += archive.objective.better(variant.score, archive.summary(parent_id).score)
        while parent_id in self._sums:  # up to the top, or to an ancestor not indexed yet
            above = self._sums[parent_id]
            above[0] += size
            above[1] += evaluated
            above[2] += passed
            above[3] += improved
            parent_id = archive.summary(parent_id).parent_id  # a summary: nothing decoded


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
    children = [archive.summary(c) for c in archive.child_ids(parent.id)]  # nothing decoded
    best = archive.summary(archive.best_id) if archive.best_id else None  # its score: nothing decoded
    target = attempt.target
    task_id = target.task_id if target else None
    target_result = parent.task_results.get(task_id) if task_id else None
    features: dict[str, Any] = {
        "parent_score": archive.objective.utility(parent.score),  # higher is better
        "parent_depth": float(archive.depth(parent.id)),
        "parent_children": float(len(children)),
        "parent_children_accepted": float(sum(c.status == "accepted" for c in children)),
        "parent_children_improved": float(sum(archive.objective.better(c.score, parent.score) for c in children)),
        "parent_complete": float(parent.stage_reached >= archive.last_stage),
        "parent_failing": float(len(parent.failing_tasks)),
        "parent_evaluated": float(len(parent.task_results)),
        "best_gap": archive.objective.utility(best.score - parent.score) if best else 0.0,
        "generation": float(attempt.generation),
        "target_explore": float(target is not None and target.kind == "explore"),
        **history.clades.stats(archive, parent.id),
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
