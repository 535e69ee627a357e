"""Start-up on a large run: ``darwin status``, ``archive --json`` and ``resume`` of a finished
run of N no-op attempts (default 10 000), with their wall time, CPU time and peak memory.

The run is made by the engine for one generation (no-op generator and benchmark), then grown
to N attempts by writing records of the same shape through the store API (one batch per 100
generations), so making it takes seconds. Target: each command < 1 s on ``file://``.

    python benchmarks/bench_large_run.py [--attempts 10000] [--sizes 1000,5000,10000]
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import NoOps  # noqa: E402

from darwin_core import Engine, config_from_dict  # noqa: E402
from darwin_core.run import RunHandle  # noqa: E402

CHILDREN = 4
CLI = "from darwin_core.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
RESUME = ("from pathlib import Path\nfrom bench_engine import NoOps\nfrom darwin_core import Engine\n"
          "Engine.open(Path(sys.argv[2]), extra_plugins=[NoOps()]).run_loop()\n")
"""``darwin resume`` with the benchmark's no-op plugins registered (the CLI cannot load them)."""


def make_run(attempts: int, workdir: Path) -> Path:
    program = workdir / "program"
    program.mkdir(exist_ok=True)
    (program / "counter.txt").write_text("0\n")
    generations = attempts // CHILDREN
    config = {
        "run": {"name": "large", "initial": str(program), "children_per_generation": CHILDREN,
                "generations": generations},
        "generator": {"name": "noop"}, "benchmark": {"name": "constant"},
        "executor": {"name": "local", "max_workers": 1},
    }
    run_dir = workdir / f"run-{attempts}"
    cfg = config_from_dict({**config, "run": {**config["run"], "generations": 1}})
    engine = Engine.create(cfg, run_dir, extra_plugins=[NoOps()])
    engine.run_loop()
    engine.handle.close()
    grow(run_dir, generations)
    return run_dir


def grow(run_dir: Path, generations: int) -> None:
    """Add generations 2..``generations`` shaped like generation 1, parents drawn at random."""
    handle = RunHandle.open(run_dir, extra_plugins=[NoOps()])
    store, rng = handle.store, random.Random(1)
    variant0, _ = store.get("variants", "v0001a000")
    attempt0, _ = store.get("attempts", "g0001a000")
    generation0, _ = store.get("generations", "000001")
    ids = [v.id for v in handle.variants]
    for first in range(2, generations + 1, 100):
        with store.batch():
            for g in range(first, min(first + 100, generations + 1)):
                for i in range(CHILDREN):
                    aid, vid, parent = f"g{g:04d}a{i:03d}", f"v{g:04d}a{i:03d}", rng.choice(ids)
                    variant = {**copy.deepcopy(variant0), "id": vid, "parent_id": parent, "generation": g,
                               "attempt_id": aid, "score": rng.random()}
                    attempt = {**copy.deepcopy(attempt0), "id": aid, "generation": g, "index": i,
                               "parent_id": parent, "child_id": vid}
                    store.put("variants", vid, variant, create=True)
                    store.put("attempts", aid, attempt, create=True)
                    ids.append(vid)
                store.put("generations", f"{g:06d}", {**generation0, "generation": g, "attempts": [
                    f"g{g:04d}a{i:03d}" for i in range(CHILDREN)]}, create=True)
    run, _ = store.get("run", "run")
    store.put("run", "run", {**run, "status": "completed"}, create=False)
    handle.close()


def timed(args: list[str]) -> tuple[float, float, float]:
    """Wall time, CPU time (s) and peak RSS (MB) of one command in a fresh interpreter."""
    code = ("import atexit, resource, sys; sys.argv = ['darwin', *sys.argv[1:]]\n"
            "atexit.register(lambda: print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))\n"
            + (RESUME if args[0] == "resume" else CLI))
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-c", code, *args], check=True, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(
                              [str(Path(__file__).resolve().parent), *sys.path])})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return time.perf_counter() - start, cpu, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000", help="comma-separated attempt counts")
    args = parser.parse_args()
    base = timed(["--help"])
    print(f"load average {os.getloadavg()}; `darwin --help` (interpreter and imports): "
          f"{base[0]:.2f} s wall, {base[1]:.2f} s CPU")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            start = time.perf_counter()
            run_dir = make_run(size, Path(tmp))
            made = time.perf_counter() - start
            print(f"{size} attempts (made in {made:.1f} s):")
            for name, cmd in (("status", ["status", str(run_dir)]),
                              ("archive --json", ["archive", str(run_dir), "--json"]),
                              ("resume (finished run)", ["resume", str(run_dir), "-q"])):
                wall, cpu, rss = timed(cmd)
                print(f"  {name:22} {wall:6.2f} s wall  {cpu:6.2f} s CPU  peak RSS {rss:6.1f} MB")


if __name__ == "__main__":
    main()
