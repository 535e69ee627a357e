"""The crossover generator: two variants' changes since their common ancestor, merged."""

from __future__ import annotations

import random
from pathlib import Path

from darwin_core.plugins import PluginManager
from darwin_hookspecs import BuildContext, GenerationContext, Inspiration, Target, Variant
from darwin_plugins.mutation.crossover import merge

BASE = "def f(x):\n    a = x + 1\n    b = x * 2\n    c = x - 3\n    return a, b, c\n"
MINE = BASE.replace("x + 1", "x + 10")          # the parent changed line 2
THEIRS = BASE.replace("x - 3", "x - 30")        # the inspiration changed line 4
CLASH = BASE.replace("x + 1", "x + 99")         # ...or line 2 too


def test_non_conflicting_hunks_are_all_kept() -> None:
    text, taken, conflicts = merge(BASE, MINE, THEIRS, random.Random(0))
    assert text == BASE.replace("x + 1", "x + 10").replace("x - 3", "x - 30")
    assert (taken, conflicts) == (1, 0)


def test_a_conflict_keeps_one_side_whole() -> None:
    sides = set()
    for seed in range(20):
        text, _taken, conflicts = merge(BASE, MINE, CLASH, random.Random(seed))
        assert conflicts == 1 and text in (MINE, CLASH)
        sides.add(text)
    assert sides == {MINE, CLASH}


def _context(tmp_path: Path, inspirations: list[Inspiration], seed: int = 3) -> GenerationContext:
    parent_dir = tmp_path / "parent"
    parent_dir.mkdir(exist_ok=True)
    (parent_dir / "m.py").write_text(MINE)
    return GenerationContext(run_id="r", attempt_id="g0002a000", seed=seed, parent_dir=parent_dir,
                             parent=Variant(id="v0001a000", parent_id="v0000root", generation=1, status="accepted"),
                             target=Target(kind="explore"), inspirations=inspirations)


def test_generator_merges_the_inspiration_since_the_ancestor(tmp_path: Path) -> None:
    gen = PluginManager().create("generator", "crossover", {"rate": 1.0}, BuildContext())
    other = Inspiration(variant=Variant(id="v0001a001", parent_id="v0000root", generation=1, status="accepted"),
                        files={"m.py": THEIRS}, ancestor_id="v0000root", ancestor_files={"m.py": BASE})
    proposal = gen.propose(_context(tmp_path, [other]))
    assert proposal.improvement_type == "crossover"
    assert proposal.changes == {"m.py": BASE.replace("x + 1", "x + 10").replace("x - 3", "x - 30")}
    assert proposal.metadata["inspiration"] == "v0001a001" and proposal.metadata["ancestor"] == "v0000root"


def test_without_inspirations_it_mutates(tmp_path: Path) -> None:
    gen = PluginManager().create("generator", "crossover", {"rate": 1.0}, BuildContext())
    proposal = gen.propose(_context(tmp_path, []))
    assert proposal.improvement_type.startswith("mutation:") and proposal.changes["m.py"] != MINE
