"""Numeric perturbation in the mutation generator: literals of the evolve block moved by an
adaptive step (success rule), per-literal weights, pattern moves, the enumeration kept."""

from __future__ import annotations

import ast
import math
import random
import shutil
from pathlib import Path

import pytest

from darwin_hookspecs import GenerationContext, Target, Variant
from darwin_plugins.mutation import perturb as numeric
from darwin_plugins.mutation.generator import MutationGenerator, MutationOptions
from darwin_plugins.mutation.operators import parse_module

from support import QUICKSTART

SPREAD = Path(__file__).resolve().parents[2] / "examples" / "spread" / "program"

PROGRAM = '''import math

LIMIT = 7.5

# EVOLVE-BLOCK-START
A = 2.0
B = 0.25
N = 3


def build():
    return [A * i + B for i in range(N)]
# EVOLVE-BLOCK-END
'''


def _context(directory: Path, k: int = 0, parent: Variant | None = None, stats=None, seed: int = 3) -> GenerationContext:
    return GenerationContext(run_id="r", attempt_id="g0001a000", seed=seed, parent_dir=directory, sibling_index=k,
                             parent=parent or Variant(id="v", parent_id=None, generation=0, status="accepted"),
                             target=Target(kind="explore"), operator_stats=dict(stats or {}))


def _write(tmp_path: Path, source: str = PROGRAM) -> Path:
    (tmp_path / "prog.py").write_text(source)
    return tmp_path


def _constants(source: str) -> dict[str, float]:
    tree = ast.parse(source)
    return {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
            for t in n.targets if isinstance(t, ast.Name)}


def test_literals_are_the_evolve_block_numbers_only():
    parsed = {"prog.py": parse_module(PROGRAM)}
    lines = PROGRAM.splitlines()
    first, last = lines.index("# EVOLVE-BLOCK-START") + 2, lines.index("# EVOLVE-BLOCK-END")
    found = numeric.literals(parsed, lambda rel, site: first <= site.line <= last)
    assert sorted(lit.value for lit in found) == [0.25, 2.0, 3]  # not LIMIT = 7.5 outside the block
    assert len({lit.label for lit in found}) == 3 and all(lit.label.startswith("perturb@prog.py:") for lit in found)


def test_step_follows_the_success_rule():
    assert numeric.step({}, 0.1) == pytest.approx(0.1)
    at_target = round(numeric.TARGET * 100)
    assert numeric.step({"perturb": (at_target, 100)}, 0.1) == pytest.approx(0.1)  # at the target: unchanged
    assert numeric.step({"perturb": (at_target + 5, 100)}, 0.1) > 0.1  # more succeed: larger steps
    assert numeric.step({"perturb": (at_target - 5, 100)}, 0.1) < 0.1
    assert numeric.step({"perturb": (1, 1)}, 0.1) == pytest.approx(0.1 * math.exp(1 / numeric.DAMPING))
    assert numeric.step({"perturb": (0, 10_000)}, 0.1) == pytest.approx(numeric.STEP_MIN)
    assert numeric.step({"perturb": (10_000, 10_000)}, 0.1) == pytest.approx(numeric.STEP_MAX)


def test_literal_weights_favour_literals_whose_moves_improved():
    parsed = {"prog.py": parse_module(PROGRAM)}
    found = [lit for lit in numeric.literals(parsed, lambda rel, site: True) if isinstance(lit.value, float)]
    dead, live = found[0], found[1]
    stats = {"perturb": (6, 30), dead.label: (0, 15), live.label: (6, 15)}
    w = dict(zip((lit.label for lit in found), numeric.literal_weights(found, stats)))
    assert w[live.label] > 1.0 > w[dead.label] >= 1 / numeric.CLIP


@pytest.mark.parametrize("mode", ["own", "relative"])
def test_a_per_literal_step_grows_for_literals_that_succeed(monkeypatch, mode):
    monkeypatch.setattr(numeric, "PER_LITERAL", mode)
    parsed = {"prog.py": parse_module(PROGRAM)}
    found = numeric.literals(parsed, lambda rel, site: True)
    dead, live = found[0], found[1]
    stats = {"perturb": (6, 30), dead.label: (0, 15), live.label: (6, 15)}
    run = numeric.step(stats, 0.1)
    assert numeric.literal_step(stats, live, run, 0.1) > numeric.literal_step({}, live, run, 0.1)
    assert numeric.literal_step(stats, dead, run, 0.1) < numeric.literal_step({}, dead, run, 0.1)
    assert numeric.literal_step({dead.label: (0, 10_000)}, dead, run, 0.1) == pytest.approx(numeric.STEP_MIN)


def test_moved_values_always_change():
    rng = random.Random(0)
    for value in (3, 0, -2, 2.0, 0.0, -0.5, 1e-9):
        for s in (1e-5, 0.1, 1.0):
            new = numeric.moved(value, s, rng)
            assert new != value and type(new) is type(value)
    ratios = [math.log(numeric.moved(2.0, 0.1, rng) / 2.0) for _ in range(2000)]
    assert 0.08 < (sum(r * r for r in ratios) / len(ratios)) ** 0.5 < 0.12  # x * exp(0.1 z)


def test_a_childs_step_stays_within_the_step_range():
    # The run's step at its maximum: the log-normal spread of a child's step must not carry it past.
    parsed = {"prog.py": parse_module(PROGRAM)}
    found = numeric.literals(parsed, lambda rel, site: True)
    stats = {"perturb": (10_000, 10_000)}
    rng = random.Random(5)
    steps = []
    for _ in range(300):
        made = numeric.propose(parsed, {"prog.py": PROGRAM}, found, stats, initial_step=0.1, edits_mean=1.0, rng=rng)
        if made is not None:
            steps.append(made[2])
    assert steps and max(steps) == pytest.approx(numeric.STEP_MAX)  # the clip is reached, never passed
    assert all(numeric.STEP_MIN <= s <= numeric.STEP_MAX for s in steps)
    stats = {"perturb": (0, 10_000)}  # and at the minimum, never below it
    for _ in range(100):
        made = numeric.propose(parsed, {"prog.py": PROGRAM}, found, stats, initial_step=0.1, edits_mean=1.0, rng=rng)
        assert made is None or made[2] >= numeric.STEP_MIN


def test_a_huge_step_moves_a_value_without_overflow():
    rng = random.Random(1)
    for _ in range(50):
        new = numeric.moved(2.0, 1000.0, rng)
        assert math.isfinite(new) and new != 2.0


def test_an_evolve_block_program_gets_perturbations_inside_the_block(tmp_path):
    directory = _write(tmp_path)
    gen = MutationGenerator(MutationOptions(), seed=1)
    kinds, enumerated = [], []
    for k in range(40):
        proposal = gen.propose(_context(directory, k=k))
        assert "neighbourhood" not in proposal.metadata and not proposal.metadata.get("exhausted")
        new = proposal.changes["prog.py"]
        compile(new, "prog.py", "exec")
        assert new.split("# EVOLVE-BLOCK-START")[0] == PROGRAM.split("# EVOLVE-BLOCK-START")[0]
        kinds.append(proposal.improvement_type)
        if proposal.improvement_type == "mutation:perturb":
            before, after = _constants(PROGRAM), _constants(new)
            changed = [name for name in before if before[name] != after[name]]
            assert changed and set(changed) <= {"A", "B", "N"}
            assert proposal.metadata["moves"] and proposal.metadata["families"][0] == "perturb"
        else:
            enumerated.append(new)
    share = kinds.count("mutation:perturb") / len(kinds)
    assert 0.6 <= share < 1.0  # the default 0.8 for a block with numbers; the rest enumerated
    assert len(set(enumerated)) == len(enumerated)  # the enumeration still never repeats
    again = MutationGenerator(MutationOptions(), seed=1).propose(_context(directory, k=7))
    assert again.changes == gen.propose(_context(directory, k=7)).changes  # a resume proposes the same


def test_without_evolve_blocks_the_generator_is_unchanged(tmp_path):
    program = tmp_path / "program"
    shutil.copytree(QUICKSTART / "program", program)
    default, off = MutationGenerator(MutationOptions(), seed=2), MutationGenerator(MutationOptions(perturb=0.0), seed=2)
    for k in range(25):
        a, b = default.propose(_context(program, k=k)), off.propose(_context(program, k=k))
        assert a.changes == b.changes and a.metadata == b.metadata
        assert a.improvement_type != "mutation:perturb" and "neighbourhood" in a.metadata


def test_a_perturbed_parent_first_repeats_its_move(tmp_path):
    directory = _write(tmp_path)
    gen = MutationGenerator(MutationOptions(perturb=1.0), seed=1)
    first = gen.propose(_context(directory))
    assert first.improvement_type == "mutation:perturb"
    child_dir = tmp_path / "child"
    child_dir.mkdir()
    (child_dir / "prog.py").write_text(first.changes["prog.py"])
    child = Variant(id="c", parent_id="v", generation=1, status="accepted", metadata=first.metadata)
    repeated = gen.propose(_context(child_dir, parent=child))
    assert "perturb-repeat" in repeated.metadata["families"]
    for label, old, new in first.metadata["moves"]:
        again = {m[0]: m for m in repeated.metadata["moves"]}[label]
        assert again[1] == new
        assert again[2] == pytest.approx(new * new / old if isinstance(new, float) else 2 * new - old)
    second = gen.propose(_context(child_dir, k=1, parent=child))
    assert "perturb" in second.metadata["families"]  # then ordinary perturbations


def test_spread_example_evaluator_scores_and_rejects(tmp_path):
    """The example's evaluator, run in a subprocess (never in the test's process)."""
    import json
    import subprocess
    import sys

    bad = tmp_path / "bad.py"
    bad.write_text((SPREAD / "spread.py").read_text().replace("min(max(x, 0.0), 1.0)", "x + 2.0"))
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import evaluator; "
            "print(json.dumps([evaluator.evaluate(p) for p in sys.argv[2:]]))")
    out = subprocess.run([sys.executable, "-c", code, str(SPREAD.parent), str(SPREAD / "spread.py"), str(bad)],
                         capture_output=True, text=True, check=True, timeout=60)
    good, broken = json.loads(out.stdout)
    assert good["valid"] == 1.0 and good["spread"] > 1.0 and 0 < good["min_distance"] < good["spread"]
    assert broken["valid"] == 0.0 and broken["spread"] == 0.0 and "outside" in broken["artifacts"]["feedback"]


def test_a_parent_gets_only_perturbations_until_its_tuning_stalls(tmp_path):
    directory = _write(tmp_path)
    gen = MutationGenerator(MutationOptions(), seed=1)
    kinds = [gen.propose(_context(directory, k=k)).improvement_type for k in range(numeric.STALL + 40)]
    assert numeric.STALL >= 1
    assert set(kinds[: numeric.STALL]) == {"mutation:perturb"}  # no structural jump before the constants are tuned
    later = kinds[numeric.STALL:]
    assert 0 < sum(kind != "mutation:perturb" for kind in later) < len(later)  # then the enumeration takes its share
    off = MutationGenerator(MutationOptions(perturb=0.0), seed=1)
    assert off.propose(_context(directory, k=0)).improvement_type != "mutation:perturb"  # perturb = 0: none at all
