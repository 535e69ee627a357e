"""The mutation generator's order: complements (edits inverting a test on every input) after
boundary and constant fixes, Ochiai localisation from passing tasks' coverage, and two-edit
children (pairs) once a parent's single edits are spent."""

from __future__ import annotations

from pathlib import Path

import pytest

from darwin_hookspecs import GenerationContext, Target, TaskResult, Variant
from darwin_plugins.mutation.generator import PRIORS, MutationGenerator, MutationOptions
from darwin_plugins.mutation.neighbourhood import build, ochiai
from darwin_plugins.mutation.operators import parse_module
from darwin_plugins.mutation.priors import complement
from mutation_support import MIN_MAX

FIZZ = '''def fizzbuzz(n):
    if n % 15 == 0:
        return "FizzBuzz"
    if n % 3 == 0:
        return "Fizz"
    if n % 5 == 1:
        return "Buzz"
    return str(n)
'''



def _hood(source: str, **kw):
    parsed = parse_module(source)
    return build({"m.py": parsed}, {"m.py": source}, seed=kw.pop("seed", 1), family_weights=dict(PRIORS),
                 coverage=kw.pop("coverage", []), uncovered_weight=0.01, tried=set(),
                 keep=lambda rel, site: True, sharpness=4.0, **kw)


def test_complements_are_recognised() -> None:
    assert complement("condition", "condition negated")
    assert complement("comparison", "== -> !=") and complement("comparison", "< -> >=")
    assert complement("comparison", "in -> not in") and complement("boolean", "unary operator dropped")
    assert not complement("comparison", "< -> <=") and not complement("comparison", "== -> <")
    assert not complement("constant", "1 -> 0") and not complement("boolean", "and <-> or")


def test_complement_factor_puts_the_boundary_fix_before_the_test_gaming_negations() -> None:
    """On fizzbuzz's ``n % 5 == 1`` the negation and ``!=`` pass ``fizzbuzz(10)`` and
    ``fizzbuzz(11)`` (and game them); ``1 -> 0`` is the fix. The factor reorders them."""
    coverage = [{"m.py": [1, 2, 4, 6, 8]}]

    def rank(hood, description: str) -> int:
        return next(i for i, e in enumerate(hood.edits) if e.site.line == 6 and e.description == description)

    for seed in range(1, 9):
        plain, damped = _hood(FIZZ, coverage=coverage, seed=seed), _hood(FIZZ, coverage=coverage, seed=seed, complements=0.1)
        w = {e.key: e.weight for e in plain.edits}
        for e in damped.edits:  # exactly the complements are scaled
            assert e.weight == pytest.approx(w[e.key] * (0.1 if complement(e.site.family, e.description) else 1.0))
        assert rank(damped, "1 -> 0") < rank(damped, "condition negated")
        assert rank(damped, "1 -> 0") < rank(damped, "== -> !=")
    # without the factor the negation (a one-alternative family) comes first on most seeds
    firsts = sum(rank(_hood(FIZZ, coverage=coverage, seed=s), "condition negated")
                 < rank(_hood(FIZZ, coverage=coverage, seed=s), "1 -> 0") for s in range(1, 9))
    assert firsts >= 6


def test_ochiai_ranks_lines_only_failing_tasks_run_above_shared_ones() -> None:
    failing = [{"m.py": [1, 2, 4, 6, 8]}]
    passing = [{"m.py": [1, 2, 3]}, {"m.py": [1, 2, 4, 5]}]
    lines = ochiai(failing, passing, floor=0.0)["m.py"]
    assert lines[6] == lines[8] == pytest.approx(1.0)
    assert lines[2] == pytest.approx(1 / 3 ** 0.5) and lines[4] == pytest.approx(1 / 2 ** 0.5)
    assert 3 not in lines and 5 not in lines  # no failing task runs them: uncovered
    def share(**kw) -> float:  # of the 20 first edits, over seeds: on the lines only failing tasks run
        tops = [e.site.line for seed in range(1, 6) for e in _hood(FIZZ, coverage=failing, seed=seed, **kw).edits[:20]]
        return sum(line in (6, 7, 8) for line in tops) / len(tops)

    assert share(passing=passing, localise="ochiai") > share() + 0.15


def _context(tmp: Path, k: int, parent: Variant) -> GenerationContext:
    return GenerationContext(run_id="r", attempt_id=f"a{k}", seed=k, parent_dir=tmp, sibling_index=k, parent=parent,
                             target=Target(kind="failing_task", task_id="t", coverage={"m.py": [1, 2, 3, 4, 5, 6, 7, 8]}))


def test_pairs_follow_the_single_edits_and_reach_a_two_edit_fix(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(MIN_MAX)
    parent = Variant(id="p", parent_id=None, generation=0, status="accepted")
    gen = MutationGenerator(MutationOptions(pairs=12, pairs_after=1.0, pairs_focus=0))
    singles, pairs, seen = [], [], set()
    for k in range(2000):
        p = gen.propose(_context(tmp_path, k, parent))
        if p.metadata.get("exhausted"):
            end = k
            break
        text = p.changes["m.py"]
        assert text not in seen  # no child twice, single or pair
        seen.add(text)
        (pairs if p.metadata.get("pair") else singles).append(p)
        assert p.metadata["neighbourhood"] == len(gen._neighbourhood(_context(tmp_path, 0, parent)).edits) + 66
    else:
        raise AssertionError("never exhausted")
    assert singles and pairs and all(not s.metadata.get("pair") for s in singles)
    assert [p.metadata.get("pair", False) for p in singles + pairs] == [False] * len(singles) + [True] * len(pairs)
    assert len(pairs) <= 66 and end == len(singles) + len(pairs)
    assert all(len(p.metadata["edits"]) == 2 for p in pairs)
    lows = ("if v < lo:", "if lo > v:", "if not (v > lo):", "if v <= lo:")  # the fix's equivalent forms
    highs = ("if v > hi:", "if hi < v:", "if not (v < hi):", "if v >= hi:")
    fixed = [p for p in pairs if any(f in p.changes["m.py"] for f in lows) and any(f in p.changes["m.py"] for f in highs)]
    assert fixed, "the two-comparison fix is among the pairs of the likeliest edits"
    # resumable: a fresh generator gives the same pair at the same sibling index
    k = len(singles) + 3
    assert MutationGenerator(MutationOptions(pairs=12, pairs_after=1.0, pairs_focus=0)).propose(_context(tmp_path, k, parent)).changes == pairs[3].changes


def test_pairs_after_interleaves_pairs_with_the_remaining_singles(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(MIN_MAX)
    parent = Variant(id="p", parent_id=None, generation=0, status="accepted")
    gen = MutationGenerator(MutationOptions(pairs=12, pairs_after=0.1, pairs_focus=0))
    start = int(0.1 * len(gen._neighbourhood(_context(tmp_path, 0, parent)).edits))
    kinds = [bool(gen.propose(_context(tmp_path, k, parent)).metadata.get("pair")) for k in range(start + 20)]
    assert kinds[:start] == [False] * start
    assert kinds[start:] == [False, True] * 10
    plain = MutationGenerator(MutationOptions(pairs=0))  # the singles keep their order
    singles = [gen.propose(_context(tmp_path, k, parent)).changes for k in range(start + 20) if not kinds[k]]
    assert singles == [plain.propose(_context(tmp_path, k, parent)).changes for k in range(len(singles))]


def test_passing_task_coverage_reaches_the_order_only_with_ochiai(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(FIZZ)
    results = {"bad": TaskResult(task_id="bad", passed=False, score=0.0, coverage={"m.py": [1, 2, 4, 6, 8]}),
               "ok": TaskResult(task_id="ok", passed=True, score=1.0, coverage={"m.py": [1, 2, 4, 6]})}
    parent = Variant(id="p", parent_id=None, generation=0, status="accepted", task_results=results)

    def order(**options) -> list[str]:
        gen = MutationGenerator(MutationOptions(**options))
        return [e.key for e in gen._neighbourhood(_context(tmp_path, 0, parent)).edits]

    assert order() == order(localise="ochiai") != order(localise="failing")  # ochiai: the default

    def weights(**options) -> dict[str, tuple[int, float]]:
        hood = MutationGenerator(MutationOptions(**options))._neighbourhood(_context(tmp_path, 0, parent))
        return {e.key: (e.site.line, e.weight) for e in hood.edits}

    plain, localised = weights(localise="failing"), weights()
    gain = {line: {localised[k][1] / w for k, (l, w) in plain.items() if l == line} for line in (2, 8)}
    assert min(gain[8]) > max(gain[2])  # the line only the failing task runs gains on the shared one


def test_defaults_are_the_ones_the_repair_benchmark_chose() -> None:
    options = MutationOptions()
    assert (options.localise, options.complements, options.pairs, options.pairs_after) == ("ochiai", 0.1, 20, 0.5)
    assert options.share == "family"  # per-site sharing measured worse (docs/search.md)


def test_spent_pairs_give_their_turns_back_to_the_singles(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(MIN_MAX)
    parent = Variant(id="p", parent_id=None, generation=0, status="accepted")
    every = [p.changes for p in _all(MutationGenerator(MutationOptions(pairs=0)), tmp_path, parent)]
    mixed = _all(MutationGenerator(MutationOptions(pairs=3, pairs_after=0.0, pairs_focus=0)), tmp_path, parent)
    kinds = [bool(p.metadata.get("pair")) for p in mixed]
    assert kinds[:6] == [False, True] * 3 and not any(kinds[6:])  # 3 pairs at most, then singles
    assert [p.changes for p in mixed if not p.metadata.get("pair")] == every  # no single lost


def _all(gen: MutationGenerator, tmp: Path, parent: Variant) -> list:
    out = []
    for k in range(5000):
        p = gen.propose(_context(tmp, k, parent))
        if p.metadata.get("exhausted"):
            return out
        out.append(p)
    raise AssertionError("never exhausted")
