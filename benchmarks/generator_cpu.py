"""The mutation generator's CPU per attempt, trees side by side.

    python benchmarks/generator_cpu.py --trees /tmp/a /tmp/b [--rounds 4] [--programs NAME ...] [--n 60]

Each round runs, for each tree in turn (the order alternating between rounds), in a fresh
process with that tree's ``src``, ``hookspecs/src`` and ``plugins`` on the path:

- ``quickstart``: ``darwin run examples/quickstart/darwin.toml --seed 1 -q`` (the tree's own
  example; a fresh run directory) in-process, with ``MutationGenerator.propose`` wrapped to sum
  its thread CPU (``time.thread_time``): the generator's CPU per attempt, the whole process's CPU
  per attempt (``getrusage(RUSAGE_SELF)``: the orchestrator with its threads, start-up included;
  the evaluations are forked children, not counted) and the wall per attempt;
- each seen suite program named by ``--programs``: the root's first ``n`` proposals with the
  defaults (``root_proposals.root_proposals``), the CPU of the ``propose`` calls per proposal.

Prints one JSON line per tree and row, then the medians per tree and the ratio to the first tree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _wrap_propose() -> dict[str, float]:
    from darwin_plugins.mutation import generator as g

    acc = {"calls": 0, "cpu": 0.0}
    original = g.MutationGenerator.propose

    def propose(self, context):  # type: ignore[no-untyped-def]
        start = time.thread_time()
        try:
            return original(self, context)
        finally:
            acc["calls"] += 1
            acc["cpu"] += time.thread_time() - start

    g.MutationGenerator.propose = propose  # type: ignore[method-assign]
    return acc


def quickstart(tree: Path) -> dict:
    import resource

    from darwin_core.cli import main

    acc = _wrap_propose()
    with tempfile.TemporaryDirectory() as tmp:
        sys.argv = ["darwin", "run", str(tree / "examples/quickstart/darwin.toml"), "--run-dir", f"{tmp}/run",
                    "-q", "--seed", "1"]
        wall = time.perf_counter()
        try:
            main()
        except SystemExit:
            pass
        wall = time.perf_counter() - wall
    usage = resource.getrusage(resource.RUSAGE_SELF)
    n = max(acc["calls"], 1)
    return {"row": "quickstart", "attempts": acc["calls"], "generator_ms": 1000 * acc["cpu"] / n,
            "process_cpu_ms": 1000 * (usage.ru_utime + usage.ru_stime) / n, "wall_ms": 1000 * wall / n}


def program(name: str, n: int) -> dict:
    sys.path.insert(0, str(HERE))
    from proposal_hash import seen_cases
    from root_proposals import root_proposals

    import bench_repair as br

    acc = _wrap_propose()
    with tempfile.TemporaryDirectory() as tmp:
        problem = br.materialize(seen_cases()[name], Path(tmp) / "p")
        for k, *_ in root_proposals(problem, Path(tmp) / "w", options={"pairs": 20}):
            if k + 1 >= n:
                break
    return {"row": name, "attempts": acc["calls"], "generator_ms": 1000 * acc["cpu"] / max(acc["calls"], 1)}


def _child(tree: Path, row: str, n: int) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(tree / p) for p in ("src", "hookspecs/src", "plugins"))}
    out = subprocess.run([sys.executable, __file__, "--child", row, "--tree", str(tree), "--n", str(n)],
                         env=env, capture_output=True, text=True, check=True, cwd=tree)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trees", nargs="+", type=Path)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--programs", nargs="*", default=[])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--child")
    parser.add_argument("--tree", type=Path)
    args = parser.parse_args()
    if args.child:
        row = quickstart(args.tree) if args.child == "quickstart" else program(args.child, args.n)
        print(json.dumps(row))
        return 0
    rows: dict[tuple[str, str], list[dict]] = {}
    for r in range(args.rounds):
        trees = args.trees if r % 2 == 0 else args.trees[::-1]
        for name in ["quickstart", *args.programs]:
            for tree in trees:
                row = {**_child(tree.resolve(), name, args.n), "tree": str(tree), "round": r,
                       "load": os.getloadavg()[0]}
                print(json.dumps(row), flush=True)
                rows.setdefault((name, str(tree)), []).append(row)
    for name in ["quickstart", *args.programs]:
        base = None
        for tree in args.trees:
            got = rows[(name, str(tree))]
            med = {k: statistics.median(x[k] for x in got) for k in ("generator_ms", "process_cpu_ms", "wall_ms")
                   if k in got[0]}
            base = base or med
            ratio = med["generator_ms"] / base["generator_ms"]
            print(f"{name:14s} {str(tree):18s} " + "  ".join(f"{k} {v:.1f}" for k, v in med.items())
                  + f"  generator ratio {ratio:.2f}  attempts {[x['attempts'] for x in got]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
