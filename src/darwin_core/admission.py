"""The admit and review steps: the run's gate (:mod:`darwin_core.gating`) decides, before
the generate step, whether an attempt runs, and after it whether its change is evaluated.

Both record the gate's decision on the attempt (``metadata["gate"]``); the caller records a
refused attempt as ``skipped`` (:meth:`darwin_core.record.Recorder.record_skipped`). The default
review admits everything without looking at the change.
"""

from __future__ import annotations

from darwin_hookspecs import Attempt, Proposal

from .archive import Archive
from .gating import Gate
from .patch_features import Patch
from .record import Change, variant_id_for
from .snapshots import TreeIndex


def admit(gate: Gate, attempt: Attempt, archive: Archive) -> bool:
    """Before the generate step: whether the attempt is worth paying for."""
    run_it, decision = gate.decide(attempt, archive.get(attempt.parent_id), archive)
    if decision:
        attempt.metadata["gate"] = decision
    return run_it


def review(gate: Gate, attempt: Attempt, archive: Archive, proposal: Proposal, change: Change,
           trees: TreeIndex) -> bool:
    """After the generate step: whether the change is worth evaluating (a gate that does not review
    changes admits every one)."""
    if not gate.reviews:
        return True
    patch = Patch(proposal=proposal, old=change.old, new=change.new,
                  duplicate_of=trees.find(change.manifest))
    run_it, decision = gate.review(attempt, archive.get(attempt.parent_id), archive, patch)
    attempt.metadata["gate"] = decision
    if run_it:
        trees.reserve(change.manifest, variant_id_for(attempt.id))
    return run_it
