"""The lineage evolution strategy of numeric perturbation (mutation/perturb_es.py): step and
direction carried in the children's metadata, pattern moves, line searches through better
inspirations, the adaptive share of enumerated edits, and the packing example's evaluator."""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from darwin_hookspecs import GenerationContext, Inspiration, Target, Variant
from darwin_plugins.mutation import perturb as numeric
from darwin_plugins.mutation import perturb_es as es
from darwin_plugins.mutation.generator import MutationGenerator, MutationOptions

PACKING = Path(__file__).resolve().parents[2] / "examples" / "packing"

PROGRAM = '''import math

LIMIT = 7.5
SCALE = 3.0

# EVOLVE-BLOCK-START
A = 2.0
B = 0.25
C = 1.5
D = 0.75
N = 3


def build():
    return [A * i + B * C - D for i in range(N)]
# EVOLVE-BLOCK-END
'''
BLOCK = {"A", "B", "C", "D", "N"}


def _context(directory: Path, k: int = 0, parent: Variant | None = None, seed: int = 3,
             inspirations: list[Inspiration] | None = None, stats=None) -> GenerationContext:
    return GenerationContext(run_id="r", attempt_id="g0001a000", seed=seed, parent_dir=directory, sibling_index=k,
                             parent=parent or Variant(id="v", parent_id=None, generation=0, status="accepted", score=1.0),
                             target=Target(kind="explore"), inspirations=list(inspirations or []),
                             operator_stats=dict(stats or {}))


def _constants(source: str) -> dict[str, float]:
    tree = ast.parse(source)
    return {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
            for t in n.targets if isinstance(t, ast.Name)}


def _dir(tmp_path: Path, name: str, source: str) -> Path:
    directory = tmp_path / name
    directory.mkdir()
    (directory / "prog.py").write_text(source)
    return directory


def test_lineage_state_follows_the_success_rule():
    assert es.lineage(None, False, 0, 0.1) == (pytest.approx(0.1), {})
    record = {"base": 1.0, "step": 0.1, "path": {"x": 1.0}, "prior": {"y": 0.5}}
    up, path = es.lineage(record, True, 0, 0.1)
    assert up == pytest.approx(0.1 * math.exp(es.UP)) and path == {"x": 1.0}  # it beat its parent
    down, prior = es.lineage(record, False, 0, 0.1)
    assert down == pytest.approx(0.1 * math.exp(-es.DOWN)) and prior == {"y": 0.5}
    later, _ = es.lineage(record, True, 5, 0.1)  # five earlier attempts on it did not replace it
    assert later == pytest.approx(up * math.exp(-5 * es.DOWN))
    assert es.lineage(record, False, 10_000, 0.1)[0] >= es.STEP_MIN
    moved = es.record([(type("L", (), {"label": "x", "value": 1.0})(), 1.1)], 0.1, {"x": 1.0}, 2.0)
    assert moved["base"] == 2.0 and moved["prior"] == {"x": 1.0} and moved["path"]["x"] > (1 - es.CUMULATION)


def test_multi_literal_moves_stay_inside_the_block_and_are_deterministic(tmp_path):
    directory = _dir(tmp_path, "p", PROGRAM)
    options = MutationOptions(perturb=1.0, perturb_edits=4.0, perturb_search="lineage")
    gen = MutationGenerator(options, seed=1)
    counts = []
    for k in range(30):
        proposal = gen.propose(_context(directory, k=k, seed=100 + k))
        new = proposal.changes["prog.py"]
        compile(new, "prog.py", "exec")
        assert new.split("# EVOLVE-BLOCK-START")[0] == PROGRAM.split("# EVOLVE-BLOCK-START")[0]
        before, after = _constants(PROGRAM), _constants(new)
        changed = {name for name in before if before[name] != after[name]}
        assert changed and changed <= BLOCK
        counts.append(len(changed))
        assert proposal.metadata["es"]["base"] == 1.0 and proposal.metadata["es"]["step"] > 0
        again = MutationGenerator(options, seed=1).propose(_context(directory, k=k, seed=100 + k))
        assert again.changes == proposal.changes and again.metadata == proposal.metadata  # a resume: the same
    assert max(counts) >= 3  # several literals at once
    other = MutationGenerator(options, seed=2).propose(_context(directory, k=0, seed=4))
    assert other.changes != gen.propose(_context(directory, k=0)).changes


def test_an_improved_child_repeats_its_move_by_the_same_difference(tmp_path):
    directory = _dir(tmp_path, "p", PROGRAM)
    gen = MutationGenerator(MutationOptions(perturb=1.0, perturb_search="lineage"), seed=1)
    first = gen.propose(_context(directory))
    child_dir = _dir(tmp_path, "c", first.changes["prog.py"])
    better = Variant(id="c", parent_id="v", generation=1, status="accepted", score=1.5, metadata=first.metadata)
    repeated = gen.propose(_context(child_dir, parent=better))
    assert repeated.metadata["families"][0] == numeric.REPEAT
    for label, old, new in first.metadata["moves"]:
        again = {m[0]: m for m in repeated.metadata["moves"]}[label]
        assert again[1] == new and again[2] == pytest.approx(2 * new - old)
    assert repeated.metadata["es"]["step"] == pytest.approx(first.metadata["es"]["step"] * math.exp(es.UP), rel=1e-6)
    worse = Variant(id="c", parent_id="v", generation=1, status="accepted", score=0.5, metadata=first.metadata)
    plain = gen.propose(_context(child_dir, parent=worse))  # a failed move is not repeated
    assert plain.metadata["families"][0] == numeric.FAMILY
    assert plain.metadata["es"]["step"] == pytest.approx(first.metadata["es"]["step"] * math.exp(-es.DOWN), rel=1e-6)


def test_a_better_inspiration_gets_a_line_search_through_it(tmp_path):
    directory = _dir(tmp_path, "p", PROGRAM)
    better = PROGRAM.replace("A = 2.0", "A = 2.2").replace("B = 0.25", "B = 0.2")
    other = Variant(id="b", parent_id="v", generation=2, status="accepted", score=2.0)
    insp = [Inspiration(variant=other, files={"prog.py": better})]
    gen = MutationGenerator(MutationOptions(perturb=1.0, perturb_search="lineage"), seed=1)
    seen = 0
    for k in range(1, 20):
        proposal = gen.propose(_context(directory, k=k, seed=100 + k, inspirations=insp))
        if proposal.metadata["families"][0] != es.TOWARD_LABEL:
            continue
        seen += 1
        after = _constants(proposal.changes["prog.py"])
        t = (after["A"] - 2.0) / 0.2
        assert es.T_MIN - 1e-6 <= t <= es.T_MAX + 1e-6  # beyond the inspiration, along parent -> inspiration
        assert after["B"] == pytest.approx(0.25 + t * (0.2 - 0.25), rel=1e-6)
        assert after["C"] == 1.5 and after["D"] == 0.75 and after["N"] == 3
    assert seen >= 8  # TOWARD = 0.8 of the attempts
    worse = [Inspiration(variant=Variant(id="w", parent_id="v", generation=2, status="accepted", score=0.5),
                         files={"prog.py": better})]
    changed_code = [Inspiration(variant=other, files={"prog.py": better.replace("A * i", "A + i")})]
    for insps in (worse, changed_code):  # not better, or other code: no line search
        kinds = {gen.propose(_context(directory, k=k, seed=100 + k, inspirations=insps)).metadata["families"][0] for k in range(1, 12)}
        assert es.TOWARD_LABEL not in kinds


def test_minimising_objective_reverses_better(tmp_path):
    class Bench:
        objective = type("O", (), {"direction": "minimise"})()

    assert es.sign_of(Bench()) == -1.0 and es.sign_of(None) == 1.0
    found = [type("L", (), {"label": "x", "value": 1.0})()]
    assert es.toward(found, [(2.0, {"x": 2.0}, None)], 1.0, -1.0, __import__("random").Random(0)) is None
    assert es.toward(found, [(0.5, {"x": 2.0}, None)], 1.0, -1.0, __import__("random").Random(0)) is not None


def test_enumerated_edits_get_fewer_attempts_when_they_improve_less():
    families = ["constant", "return"]
    assert numeric.next_share({}, families, 0.8) == pytest.approx(0.8)  # no evidence: the default
    poor = {"perturb": (30, 100), "perturb-toward": (20, 40), "return": (0, 40), "constant": (1, 30)}
    assert numeric.next_share(poor, families, 0.8) == pytest.approx(1 - numeric.ENUM_MIN)
    good = {"perturb": (5, 100), "return": (10, 40)}
    assert numeric.next_share(good, families, 0.8) == pytest.approx(0.8)


def test_the_share_is_frozen_on_the_parent(tmp_path):
    directory = _dir(tmp_path, "p", PROGRAM)
    gen = MutationGenerator(MutationOptions(), seed=1)
    stats = {"perturb": (30, 100), "return": (0, 40)}
    proposal = gen.propose(_context(directory, stats=stats))
    assert proposal.metadata["next_share"] == pytest.approx(1 - numeric.ENUM_MIN)
    parent = Variant(id="c", parent_id="v", generation=1, status="accepted", score=1.0,
                     metadata={"next_share": 0.95})
    kinds = [gen.propose(_context(directory, k=k, seed=100 + k, parent=parent)).improvement_type for k in range(60)]
    assert kinds.count("mutation:perturb") >= 50  # 0.95 of them, not the default 0.8
    fixed = MutationGenerator(MutationOptions(perturb=0.5), seed=1).propose(_context(directory, stats=stats))
    assert "next_share" not in fixed.metadata  # an explicit share is not adapted


def _evaluate(paths: list[Path]) -> list[dict]:
    """The packing evaluator, run in a subprocess (never in the test's process)."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import evaluator; "
            "print(json.dumps([evaluator.evaluate(p) for p in sys.argv[2:]]))")
    out = subprocess.run([sys.executable, "-c", code, str(PACKING), *map(str, paths)],
                         capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout)


def test_packing_evaluator_scores_the_initial_program_and_rejects_bad_packings(tmp_path):
    source = (PACKING / "program" / "packing.py").read_text()
    overlapping = tmp_path / "overlap.py"
    overlapping.write_text(source.replace("return centres, fit_radii(centres)",
                                          "return centres, [r + 0.01 for r in fit_radii(centres)]"))
    outside = tmp_path / "outside.py"
    outside.write_text(source.replace("MARGIN = 0.02", "MARGIN = -0.05").replace("OUTER_RING = 0.3", "OUTER_RING = 0.9"))
    short = tmp_path / "short.py"
    short.write_text(source.replace("return centres, fit_radii(centres)", "return centres[:-1], fit_radii(centres)[:-1]"))
    nan = tmp_path / "nan.py"
    nan.write_text(source.replace("return centres, fit_radii(centres)",
                                  "return centres, [float('nan')] + fit_radii(centres)[1:]"))
    good, bad, out, few, not_finite = _evaluate([PACKING / "program" / "packing.py", overlapping, outside, short, nan])
    assert good["valid"] == 1.0 and 0.9 <= good["sum_radii"] <= 1.1
    assert bad["valid"] == 0.0 and bad["sum_radii"] == 0.0 and "overlap" in bad["artifacts"]["feedback"]
    assert out["valid"] == 0.0 and "leaves the unit square" in out["artifacts"]["feedback"]
    assert few["valid"] == 0.0 and "not 26" in few["artifacts"]["feedback"]
    assert not_finite["valid"] == 0.0 and "finite" in not_finite["artifacts"]["feedback"]
