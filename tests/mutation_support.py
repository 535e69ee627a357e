"""Helpers for the mutation generator's family tests: a generation context, and every mutant of
one family enumerated through the real generator."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from darwin_hookspecs import GenerationContext, Target, Variant
from darwin_plugins.mutation.generator import MutationGenerator, MutationOptions

# Two swapped comparisons (lines 4 and 6): a two-edit repair, shared by the pair tests.
MIN_MAX = '''def min_max(values):
    lo = hi = values[0]
    for v in values[1:]:
        if v > lo:
            lo = v
        if v < hi:
            hi = v
    return lo, hi
'''


def context(k: int, parent_dir: Path) -> GenerationContext:
    return GenerationContext(run_id="r", attempt_id=f"a{k}", seed=k, parent_dir=parent_dir, sibling_index=k,
                             parent=Variant(id="v", parent_id=None, generation=0, status="accepted"),
                             target=Target(kind="failing_task", task_id="t"))


def texts(tmp_path: Path, source: str, family: str, **options: Any) -> list[str]:
    """Every mutant of the family, checked valid, distinct and labelled with the family."""
    (tmp_path / "m.py").write_text(source)
    gen = MutationGenerator(MutationOptions(**{"pairs": 0, "families": [family], **options}))
    out = []
    for k in range(2000):
        proposal = gen.propose(context(k, tmp_path))
        if proposal.metadata.get("exhausted"):
            break
        assert proposal.improvement_type == f"mutation:{family}"
        assert proposal.metadata["families"] == [family]
        out.append(proposal.changes["m.py"])
    else:
        raise AssertionError(f"{family}: not exhausted after 2000 proposals")
    assert len(out) == len(set(out))
    for text in out:
        ast.parse(text)
    return out


def root_edits(tmp_path: Path, source: str, **options: Any) -> list[Any]:
    """The edits of the root's neighbourhood (single edits) for ``source`` written as ``m.py``."""
    (tmp_path / "m.py").write_text(source)
    hood = MutationGenerator(MutationOptions(**{"pairs": 0, **options}))._neighbourhood(context(0, tmp_path))
    assert hood is not None
    return list(hood.edits)


def weights(tmp_path: Path, source: str, family: str, *, by_line: bool = True) -> dict[str, float]:
    """``"line: description"`` (or ``description`` alone) -> the edit's weight, one family's edits."""
    return {f"{e.site.line}: {e.description}" if by_line else e.description: e.weight
            for e in root_edits(tmp_path, source, families=[family])}
