"""The archive holds only the newest variants whole; asking for a set of which some are held and
some dropped returns all of them (holding a re-decoded one may drop a held one of the same set)."""

from __future__ import annotations

import pytest

from darwin_core import archive as archive_module
from darwin_core.archive import Archive
from darwin_hookspecs import Variant


def _variant(i: int) -> Variant:
    return Variant(id=f"v{i:04d}a000", parent_id=None if i == 0 else "v0000a000", generation=i,
                   status="accepted", score=i / 100, task_results={}, stage_reached=0)


def test_children_mixing_held_and_dropped_variants_all_come_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_module, "_KEEP", 3)
    made = {v.id: v for v in map(_variant, range(9))}
    loads: list[list[str]] = []

    def loader(ids: list[str]) -> list[Variant]:
        loads.append(list(ids))
        return [made[i] for i in ids]

    archive = Archive(loader=loader)
    for variant in made.values():
        archive.add(variant)
    assert sum(1 for i in made if i in archive._variants) <= 4  # the oldest were dropped
    children = archive.children("v0000a000")
    assert [c.id for c in children] == sorted(made)[1:]
    assert loads, "the dropped children were decoded again"
    assert [v.id for v in archive.added_since(0)] == list(made)
    assert archive.get("v0001a000").id == "v0001a000"
