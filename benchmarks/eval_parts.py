"""The quickstart's evaluation split into its sandbox runs (tests, probes) and the rest, for one
or more trees, interleaved.

    python benchmarks/eval_parts.py [--trees A B] [--n 25] [--rounds 4] [--sandbox docker]

Each round measures every tree in a fresh interpreter (``git archive`` of each tree into a
directory): the custom benchmark evaluates the quickstart's program ``--n`` times through the
default warm ``local`` sandbox (or ``--sandbox docker`` / ``podman`` with its defaults: engines up
with ``ci/services.sh start``, environment from ``/run/darwin/services.env``); per part the median of the runs after three warm-ups. Prints one
line per tree and round, then per tree the median over the rounds.
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

REPO = Path(__file__).resolve().parents[1]


def measure(n: int) -> dict[str, float]:
    """Medians (ms) of one tree's evaluation parts, in this interpreter."""
    from darwin_core.plugins import PluginManager
    from darwin_hookspecs import BuildContext

    quickstart = Path(os.environ["EVAL_PARTS_TREE"]) / "examples" / "quickstart"
    pm = PluginManager()
    with tempfile.TemporaryDirectory() as tmp:
        bench = pm.create("benchmark", "custom", {"path": str(quickstart / "benchmark" / "tasks.toml")},
                          BuildContext(run_id="b", run_dir=Path(tmp), config_dir=quickstart))
        name = os.environ.get("EVAL_PARTS_SANDBOX", "local")
        sandbox = pm.create("sandbox", name, {"warm": True} if name == "local" else {}, BuildContext(run_id="b"))
        runs: list[tuple[str, float]] = []
        run = sandbox.run

        def timed(request):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            result = run(request)
            runs.append((Path(request.argv[1]).stem, time.perf_counter() - start))  # one row per script
            return result
        sandbox.run = timed  # type: ignore[method-assign]
        tasks = [t for t in bench.tasks() if not t.holdout]
        samples: list[dict[str, float]] = []
        for _ in range(n + 3):
            runs.clear()
            start = time.perf_counter()
            bench.evaluate(quickstart / "program", tasks, sandbox)
            total = time.perf_counter() - start
            parts = {name: seconds for name, seconds in runs}
            samples.append({"evaluate": total, **parts, "rest": total - sum(parts.values())})
        sandbox.close()
        bench.close()
    return {k: statistics.median(s[k] for s in samples[3:]) * 1000 for k in samples[-1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", nargs="+", type=Path, default=[REPO])
    parser.add_argument("--n", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--sandbox", default="local", choices=["local", "docker", "podman"])
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.n)))
        return 0
    figures: dict[Path, list[dict[str, float]]] = {t: [] for t in args.trees}
    print(f"load {os.getloadavg()[0]:.1f}, sandbox {args.sandbox}")
    for r in range(args.rounds):
        for tree in args.trees if r % 2 == 0 else list(reversed(args.trees)):
            env = {**os.environ, "EVAL_PARTS_TREE": str(tree.resolve()), "EVAL_PARTS_SANDBOX": args.sandbox,
                   "PYTHONPATH": os.pathsep.join(str(tree / p) for p in ("src", "hookspecs/src", "plugins"))}
            done = subprocess.run([sys.executable, __file__, "--one", "--n", str(args.n)], env=env,
                                  capture_output=True, text=True, check=True)
            row = json.loads(done.stdout.strip().splitlines()[-1])
            figures[tree].append(row)
            print(tree, " ".join(f"{k} {v:.1f}" for k, v in row.items()), flush=True)
    print(f"load {os.getloadavg()[0]:.1f}")
    for tree, rows in figures.items():
        print("median", tree, " ".join(f"{k} {statistics.median(r[k] for r in rows):.1f}" for k in rows[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
