"""The archive's tie-break with ``behaviour_ties`` (``[run] plausible_extra``): agreement with
the root's fingerprint, then fewer generations from the root, then the earlier; the same order
whether the variants arrive one by one or in bulk (a resumed run), and none of it without ties on."""

from __future__ import annotations

from darwin_core.archive import Archive
from darwin_core.summary import VariantSummary

ROOT = VariantSummary(id="v0000a000", parent_id=None, generation=0, status="accepted", score=0.5,
                      stage_reached=0, behaviour={"t": "aa bb cc"})
STEP = VariantSummary(id="v0001a000", parent_id=ROOT.id, generation=1, status="accepted", score=0.75,
                      stage_reached=0, behaviour={"t": "aa bb dd"})
DEEP = VariantSummary(id="v0002a000", parent_id=STEP.id, generation=2, status="accepted", score=1.0,
                      stage_reached=0, behaviour={"t": "aa ee dd"})  # two edits, found first
NEAR = VariantSummary(id="v0003a000", parent_id=ROOT.id, generation=3, status="accepted", score=1.0,
                      stage_reached=0, behaviour={"t": "aa ee ff"})  # one edit, same agreement (1)
CLOSE = VariantSummary(id="v0004a000", parent_id=STEP.id, generation=4, status="accepted", score=1.0,
                       stage_reached=0, behaviour={"t": "aa bb ff"})  # two edits, agrees on 2


def _best(ties: bool, summaries: list[VariantSummary], bulk: bool) -> str | None:
    archive = Archive(behaviour_ties=ties)
    if bulk:
        archive.add_summaries(summaries)
    else:
        for s in summaries:
            archive.add_summary(s)
    return archive.best_id


def test_fewer_generations_break_an_agreement_tie_and_agreement_comes_first() -> None:
    for bulk in (False, True):
        assert _best(True, [ROOT, STEP, DEEP, NEAR], bulk) == NEAR.id  # equal agreement: the nearer
        assert _best(False, [ROOT, STEP, DEEP, NEAR], bulk) == DEEP.id  # off: the earlier, as before
        assert _best(True, [ROOT, STEP, DEEP, NEAR, CLOSE], bulk) == CLOSE.id  # agreement outranks depth
    archive = Archive(behaviour_ties=True)
    archive.add_summaries([ROOT, STEP, DEEP, NEAR])
    assert [archive.depth(s.id) for s in (ROOT, STEP, DEEP, NEAR)] == [0, 1, 2, 1]  # what the tie-break counts
