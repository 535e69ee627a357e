"""The mutation generator's proposals on a suite program's root, in the run's order.

Shared by ``bench_repair.py`` (the exhaustive and random arms) and the analysis aids
``plausible_dump.py`` and ``plausible_rerank.py``: the root is evaluated on the visible tests,
then the generator (single edits only: ``pairs = 0``) is asked for children of the root until
its neighbourhood is exhausted.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def root_files(problem: Any) -> dict[str, str]:
    """The program's Python files, by path relative to the program directory."""
    return {p.relative_to(problem.program).as_posix(): p.read_text() for p in sorted(problem.program.rglob("*.py"))}


def evaluated_root(problem: Any, tmp: Path) -> tuple[Any, dict[str, str], Path]:
    """``(root, files, parent_dir)``: the root evaluated on the visible tests (its copy in
    ``tmp/eval``) and laid out with its tests in ``tmp/parent``, as a generator's parent."""
    from bench_repair import _evaluator, _score
    from bench_search_loop import _write, evaluate
    from darwin_core.record import ROOT_ID
    from darwin_hookspecs import Variant

    files = root_files(problem)
    results = evaluate(_evaluator(), problem, files, tmp / "eval")
    root = Variant(id=ROOT_ID, parent_id=None, generation=0, status="accepted", score=_score(results),
                   task_results=results, stage_reached=0)
    parent_dir = tmp / "parent"
    _write(files, problem.tests, parent_dir)
    return root, files, parent_dir


def root_neighbourhood(root: Any, parent_dir: Path, *, seed: int = 1,
                       options: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """``(generator, neighbourhood)``: a mutation generator (``options`` over ``{"pairs": 0}``)
    and the root's neighbourhood it builds for its first proposal."""
    from darwin_core.plugins import PluginManager
    from darwin_core.targeting import choose_target
    from darwin_hookspecs import BuildContext, GenerationContext

    gen = PluginManager().create("generator", "mutation", {"pairs": 0, **(options or {})}, BuildContext(seed=seed))
    gen.propose(GenerationContext(run_id="hood", attempt_id="a0", parent=root, parent_dir=parent_dir,
                                  target=choose_target(root, random.Random(0)), seed=0))
    return gen, next(iter(gen.neighbourhoods.items.values()))


def root_proposals(problem: Any, tmp: Path, seed: int = 1, run_id: str = "hood",
                   options: dict[str, Any] | None = None) -> Iterator[tuple[int, Any, dict[str, str], Any]]:
    """``(k, proposal, files, generator)`` for the root's k-th proposal (``files``: the whole mutant).

    ``tmp`` holds the root's evaluation copy and the parent directory; ``options`` are merged
    over ``{"pairs": 0}``.
    """
    from darwin_core.plugins import PluginManager
    from darwin_core.targeting import choose_target
    from darwin_hookspecs import BuildContext, GenerationContext

    root, files, parent_dir = evaluated_root(problem, tmp)
    gen = PluginManager().create("generator", "mutation", {"pairs": 0, **(options or {})}, BuildContext(seed=seed))
    for k in range(100000):
        ctx = GenerationContext(run_id=run_id, attempt_id=f"a{k}", parent=root, parent_dir=parent_dir,
                                target=choose_target(root, random.Random(k)), seed=k, sibling_index=k)
        proposal = gen.propose(ctx)
        if not proposal.changes:
            return
        yield k, proposal, {**files, **{r: t for r, t in proposal.changes.items() if t is not None}}, gen
