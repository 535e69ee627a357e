"""Choosing among plausible patches: ``[run] plausible_extra`` attempts after ``stop_at_score``.

Once the best reaches ``stop_at_score`` the run goes on for ``plausible_extra`` more attempts,
planned with the root as their parent (its other edits), then stops; the archive breaks score
ties by the behaviour fingerprints (:mod:`darwin_core.archive`). Both counts are functions of
the records, so a resumed run neither redoes nor skips an extra attempt: the *reaching*
variant is the first accepted variant (id order) evaluated on every stage whose score reaches
the target, and the extra attempts are the counted attempts (retries excluded) planned after
its attempt (attempt ids order by generation, then index).
"""

from __future__ import annotations

from .run import RunHandle


def reaching_attempt(handle: RunHandle) -> str | None:
    """The attempt id of the first variant reaching ``stop_at_score`` (``""`` for the root or a
    seed), or ``None`` while none does."""
    target, archive = handle.config.run.stop_at_score, handle.archive
    if target is None or archive.best is None or not archive.objective.reached(archive.best.score, target):
        return None
    first: str | None = None
    for _, variant_id in archive.ranked_accepted():
        summary = archive.summary(variant_id)
        if not archive.objective.reached(summary.score, target):
            break
        if summary.stage_reached >= archive.last_stage and (first is None or variant_id < first):
            first = variant_id
    return (archive.summary(first).attempt_id or "") if first is not None else None


def extra_attempts(handle: RunHandle, after: str) -> int:
    """Counted attempts planned after attempt ``after`` (all of them for ``""``)."""
    return sum(1 for a in handle.attempts.summaries() if a.retry_of is None and a.id > after)


def remaining(handle: RunHandle) -> int | None:
    """Extra attempts still to plan, or ``None`` outside the phase (off, or not reached yet)."""
    extra = handle.config.run.plausible_extra
    if not extra:
        return None
    after = reaching_attempt(handle)
    if after is None:
        return None
    return max(extra - extra_attempts(handle, after), 0)
