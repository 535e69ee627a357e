"""Parent selection's cost per attempt against the archive's size (part of bench_large_run).

An archive of N variants (random parents, statuses, scores; some neighbourhoods known) grows
by one generation of ``CHILDREN`` children per selection, as in a run; each selection draws
``CHILDREN`` parents. Measured: CPU time per attempt of the selection alone, in steady state
(the strategy has seen the archive once), for the engine's archive (incremental index) and for
the same archive behind a scan-only view (what every strategy did before). A ratio 10k / 1k
near 1 means O(1) per attempt.
"""

from __future__ import annotations

import random
import time
from typing import Any

from darwin_core.archive import Archive
from darwin_core.plugins import PluginManager
from darwin_hookspecs import BuildContext, TaskResult, Variant

CHILDREN = 4
STRATEGIES = ("score_child_prop", "score_prop", "random", "best", "latest", "score_child_prop_mad",
              "map_elites", "islands", "cmp", "inspirations")
"""Every built-in selection strategy, and ``inspirations`` (planning's choice of the variants
shown to the generator beside the parent, ``darwin_core.inspirations.choose``, per attempt)."""


class Inspirations:
    """``inspirations.choose`` for each of ``n`` parents, as planning calls it (default options)."""

    def select(self, archive: object, n: int, rng: random.Random) -> list[str]:
        from darwin_core.config import InspirationsSection
        from darwin_core.inspirations import choose

        ids = archive.archive.ids() if isinstance(archive, ScanOnly) else archive.ids()  # type: ignore[attr-defined]
        return [v for i in range(n) for v in choose(archive, ids[-1 - i], InspirationsSection(), rng)]


class ScanOnly:
    """The archive without its incremental API (``summaries_since``): strategies scan it."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def variants(self) -> list[Variant]:
        return self.archive.variants()

    def selectable(self) -> list[Variant]:
        return self.archive.selectable()

    def children(self, variant_id: str) -> list[Variant]:
        return self.archive.children(variant_id)

    def get(self, variant_id: str) -> Variant:
        return self.archive.get(variant_id)

    def lineage(self, variant_id: str) -> list[str]:
        return self.archive.lineage(variant_id)


LEVELS = 0
"""Scores rounded to multiples of 1 / LEVELS (an accuracy over LEVELS tasks; 0: continuous)."""
TASKS = 16
"""Task results per variant (each passed at the variant's own rate): ``cmp`` pools them per clade."""


def _child(rng: random.Random, generation: int, index: int, parents: list[str]) -> Variant:
    meta: dict[str, Any] = {"neighbourhood": rng.randint(2, 40)} if rng.random() < 0.1 else {}
    rate = rng.random()
    results = {f"t{t}": TaskResult(task_id=f"t{t}", passed=rng.random() < rate, score=1.0) for t in range(TASKS)}
    return Variant(id=f"v{generation:05d}a{index:03d}", parent_id=rng.choice(parents), generation=generation,
                   status=rng.choice(["accepted", "accepted", "accepted", "rejected", "invalid"]),
                   score=round(rng.random() * LEVELS) / LEVELS if LEVELS else rng.random(), metadata=meta,
                   task_results=results)


def build(size: int, seed: int = 1) -> tuple[Archive, list[str], random.Random]:
    rng = random.Random(seed)
    archive = Archive()
    archive.add(Variant(id="v00000root", parent_id=None, generation=0, status="accepted", score=0.2))
    parents = ["v00000root"]
    generation = 0
    while len(archive) < size:
        generation += 1
        for i in range(CHILDREN):
            child = _child(rng, generation, i, parents)
            archive.add(child)
            if child.status == "accepted":
                parents.append(child.id)
    return archive, parents, rng


SLOW = {"islands": 5}
"""Fewer generations for the scans that take most of a second per selection at 10k."""


def per_attempt(name: str, size: int, indexed: bool, generations: int) -> tuple[float, float]:
    """(first selection, steady-state selection per attempt) CPU seconds."""
    if not indexed:
        generations = min(generations, SLOW.get(name, generations))
    archive, parents, rng = build(size)
    strategy = Inspirations() if name == "inspirations" else PluginManager().create(
        "selection", name, {}, BuildContext())
    view = archive if indexed else ScanOnly(archive)
    start = time.process_time()
    strategy.select(view, CHILDREN, random.Random(0))
    first = time.process_time() - start
    generation = 10**4
    spent = 0.0
    for g in range(generations):
        start = time.process_time()
        strategy.select(view, CHILDREN, random.Random(g))
        spent += time.process_time() - start
        generation += 1
        for i in range(CHILDREN):
            child = _child(rng, generation, i, parents)
            archive.add(child)
            if child.status == "accepted":
                parents.append(child.id)
    return first, spent / (generations * CHILDREN)


def report(sizes: list[int], reps: int, generations: int, names: tuple[str, ...] = STRATEGIES) -> None:
    """Interleaved repeats (every strategy, size and mode once per repetition), medians."""
    import statistics

    results: dict[tuple[str, int, bool], list[float]] = {}
    firsts: dict[tuple[str, int, bool], list[float]] = {}
    for _ in range(reps):
        for name in names:
            for size in sizes:
                for indexed in (True, False):
                    first, steady = per_attempt(name, size, indexed, generations)
                    results.setdefault((name, size, indexed), []).append(steady)
                    firsts.setdefault((name, size, indexed), []).append(first)
    small, large = min(sizes), max(sizes)
    print(f"selection CPU per attempt (ms), {generations} generations of {CHILDREN}, median of {reps} "
          f"interleaved repeats; ratio = {large} / {small} variants:")
    print(f"  {'strategy':22} {'indexed ' + str(small):>12} {'indexed ' + str(large):>13} {'ratio':>6}"
          f" {'scan ' + str(small):>10} {'scan ' + str(large):>11} {'ratio':>6} {'first (sync) ' + str(large):>18}")
    for name in names:
        row = [statistics.median(results[(name, s, i)]) * 1000 for i in (True, False) for s in (small, large)]
        first = statistics.median(firsts[(name, large, True)]) * 1000
        print(f"  {name:22} {row[0]:12.4f} {row[1]:13.4f} {row[1] / row[0]:6.1f} {row[2]:10.4f} "
              f"{row[3]:11.4f} {row[3] / row[2]:6.1f} {first:18.2f}")


if __name__ == "__main__":
    import argparse
    import os

    parser = argparse.ArgumentParser(description="selection CPU per attempt (the part of bench_large_run)")
    parser.add_argument("--sizes", default="200,1000,10000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--generations", type=int, default=25)
    parser.add_argument("--names", default=",".join(STRATEGIES))
    parser.add_argument("--tasks", type=int, default=TASKS, help="task results per variant (0: none)")
    parser.add_argument("--levels", type=int, default=LEVELS, help="score levels (0: continuous)")
    args = parser.parse_args()
    TASKS, LEVELS = args.tasks, args.levels
    print(f"load average {os.getloadavg()}; tasks {TASKS}, levels {LEVELS}")
    sizes = [int(s) for s in args.sizes.split(",")]
    for size in sizes[1:] or sizes:  # each size against the smallest
        report([sizes[0], size], args.reps, args.generations, tuple(args.names.split(",")))
    print(f"load average {os.getloadavg()}")
