"""The offline mutation generator: every family, formatting kept, seeded, aimed by coverage."""

from __future__ import annotations

import ast
import difflib
from collections import Counter
from pathlib import Path

import pytest

from darwin_hookspecs import GenerationContext, Target, Variant
from darwin_plugins.mutation.generator import MutationGenerator, MutationOptions
from darwin_plugins.mutation.operators import FAMILIES

from support import QUICKSTART

PROGRAM = QUICKSTART / "program"
SOURCE = (PROGRAM / "textstats.py").read_text()


def propose(seed: int, families: list[str] | None = None, coverage=None, parent_dir: Path = PROGRAM):
    options = MutationOptions(**({"families": families} if families else {}))
    context = GenerationContext(
        run_id="r", attempt_id="a", seed=seed, parent_dir=parent_dir,
        parent=Variant(id="v", parent_id=None, generation=0, status="accepted"),
        target=Target(kind="failing_task", task_id="t", coverage=coverage),
    )
    return MutationGenerator(options).propose(context)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_yields_a_valid_single_edit(family: str) -> None:
    seen = 0
    for seed in range(15):
        proposal = propose(seed, [family])
        assert proposal.improvement_type == f"mutation:{family}"
        new = proposal.changes["textstats.py"]
        assert new != SOURCE
        ast.parse(new)
        # a single, local edit: everything outside a few lines is byte-identical
        changed = [l for l in difflib.unified_diff(SOURCE.splitlines(), new.splitlines(), n=0, lineterm="")
                   if l[:1] in "+-" and not l.startswith(("+++", "---"))]
        assert 1 <= len(changed) <= 8, changed
        seen += 1
    assert seen == 15


def test_formatting_and_comments_are_kept() -> None:
    source = '''"""Doc."""

# a comment that must survive
def f(a,  b):   # odd spacing kept
    return a  <  b


def g(x):
    return x + 1
'''
    tmp = Path(__file__).parent  # unused; write into a private dir below
    del tmp
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        Path(d, "m.py").write_text(source)
        for seed in range(30):
            new = propose(seed, parent_dir=Path(d)).changes.get("m.py")
            if new is None:
                continue
            assert "# a comment that must survive" in new
            assert '"""Doc."""' in new


def test_same_seed_same_mutant_and_seeds_differ() -> None:
    assert propose(5).changes == propose(5).changes
    mutants = {propose(s).changes["textstats.py"] for s in range(30)}
    assert len(mutants) > 20


def test_coverage_aims_edits_at_the_failing_code() -> None:
    running_total = list(range(35, 41))  # the lines of running_total()
    lines = Counter()
    for seed in range(200):
        proposal = propose(seed, coverage={"textstats.py": running_total})
        lines[proposal.metadata["line"] in running_total] += 1
    assert lines[True] / 200 > 0.8


def test_name_replacement_never_invents_names() -> None:
    tree_names = {n.id for n in ast.walk(ast.parse(SOURCE)) if isinstance(n, ast.Name)}
    for seed in range(40):
        new = propose(seed, ["name"]).changes["textstats.py"]
        new_names = {n.id for n in ast.walk(ast.parse(new)) if isinstance(n, ast.Name)}
        assert new_names <= tree_names | {"None"}


def test_files_without_python_give_an_empty_proposal(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing to mutate")
    proposal = propose(1, parent_dir=tmp_path)
    assert proposal.changes == {} and "no mutable site" in proposal.description


def test_unknown_family_is_a_user_error() -> None:
    from darwin_hookspecs import UserError

    with pytest.raises(UserError):
        MutationGenerator(MutationOptions(families=["teleport"]))
