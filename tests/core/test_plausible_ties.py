"""The archive's tie-break with ``behaviour_ties`` (``[run] plausible_extra``): fewer edits from
the root (a pair of edits counts two), then agreement with the root's fingerprint, then fewer
generations, then the earlier; the same order whether the variants arrive one by one or in bulk (a
resumed run), and none of it without ties on."""

from __future__ import annotations

from darwin_hookspecs import TaskResult, Variant

from darwin_core.archive import Archive
from darwin_core.summary import PATHS, VariantSummary, edits_of, tally

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
PAIR = VariantSummary(id="v0005a000", parent_id=ROOT.id, generation=5, status="accepted", score=1.0,
                      stage_reached=0, behaviour={"t": "aa bb ff"}, edits=2)  # one attempt, two edits, agrees on 2


def _best(ties: bool, summaries: list[VariantSummary], bulk: bool) -> str | None:
    archive = Archive(behaviour_ties=ties)
    if bulk:
        archive.add_summaries(summaries)
    else:
        for s in summaries:
            archive.add_summary(s)
    return archive.best_id


def test_fewer_edits_come_first_then_agreement() -> None:
    for bulk in (False, True):
        assert _best(True, [ROOT, STEP, DEEP, NEAR], bulk) == NEAR.id  # equal agreement: the nearer
        assert _best(False, [ROOT, STEP, DEEP, NEAR], bulk) == DEEP.id  # off: the earlier, as before
        assert _best(True, [ROOT, STEP, DEEP, NEAR, CLOSE], bulk) == NEAR.id  # one edit beats two agreeing more
        assert _best(True, [ROOT, STEP, DEEP, CLOSE], bulk) == CLOSE.id  # equal edits: agreement decides
        assert _best(True, [ROOT, NEAR, PAIR], bulk) == NEAR.id  # a pair is two edits, though one generation
        assert _best(True, [ROOT, PAIR, NEAR], bulk) == NEAR.id  # whatever the order found
    archive = Archive(behaviour_ties=True)
    archive.add_summaries([ROOT, STEP, DEEP, NEAR, PAIR])
    assert [archive.depth(s.id) for s in (ROOT, STEP, DEEP, NEAR, PAIR)] == [0, 1, 2, 1, 1]
    assert [archive.edits(s.id) for s in (ROOT, STEP, DEEP, NEAR, PAIR)] == [0, 1, 2, 1, 2]  # what the tie-break counts


def test_a_variant_record_carries_its_edit_count_to_the_summary() -> None:
    def variant(edits: object) -> Variant:
        return Variant(id="v0001a000", parent_id="v0000root", generation=1, status="accepted", score=1.0,
                       task_results={"t": TaskResult(task_id="t", passed=True, score=1.0)},
                       metadata={"edits": edits})
    assert [edits_of(variant(e)) for e in (["a", "b"], ["a"], [], None, "ab")] == [2, 1, 1, 1, 1]
    pair = variant(["a", "b"])
    record = {"parent_id": pair.parent_id, "generation": 1, "status": "accepted", "score": 1.0, "summary": tally(pair)}
    values = [record.get(p) for p in PATHS]  # what a resumed run's projection reads
    assert VariantSummary.from_values(pair.id, values).edits == VariantSummary.of(pair).edits == 2
    single = variant(["a"])
    assert "edits" not in tally(single) and VariantSummary.of(single).edits == 1  # records unchanged for singles
