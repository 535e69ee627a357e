"""Repair anti-patterns (Tan et al. 2016) named from the real mutation generator's proposals:
deletions, an operand dropped, an early exit inserted; operator and constant edits are none."""

from __future__ import annotations

from pathlib import Path

from darwin_plugins.mutation.antipatterns import count, kind, kinds
from darwin_plugins.mutation.generator import MutationGenerator, MutationOptions

from mutation_support import context

SOURCE = ("def f(xs, lo):\n    n = 0\n    for x in xs:\n        if x > lo and x != 3:\n            n += x\n"
          "        if n > 100:\n            break\n    return n\n")


def proposals(tmp_path: Path, family: str) -> list[tuple[str, str]]:
    """``(description, new source)`` of every mutant of ``family`` of :data:`SOURCE`."""
    (tmp_path / "m.py").write_text(SOURCE)
    gen = MutationGenerator(MutationOptions(pairs=0, families=[family]))
    out = []
    for k in range(500):
        proposal = gen.propose(context(k, tmp_path))
        if proposal.metadata.get("exhausted"):
            return out
        out.append((proposal.description, proposal.changes["m.py"]))
    raise AssertionError("not exhausted")


def test_every_deletion_is_the_delete_anti_pattern(tmp_path: Path) -> None:
    found = proposals(tmp_path, "delete")
    assert len(found) >= 5  # statements and blocks (the loop, both ifs, the break, the update)
    assert all(kinds(d) == ["delete"] for d, _ in found)
    assert any("for x in xs" not in text for _, text in found)  # the loop itself deleted


def test_dropped_operands_and_plain_assignments_are_drop_operand(tmp_path: Path) -> None:
    boolean = dict(proposals(tmp_path, "boolean"))
    dropped = [d for d in boolean if kinds(d) == ["drop-operand"]]
    assert len(dropped) == 2 and all("operand only" in d for d in dropped)
    assert [kinds(d) for d in boolean if "and <-> or" in d] == [[]]
    augmented = dict(proposals(tmp_path, "augmented"))
    assert [d for d in augmented if kinds(d)] == [d for d in augmented if "+= -> =" in d]
    assert len([d for d in augmented if kinds(d)]) == 1 and len(augmented) > 1


def test_an_inserted_exit_is_early_exit_other_inserts_are_not(tmp_path: Path) -> None:
    inserted = dict(proposals(tmp_path, "insert"))
    exits = [d for d in inserted if kinds(d) == ["early-exit"]]
    assert exits and all("insert `break`" in d or "insert `return" in d for d in exits)
    assert any(not kinds(d) for d in inserted)  # e.g. ``n = 0`` copied: not an exit


def test_operator_and_constant_edits_are_none_and_a_lineage_sums(tmp_path: Path) -> None:
    for family in ("comparison", "constant", "name"):
        found = proposals(tmp_path, family)
        assert found and not any(kinds(d) for d, _ in found), family
    assert kind("comparison (< -> <=) in m.py line 4") is None
    pair = "statement (statement deleted) in m.py line 5; comparison (> -> >=) in m.py line 4"
    assert kinds(pair) == ["delete"]
    assert count([pair, "block (block deleted) in m.py line 6", "name (x -> n) in m.py line 5"]) == 2
