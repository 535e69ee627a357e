"""Attempt throughput: the local executor versus Ray on this machine, for 1, 2 and 4 workers.

Each evaluation has a fixed cost (one task sleeping 0.2 s in the sandbox), so throughput is
bounded by the workers, not by the CPU. Per attempt we measure the executor's overhead: the
orchestrator's wall time for the attempt (submitted -> recorded) minus the time the attempt
itself spent generating and evaluating. Ray's overhead is the difference to the local one.

    .venv/bin/python benchmarks/bench_scale.py [--rounds 2] [--per-worker 8]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TASKS = """\
[benchmark]
timeout = 30

[[task]]
id = "fixed-cost"
command = ["python3", "-c", "import time; time.sleep(%(sleep)s)"]
"""
CONFIG = """\
[run]
name = "bench-scale"
seed = 7
initial = "program"
generations = 2
children_per_generation = %(children)d

[generator]
name = "mutation"

[sandbox]
name = "local"

[benchmark]
name = "custom"
path = "benchmark/tasks.toml"

[executor]
%(executor)s
"""


def make_project(root: Path, workers: int, per_worker: int, executor: str, sleep: float) -> Path:
    root.mkdir(parents=True)
    shutil.copytree(REPO / "examples" / "quickstart" / "program", root / "program")
    (root / "benchmark").mkdir()
    (root / "benchmark" / "tasks.toml").write_text(TASKS % {"sleep": sleep}, encoding="utf-8")
    config = root / "darwin.toml"
    children = workers * per_worker // 2  # two generations
    config.write_text(CONFIG % {"children": children, "executor": executor}, encoding="utf-8")
    return config


def measure(config: Path, run_dir: Path) -> dict[str, float]:
    from darwin_core.config import load_config
    from darwin_core.engine import Engine
    from darwin_core.reader import open_run

    Engine.create(load_config(config), run_dir).run_loop()
    view = open_run(run_dir)
    attempts = [a for a in view.attempts if a.status == "finished"]
    variants = {v.id: v for v in view.variants}
    span = max(a.finished_at for a in attempts) - min(a.started_at for a in attempts)
    overheads = []
    for a in attempts:
        child = variants[a.child_id]  # type: ignore[index]
        inner = child.timings.get("proposal_s", 0.0) + child.timings.get("evaluation_s", 0.0)
        overheads.append((a.finished_at - a.started_at) - inner)
    return {"attempts": len(attempts), "throughput": len(attempts) / span,
            "overhead_ms": statistics.median(overheads) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2, help="repetitions (the median is kept)")
    parser.add_argument("--per-worker", type=int, default=8, help="attempts per worker per run")
    parser.add_argument("--sleep", type=float, default=0.2, help="fixed cost of one evaluation (s)")
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    logging.getLogger("ray").setLevel(logging.WARNING)
    import ray

    t0 = time.perf_counter()
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False, configure_logging=False)
    print(f"local Ray started in {time.perf_counter() - t0:.1f}s (4 CPU slots on a {os.cpu_count()}-core machine)")
    executors = {
        "local": lambda w: f'name = "local"\nmax_workers = {w}',
        "ray": lambda w: f'name = "ray"\nmax_workers = {w}\nnum_cpus = 1',
    }
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="darwin-bench-scale-") as tmp:
        base = Path(tmp)
        # warm-up: Ray starts its worker processes (and they import Darwin) on first use
        warm = make_project(base / "warm", 4, 2, executors["ray"](4), args.sleep)
        measure(warm, base / "warm" / "run")
        for round_ in range(args.rounds):
            for workers in (1, 2, 4):
                for name, section in executors.items():
                    project = base / f"{name}-{workers}-{round_}"
                    config = make_project(project, workers, args.per_worker, section(workers), args.sleep)
                    results.setdefault((name, workers), []).append(measure(config, project / "run"))
    ray.shutdown()

    def med(name: str, workers: int, key: str) -> float:
        return statistics.median(r[key] for r in results[(name, workers)])

    print(f"\nfixed cost per evaluation: {args.sleep:.2f}s sleep in the local sandbox; "
          f"{args.per_worker} attempts per worker; median of {args.rounds} rounds\n")
    print(f"{'workers':>7} | {'local att/s':>11} | {'ray att/s':>9} | {'ray/local':>9} | "
          f"{'local ovh ms':>12} | {'ray ovh ms':>10} | {'ray extra ms':>12} | {'eff local':>9} | {'eff ray':>7}")
    base_local, base_ray = med("local", 1, "throughput"), med("ray", 1, "throughput")
    for workers in (1, 2, 4):
        tl, tr = med("local", workers, "throughput"), med("ray", workers, "throughput")
        ol, orr = med("local", workers, "overhead_ms"), med("ray", workers, "overhead_ms")
        print(f"{workers:>7} | {tl:>11.2f} | {tr:>9.2f} | {tr / tl:>9.2f} | {ol:>12.1f} | {orr:>10.1f} | "
              f"{orr - ol:>12.1f} | {tl / (workers * base_local):>9.2f} | {tr / (workers * base_ray):>7.2f}")
    print("\natt/s: attempts per second (first submit to last record); ovh: per-attempt wall time minus the "
          "attempt's own generation+evaluation time (median); eff: throughput / (workers x 1-worker throughput)")


if __name__ == "__main__":
    sys.exit(main())
