"""Features of the Nth attempt: the clade walk (``clade_stats``) vs the incremental ``CladeIndex``.

    python benchmarks/bench_features.py [--sizes 1000 5000 10000] [--repeats 15]

For each archive size N (a random tree: each variant's parent drawn uniformly from the earlier
ones, as a DGM-style run grows), one variant is added and the features of an attempt on a parent
are computed, both ways side by side through the same ``attempt_features``: the reference walk
visits the parent's whole clade, the index (synced on the first N-1 variants, as in a run)
indexes the new variant and looks the parent up. Parents: the root (its clade is the whole
archive: the worst case) and a random variant. Medians over ``--repeats`` added variants. Also
prints the index's cold start (every variant at once, as after a resume).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from darwin_core.archive import Archive
from darwin_core.features import CladeIndex, History, attempt_features, clade_stats
from darwin_hookspecs import Attempt, Target, TaskResult, Variant

ROOT = "v0000root"
TASKS = 20


class ReferenceWalk:
    """Stands in for ``History.clades``: the old per-attempt walk of the clade."""

    def stats(self, archive: Archive, variant_id: str) -> dict[str, float]:
        return clade_stats(archive, variant_id)


def random_variant(rng: random.Random, index: int, parent: Variant | None) -> Variant:
    results = {}
    for t in rng.sample(range(TASKS), rng.randrange(4, TASKS + 1)):
        passed = rng.random() < 0.6
        results[f"t{t}"] = TaskResult(task_id=f"t{t}", passed=passed, score=float(passed))
    return Variant(
        id=f"v{parent.generation + 1:04d}a{index:05d}" if parent else ROOT, parent_id=parent.id if parent else None,
        generation=parent.generation + 1 if parent else 0, status="accepted",
        score=rng.random(), task_results=results,
    )


def grow(archive: Archive, tree: list[Variant], rng: random.Random, count: int) -> None:
    for _ in range(count):
        parent = rng.choice(tree) if tree else None
        variant = random_variant(rng, len(tree), parent)
        tree.append(variant)
        archive.add(variant)


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def measure(size: int, repeats: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    archive, tree = Archive(), []
    grow(archive, tree, rng, size - 1)
    walk, indexed = History(), History()
    walk.clades = ReferenceWalk()  # type: ignore[assignment]
    cold = timed(lambda: CladeIndex().sync(archive))
    indexed.clades.sync(archive)
    times: dict[str, list[float]] = {key: [] for key in ("walk_root", "index_root", "walk_random", "index_random")}
    for rep in range(repeats):
        grow(archive, tree, rng, 1)  # the Nth variant arrives (N = size + rep)
        for label, parent in (("root", tree[0]), ("random", rng.choice(tree))):
            attempt = Attempt(id=f"a{rep}{label}", generation=parent.generation + 1, index=0,
                              parent_id=parent.id, seed=rep, target=Target(kind="failing_task", task_id="t1"))
            if label == "random":  # the index syncs on the root's query: charge the random one too
                grow(archive, tree, rng, 1)
            for name, history in (("index", indexed), ("walk", walk)):
                times[f"{name}_{label}"].append(timed(
                    lambda a=attempt, p=parent, h=history: attempt_features(a, p, archive, h, generator="bench")))
        new = attempt_features(attempt, parent, archive, indexed, generator="bench")
        old = attempt_features(attempt, parent, archive, walk, generator="bench")
        assert new == old, "the index and the walk disagree"
    medians = {key: statistics.median(values) for key, values in times.items()}
    medians["cold_sync"] = cold
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    ms = 1000.0
    print(f"{'N':>6} {'parent':>6} {'walk ms':>9} {'index ms':>9} {'walk/index':>11}   index cold sync ms")
    for size in args.sizes:
        m = measure(size, args.repeats, args.seed)
        for label in ("root", "random"):
            walk, index = m[f"walk_{label}"], m[f"index_{label}"]
            cold = f"{m['cold_sync'] * ms:.1f}" if label == "root" else ""
            print(f"{size:>6} {label:>6} {walk * ms:>9.3f} {index * ms:>9.3f} {walk / index:>10.1f}x   {cold}")


if __name__ == "__main__":
    main()
