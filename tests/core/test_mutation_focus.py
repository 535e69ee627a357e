"""Focused pairs (``pairs_focus``, ``pairs_early``): two-edit children among the edits at a
parent's most suspicious lines, without repeats and deterministic on a resume."""

from __future__ import annotations

from pathlib import Path

from darwin_hookspecs import GenerationContext, Target, TaskResult, Variant
from darwin_plugins.mutation.focus import top_lines
from darwin_plugins.mutation.generator import MutationGenerator, MutationOptions
from mutation_support import MIN_MAX

FIXED = ("if v < lo:", "if v > hi:")


def _parent(with_coverage: bool = True) -> Variant:
    """Lines 4 and 6 (the two swapped comparisons) run only in the failing task."""
    results = {
        "bad": TaskResult(task_id="bad", passed=False, score=0.0,
                          coverage={"m.py": [1, 2, 3, 4, 6, 8]} if with_coverage else None),
        "ok": TaskResult(task_id="ok", passed=True, score=1.0,
                         coverage={"m.py": [1, 2, 3, 8]} if with_coverage else None),
    }
    return Variant(id="p", parent_id=None, generation=0, status="accepted", task_results=results)


def _context(tmp: Path, k: int, parent: Variant) -> GenerationContext:
    return GenerationContext(run_id="r", attempt_id=f"a{k}", seed=k, parent_dir=tmp, sibling_index=k, parent=parent,
                             target=Target(kind="failing_task", task_id="bad"))


def _all(gen: MutationGenerator, tmp: Path, parent: Variant) -> list:
    out = []
    for k in range(5000):
        proposal = gen.propose(_context(tmp, k, parent))
        if not proposal.changes:
            assert proposal.metadata.get("exhausted")
            return out
        out.append(proposal)
    raise AssertionError("the neighbourhood never ran out")


def _fix_at(proposals: list) -> int:
    return next(k for k, p in enumerate(proposals) if all(f in p.changes["m.py"] for f in FIXED))


def test_focus_lines_are_the_most_suspicious(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(MIN_MAX)
    hood = MutationGenerator(MutationOptions())._neighbourhood(_context(tmp_path, 0, _parent()))
    assert sorted(top_lines(hood, 2)) == [("m.py", 4), ("m.py", 6)]
    assert len(top_lines(hood, 3)) == 3 and top_lines(hood, 3)[:2] == top_lines(hood, 2)


def test_focused_pairs_reach_the_two_edit_fix_sooner_without_repeats(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(MIN_MAX)
    parent = _parent()
    plain = _all(MutationGenerator(MutationOptions(pairs=0)), tmp_path, parent)
    glob = _all(MutationGenerator(MutationOptions(pairs=20, pairs_focus=0)), tmp_path, parent)
    focused = _all(MutationGenerator(MutationOptions(pairs=20, pairs_focus=2, pairs_early=0)), tmp_path, parent)
    texts = [p.changes["m.py"] for p in focused]
    assert len(texts) == len(set(texts))  # no child twice, single or pair
    assert [p.changes for p in focused if not p.metadata.get("pair")] == [p.changes for p in plain]
    pairs = [p for p in focused if p.metadata.get("pair")]
    assert pairs and all({e.split(":")[1] for e in p.metadata["edits"]} <= {"4", "6"} for p in pairs)
    assert _fix_at(focused) < _fix_at(glob)
    first = next(k for k, p in enumerate(focused) if p.metadata.get("pair"))
    assert first == next(k for k, p in enumerate(glob) if p.metadata.get("pair"))  # pairs_after's start kept
    # resumable: a fresh generator proposes the same pair at the same sibling index
    k = _fix_at(focused)
    again = MutationGenerator(MutationOptions(pairs=20, pairs_focus=2, pairs_early=0)).propose(_context(tmp_path, k, parent))
    assert again.changes == focused[k].changes


def test_pairs_early_start_once_the_pooled_singles_are_tried(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(MIN_MAX)
    parent = _parent()
    late = _all(MutationGenerator(MutationOptions(pairs=20, pairs_focus=2, pairs_early=0)), tmp_path, parent)
    early = _all(MutationGenerator(MutationOptions(pairs=20, pairs_focus=2, pairs_early=190)), tmp_path, parent)
    first = next(k for k, p in enumerate(early) if p.metadata.get("pair"))
    assert first < next(k for k, p in enumerate(late) if p.metadata.get("pair"))
    pooled = {e for p in early if p.metadata.get("pair") for e in p.metadata["edits"]}
    before = {p.metadata["edits"][0] for p in early[:first]}
    assert pooled <= before  # every edit a pair combines was tried alone first
    assert _fix_at(early) < _fix_at(late)
    assert sorted(p.changes["m.py"] for p in early) == sorted(p.changes["m.py"] for p in late)  # same children


def test_without_coverage_or_focus_the_pairs_are_the_global_ones(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(MIN_MAX)
    bare = _parent(with_coverage=False)
    glob = [p.changes for p in _all(MutationGenerator(MutationOptions(pairs_focus=0)), tmp_path, bare)]
    assert [p.changes for p in _all(MutationGenerator(MutationOptions(pairs_focus=2, pairs_early=190)),
                                     tmp_path, bare)] == glob
    assert (MutationOptions().pairs_focus, MutationOptions().pairs_early) == (2, 4)  # bench_repair's choice


def test_pairs_early_brings_only_that_many_pairs_forward(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(MIN_MAX)
    parent = _parent()
    late = _all(MutationGenerator(MutationOptions(pairs=20, pairs_focus=2, pairs_early=0)), tmp_path, parent)
    some = _all(MutationGenerator(MutationOptions(pairs=20, pairs_focus=2, pairs_early=3)), tmp_path, parent)
    start = next(k for k, p in enumerate(late) if p.metadata.get("pair"))  # pairs_after's start
    kinds = [bool(p.metadata.get("pair")) for p in some]
    assert sum(kinds[:start]) == 3  # three pairs early, the rest from pairs_after as before
    first = kinds.index(True)
    assert kinds[first:first + 6] == [True, False] * 3
    assert [p.changes for p in some if p.metadata.get("pair")][:3] == [p.changes for p in late if p.metadata.get("pair")][:3]
    assert [p.changes for p in some if not p.metadata.get("pair")] == [p.changes for p in late if not p.metadata.get("pair")]


def test_the_lazy_focus_plan_proposes_what_validating_first_does(tmp_path: Path) -> None:
    """The plan of a fresh neighbourhood makes and compiles only the focus lines' edits
    (``focus._scan``); one whose singles are all validated first reads its pool from them
    (``focus._validated``): the same children in the same order."""
    (tmp_path / "m.py").write_text(MIN_MAX)
    parent = _parent()
    options = MutationOptions(pairs=20, pairs_focus=2, pairs_early=4)
    lazy = _all(MutationGenerator(options), tmp_path, parent)
    eager_gen = MutationGenerator(options)
    hood = eager_gen._neighbourhood(_context(tmp_path, 0, parent))
    while hood.nth(len(hood.valid)) is not None:  # every single validated before any plan
        pass
    assert hood.focus is None and hood.planned == 0
    eager = _all(eager_gen, tmp_path, parent)
    assert eager_gen._neighbourhood(_context(tmp_path, 0, parent)) is hood  # the same neighbourhood planned
    assert [p.changes for p in lazy] == [p.changes for p in eager]
    assert [p.metadata["edits"] for p in lazy] == [p.metadata["edits"] for p in eager]
    assert any(p.metadata.get("pair") for p in lazy)
