"""The offline mutation generator: complete families, formatting kept, a parent's
neighbourhood enumerated without replacement, aimed by coverage, evolve blocks, multi-edit."""

from __future__ import annotations

import ast
import difflib
from pathlib import Path

import pytest

from darwin_hookspecs import GenerationContext, Target, TaskResult, UserError, Variant
from darwin_plugins.mutation.generator import MutationGenerator, MutationOptions
from darwin_plugins.mutation.operators import FAMILIES
from darwin_plugins.mutation.operators.tables import BUILTIN_SWAPS

from support import QUICKSTART

PROGRAM = QUICKSTART / "program"
SOURCE = (PROGRAM / "textstats.py").read_text()

# one construct of every family (and the fixes the issue names: ``^=`` to ``&=``, swapped call
# arguments, a name in scope, ``r`` to ``r + 1`` in a range, a sibling attribute)
EVERY = '''"""Doc."""

# a comment that must survive
def scale(a,  b, flags):   # odd spacing kept
    total = 0
    flags ^= 3
    for i in range(1, b):
        if a < i and not flags:
            total += a * i
        total = total | i
    point = Point(a, b)
    value = point.x - (~a)
    keep = -1.5 if total else 2.0
    out = divmod(total, a)
    return [point.y, out[0]], keep


def other(xs):
    return xs[1:len(xs)]


def firsts(xs):
    seen = set()
    i = j = 0
    if xs[i] in seen:
        return xs[j]
    return xs[i:]


def initials(text):
    out = []
    last = ""
    for w in text.split():
        out.append(w[0] + last)
    return out


def window(text):
    last = {}
    start = 0
    for i, ch in enumerate(text):
        if ch in last:
            start = last[ch] + 1
        last[ch] = i
    text.clear()
    return start


def trim(xs, k):
    i = 0
    if xs[i]:
        return len(xs)
    return xs[k:-k]


def tally(xs, n):
    a, b = xs
    if xs[0]:
        n = a
    return n, b


def inside(rows, cols, r, c):
    return 0 <= r < rows and 0 <= c < rows and cols > 0


def rises(xs, ys):
    for i in range(1, len(xs)):
        if xs[i] > xs[i - 1] and ys[i] > 0:
            return i
    return 0


def drain(xs):
    n = len(xs)
    while xs:
        xs.pop(n - 1)
    return n
'''


def context(k: int = 0, coverage=None, parent_dir: Path = PROGRAM, parent: Variant | None = None,
            seed: int = 1) -> GenerationContext:
    return GenerationContext(
        run_id="r", attempt_id="g0001a000", seed=seed, parent_dir=parent_dir, sibling_index=k,
        parent=parent or Variant(id="v", parent_id=None, generation=0, status="accepted"),
        target=Target(kind="failing_task", task_id="t", coverage=coverage),
    )


def generator(**options) -> MutationGenerator:
    return MutationGenerator(MutationOptions(**options))


def neighbourhood(gen: MutationGenerator, limit: int = 5000, **kw) -> list:
    out = []
    for k in range(limit):
        proposal = gen.propose(context(k, **kw))
        if proposal.metadata.get("exhausted"):
            break
        out.append(proposal)
    return out


@pytest.fixture()
def every(tmp_path: Path) -> Path:
    (tmp_path / "m.py").write_text(EVERY)
    return tmp_path


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_enumerates_valid_distinct_local_edits(family: str, every: Path) -> None:
    proposals = neighbourhood(generator(families=[family]), parent_dir=every)
    assert proposals, f"no {family} edit in the sample module"
    texts = [p.changes["m.py"] for p in proposals]
    assert len(set(texts)) == len(texts)  # no edit twice
    for proposal, new in zip(proposals, texts):
        assert proposal.improvement_type == f"mutation:{family}"
        assert new != EVERY and "# a comment that must survive" in new and "odd spacing kept" in new
        ast.parse(new)
        changed = [l for l in difflib.unified_diff(EVERY.splitlines(), new.splitlines(), n=0, lineterm="")
                   if l[:1] in "+-" and not l.startswith(("+++", "---"))]
        assert 1 <= len(changed) <= 8, changed


def test_neighbourhood_is_enumerated_without_replacement_then_exhausted(every: Path) -> None:
    gen = generator()
    proposals = neighbourhood(gen, parent_dir=every)
    texts = [p.changes["m.py"] for p in proposals]
    assert len(texts) > 300 and len(set(texts)) == len(texts)
    size = proposals[0].metadata["neighbourhood"]
    assert all(p.metadata["neighbourhood"] == size for p in proposals) and size >= len(texts)
    end = gen.propose(context(len(texts), parent_dir=every))
    assert end.changes == {} and end.metadata["exhausted"] is True
    # the same sibling index gives the same child, from a fresh generator too (resumable)
    assert generator().propose(context(17, parent_dir=every)).changes["m.py"] == texts[17]
    assert [p.metadata["sibling_index"] for p in proposals[:3]] == [0, 1, 2]


def test_issue_operators_are_in_the_neighbourhood(every: Path) -> None:
    texts = [p.changes["m.py"] for p in neighbourhood(generator(), parent_dir=every)]
    wanted = ["flags &= 3", "flags |= 3", "flags = 3", "range(1, (b + 1))", "divmod(a, total)",
              "Point(b, a)", "point.y - (~a)", "if a >= i", "if a != i", "total -= a * i",
              "total += a // i", "total = total ^ i", "total = total | (i + 1)",
              "if not (a < i and not flags)", "\n    return None\n", "xs[1:(len(xs) - 1)]"]
    for fragment in wanted:
        assert any(fragment in t for t in texts), fragment


def test_name_replacement_stays_in_scope_and_never_invents_names(every: Path) -> None:
    names = {n.id for n in ast.walk(ast.parse(EVERY)) if isinstance(n, ast.Name)}
    scale_names = {n.id for n in ast.walk(ast.parse(EVERY).body[1]) if isinstance(n, ast.Name)} | {"a", "b", "flags"}
    for p in neighbourhood(generator(families=["name"]), parent_dir=every):
        tree = ast.parse(p.changes["m.py"])
        new_names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        swaps = {b for n in names for b in BUILTIN_SWAPS.get(n, ())}
        assert new_names <= names | swaps | {"None", "scale", "other", "firsts", "initials", "window", "trim",
                                             "tally", "inside", "rises", "drain"}  # names and functions of the file
        other = tree.body[2]
        assert not {n.id for n in ast.walk(other) if isinstance(n, ast.Name)} & (scale_names - {"len", "xs"})


def test_coverage_puts_the_failing_code_first() -> None:
    running_total = list(range(35, 41))  # the lines of running_total()
    first = neighbourhood(generator(), limit=60, coverage={"textstats.py": running_total})
    inside = sum(p.metadata["line"] in running_total for p in first)
    assert inside / len(first) > 0.8
    # a parent's failing tasks' coverage counts too (one order for all its siblings)
    parent = Variant(id="p", parent_id=None, generation=0, status="accepted", task_results={
        "t": TaskResult(task_id="t", passed=False, score=0.0, coverage={"textstats.py": running_total})})
    gen = generator()
    lines = [gen.propose(context(k, parent=parent)).metadata["line"] for k in range(60)]
    assert sum(line in running_total for line in lines) / 60 > 0.8


def test_run_seed_changes_the_order_and_tried_edits_come_later() -> None:
    a = [p.changes["textstats.py"] for p in neighbourhood(generator(), limit=20)]
    other = MutationGenerator(MutationOptions(), seed=99)
    b = [other.propose(context(k)).changes["textstats.py"] for k in range(20)]
    assert a != b
    child = generator().propose(context(0))
    tried = child.metadata["tried"]
    assert tried == []
    later = generator().propose(context(5))
    assert len(later.metadata["tried"]) == 5
    parent = Variant(id="v", parent_id=None, generation=0, status="accepted", metadata={"tried": later.metadata["tried"]})
    last = generator(tried_delay=float("inf"))
    again = [last.propose(context(k, parent=parent)).changes["textstats.py"] for k in range(5)]
    assert not set(again) & set(a[:5])
    # the default delay: tried edits come later than they were, yet every one still comes
    order = [p.changes["textstats.py"] for p in neighbourhood(generator(), parent=parent)]
    positions = [order.index(text) for text in a[:5]]
    assert sum(positions) > 2 * sum(range(5)) and len(set(order)) == len(order)  # later (they were 0-4)


def test_evolve_block_markers_confine_edits(tmp_path: Path) -> None:
    source = "def f(x):\n    return x + 1\n\n# EVOLVE-BLOCK-START\ndef g(y):\n    return y * 2\n# EVOLVE-BLOCK-END\n"
    (tmp_path / "m.py").write_text(source)
    (tmp_path / "n.py").write_text("def h(z):\n    return z - 1\n")
    # the block's enumeration is spent long before 400 (then the numeric perturbation, as here)
    proposals = neighbourhood(generator(), limit=400, parent_dir=tmp_path)
    assert proposals
    for p in proposals:
        assert list(p.changes) == ["m.py"]
        new = p.changes["m.py"].splitlines()
        assert new[:3] == source.splitlines()[:3] and p.metadata["line"] in (5, 6)
    regioned = neighbourhood(generator(regions=["n.py:2-2"]), limit=400, parent_dir=tmp_path)
    assert {next(iter(p.changes)) for p in regioned} == {"m.py", "n.py"}
    with pytest.raises(UserError, match="path:first-last"):
        generator(regions=["n.py"])


def test_multi_edit_children_carry_several_valid_edits(every: Path) -> None:
    gen = generator(edits_mean=3.0)
    counts = []
    for k in range(40):
        p = gen.propose(context(k, parent_dir=every, seed=k))
        ast.parse(p.changes["m.py"])
        counts.append(len(p.metadata["edits"]))
        assert len(p.metadata["families"]) == len(p.metadata["edits"])
    assert max(counts) >= 3 and counts.count(1) < 30 and 1.5 < sum(counts) / len(counts) < 3.5


def test_bandit_weights_follow_improving_families() -> None:
    from darwin_plugins.mutation.bandit import family_stats, weights

    records = [{"id": "r", "parent_id": None, "score": 0.5}]
    for i in range(10):
        records.append({"id": f"c{i}", "parent_id": "r", "score": 0.7 if i < 4 else 0.1,
                        "metadata": {"families": ["comparison" if i < 5 else "delete"]}})
    stats = family_stats(records)
    assert stats == {"comparison": [4, 5], "delete": [0, 5]}
    w = weights(stats, ["comparison", "delete", "name"])
    assert w["comparison"] > 1.0 > w["delete"] and w["name"] == 1.0


def test_files_without_python_give_an_exhausted_empty_proposal(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing to mutate")
    proposal = generator().propose(context(0, parent_dir=tmp_path))
    assert proposal.changes == {} and "no mutable site" in proposal.description
    assert proposal.metadata["exhausted"] is True


def test_unknown_family_is_a_user_error() -> None:
    with pytest.raises(UserError):
        MutationGenerator(MutationOptions(families=["teleport"]))


def test_near_miss_alternatives_weigh_more_and_family_shares_are_kept() -> None:
    from darwin_plugins.mutation.neighbourhood import build
    from darwin_plugins.mutation.operators import parse_module
    from darwin_plugins.mutation.priors import FAR, NEAR, multiplier

    assert multiplier("comparison", "< -> <=") == NEAR and multiplier("comparison", "< -> ==") == 1.0
    assert multiplier("augmented", "-= -> +=") == NEAR and multiplier("augmented", "-= -> =") == FAR
    assert multiplier("constant", "25 -> 26") == NEAR and multiplier("constant", "25 -> 50") == 1.0
    assert multiplier("return", "return None") == FAR and multiplier("attribute", ".x -> .y") == 1.0
    assert multiplier("name", "items -> item") == multiplier("name", "i -> j") == NEAR
    assert multiplier("name", "value -> current") == 1.0
    source = "def f(a, b):\n    if a < b:\n        a -= 1\n    return a\n"
    hood = build({"m.py": parse_module(source)}, {"m.py": source}, seed=1, family_weights={"comparison": 3.0,
                 "augmented": 2.0}, coverage=[], uncovered_weight=0.01, tried=set(), keep=lambda rel, site: True)
    weight = {e.description: e.weight for e in hood.edits}
    assert weight["< -> <="] == pytest.approx(NEAR * weight["< -> =="])
    assert weight["-= -> +="] == pytest.approx(NEAR / FAR * weight["-= -> ="])
    for family, total in (("comparison", 3.0), ("augmented", 2.0)):  # a family's share is unchanged
        assert sum(e.weight for e in hood.edits if e.site.family == family) == pytest.approx(total)


def test_called_methods_become_their_usual_confusions(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f(s, xs):\n    g = s.lower\n    xs.append(s.strip())\n    return s.upper()\n")
    texts = [p.changes["m.py"] for p in neighbourhood(generator(families=["attribute"]), parent_dir=tmp_path)]
    for fragment in ("s.lower()", "s.rstrip()", "xs.extend(", "s.lstrip()"):
        assert any(fragment in t for t in texts), fragment
    assert not any("g = s.upper" in t or "g = s.casefold" in t for t in texts)  # only called methods


def test_sharpness_orders_the_likeliest_edits_first() -> None:
    from darwin_plugins.mutation.generator import PRIORS
    from darwin_plugins.mutation.neighbourhood import build
    from darwin_plugins.mutation.operators import parse_module

    parsed = parse_module(EVERY)

    def inversions(sharpness: float) -> float:  # mean over seeds: one seed's random order can stray
        total = 0.0
        for seed in range(1, 7):
            hood = build({"m.py": parsed}, {"m.py": EVERY}, seed=seed, family_weights=PRIORS, coverage=[],
                         uncovered_weight=0.01, tried=set(), keep=lambda rel, site: True, sharpness=sharpness)
            w = [e.weight for e in hood.edits]
            pairs = [(a, b) for i, a in enumerate(w[:150]) for b in w[i + 1:150] if max(a, b) >= 2 * min(a, b)]
            total += sum(a < b for a, b in pairs) / len(pairs)
        return total / 6

    assert inversions(8.0) < 0.02 < 0.2 < inversions(1.0) < inversions(0.0)
    assert generator().options.sharpness == 4.0  # the default the repair benchmark chose
