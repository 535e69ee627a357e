"""Engine speed, measured side by side in one run (figures recorded in docs/engine.md).

1. Loop overhead per attempt: a no-op generator and a no-op benchmark, so what remains is
   the engine's own work: planning, selection, job building, the executor hand-off, snapshot
   and diff, and the durable (fsynced) writes of attempt and variant records. Target < 5 ms.
2. End-to-end cost of one mutation attempt on the quickstart program (generate with libcst,
   apply, evaluate its 16 pytest-style tests in the sandbox, record), against the floor of
   forking a child that imports the test file and runs every test function. Target <= 2x.

3. With ``--against DIR`` (a checkout of another revision, e.g. ``git worktree add /tmp/old
   REV``): only the loop overhead, measured ``--rounds`` times for this checkout and for DIR,
   interleaved (this, DIR, this, DIR...) in fresh interpreters, so both see the same load.

    python benchmarks/bench_engine.py [--attempts N]
    python benchmarks/bench_engine.py --against /tmp/old [--attempts N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from darwin_core import Engine, config_from_dict
from darwin_hookspecs import Proposal, TaskResult, TaskSpec, hookimpl

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart"


class NoOps:
    @hookimpl
    def darwin_register_generators(self, registry):
        class Touch:
            def propose(self, context):
                return Proposal(changes={"counter.txt": f"{context.attempt_id}\n"}, improvement_type="noop")

        registry.add("noop", lambda o, c: Touch())

    @hookimpl
    def darwin_register_benchmarks(self, registry):
        class Constant:
            mode = "program"

            def tasks(self):
                return [TaskSpec(id=f"t{i}") for i in range(4)]

            def evaluate(self, variant_dir, tasks, sandbox):
                return [TaskResult(t.id, True, 1.0) for t in tasks]

        registry.add("constant", lambda o, c: Constant())


COMMITS: dict[str, int] = {}
"""Durable commits (SQLite transactions) of the last run per name, when the backend counts them."""


def _timed_run(config: dict, run_dir: Path, source: Path | None = None, plugins=()) -> tuple[float, float, int]:
    """Wall time and this process's CPU time (every thread) of one run, and its attempts."""
    engine = Engine.create(config_from_dict(config, source=source), run_dir, extra_plugins=list(plugins))
    start, cpu = time.perf_counter(), time.process_time()
    summary = engine.run_loop()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    COMMITS[run_dir.name] = getattr(engine.storage, "commits", -1)
    return elapsed, cpu, summary.attempts


def steady_state(config: dict, workdir: Path, name: str, attempts: int, source: Path | None = None,
                 plugins=()) -> tuple[float, float]:
    """Per-attempt wall and CPU time with start-up cost removed: runs of N and 2N attempts,
    differenced. CPU time is what a loaded machine disturbs least."""
    results = []
    for n in (attempts, 2 * attempts):
        cfg = {**config, "run": {**config["run"], "generations": n // config["run"]["children_per_generation"]}}
        elapsed, cpu, done = _timed_run(cfg, workdir / f"{name}-{n}", source, plugins)
        assert done == n, (done, n)
        results.append((elapsed, cpu))
    COMMITS[name] = COMMITS[f"{name}-{2 * attempts}"] - COMMITS[f"{name}-{attempts}"]
    return (results[1][0] - results[0][0]) / attempts, (results[1][1] - results[0][1]) / attempts


def record_sizes(run_dir: Path) -> dict[str, int]:
    """Mean size in bytes of a no-op child's records and blobs, read back from a finished run."""
    import sqlite3

    conn = sqlite3.connect(run_dir / "store" / "darwin.sqlite3")
    sizes = {c: int(conn.execute("SELECT avg(length(value)) FROM records WHERE collection = ?", (c,)).fetchone()[0])
             for c in ("variants", "attempts")}
    sizes["blob"] = int(conn.execute("SELECT avg(length(data)) FROM blobs").fetchone()[0])
    conn.close()
    return sizes


def sqlite_floor(sizes: dict[str, int], attempts: int, workdir: Path) -> float:
    """The floor: one SQLite transaction per attempt (WAL, synchronous=FULL) inserting a variant,
    two blobs (the changed file, the diff) and updating the attempt, with the same sizes."""
    import sqlite3

    path = workdir / "floor.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE records (collection TEXT, key TEXT, value TEXT, version TEXT, PRIMARY KEY (collection, key))")
    conn.execute("CREATE TABLE blobs (key TEXT PRIMARY KEY, data BLOB)")
    for i in range(attempts):
        conn.execute("INSERT INTO records VALUES ('attempts', ?, ?, 'v0')", (f"a{i}", "x" * sizes["attempts"]))
    start = time.perf_counter()
    for i in range(attempts):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO records VALUES ('variants', ?, ?, 'v1')", (f"v{i}", "x" * sizes["variants"]))
        for b in range(2):
            conn.execute("INSERT INTO blobs VALUES (?, ?)", (f"{i}-{b}", os.urandom(sizes["blob"])))
        conn.execute("UPDATE records SET value = ?, version = 'v1' WHERE collection = 'attempts' AND key = ?",
                     ("y" * sizes["attempts"], f"a{i}"))
        conn.execute("COMMIT")
    elapsed = (time.perf_counter() - start) / attempts
    conn.close()
    path.unlink()
    return elapsed


def loop_overhead(attempts: int, workdir: Path, fsync: bool = True) -> tuple[float, float]:
    program = workdir / "noop-program"
    program.mkdir(exist_ok=True)
    (program / "counter.txt").write_text("0\n")
    config = {
        "run": {"name": "bench", "initial": str(program), "children_per_generation": 4},
        "generator": {"name": "noop"}, "benchmark": {"name": "constant"},
        "executor": {"name": "local", "max_workers": 1},
        "storage": {"fsync": fsync},
    }
    return steady_state(config, workdir, f"noop-{fsync}", attempts, plugins=[NoOps()])


def overhead_figures(attempts: int, workdir: Path) -> dict[str, float]:
    """Loop overhead with fsync on and off, durable commits per attempt and the SQLite floor."""
    on, off = loop_overhead(attempts, workdir), loop_overhead(attempts, workdir, fsync=False)
    floor = sqlite_floor(record_sizes(workdir / f"noop-True-{2 * attempts}"), attempts, workdir)
    return {"fsync_on": on[0], "fsync_off": off[0], "cpu_fsync_on": on[1], "cpu_fsync_off": off[1],
            "sqlite_floor": floor, "ratio_floor": on[0] / floor,
            "commits_per_attempt": COMMITS["noop-True"] / attempts}


def mutation_attempt(attempts: int, workdir: Path) -> float:
    example = workdir / "quickstart"
    shutil.copytree(QUICKSTART, example)
    config = {
        "run": {"name": "bench", "initial": "program", "children_per_generation": 2},
        "benchmark": {"name": "custom", "path": "benchmark/tasks.toml"},
        "executor": {"name": "local", "max_workers": 1},
        "sandbox": {"name": "local", "isolation": "none"},
    }
    return steady_state(config, workdir, "mutation", attempts, source=example / "darwin.toml")[0]


def fsync_latency(workdir: Path, n: int = 50) -> float:
    import os

    path = workdir / "fsync-probe"
    times = []
    with open(path, "wb") as fh:
        for _ in range(n):
            fh.write(b"x" * 512)
            fh.flush()
            start = time.perf_counter()
            os.fsync(fh.fileno())
            times.append(time.perf_counter() - start)
    return statistics.median(times)


FLOOR = """
import sys, importlib.util
sys.path.insert(0, ".")
spec = importlib.util.spec_from_file_location("t", "tests/test_textstats.py")
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
for name in dir(module):
    if name.startswith("test_"):
        try:
            getattr(module, name)()
        except Exception:
            pass
"""


def fork_floor(runs: int, workdir: Path) -> float:
    cwd = workdir / "floor"
    shutil.copytree(QUICKSTART / "program", cwd)
    shutil.copytree(QUICKSTART / "benchmark" / "tests", cwd / "tests")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", FLOOR], cwd=cwd, check=True)
        times.append(time.perf_counter() - start)
    return statistics.mean(times)


def overhead_in(tree: Path, attempts: int) -> dict[str, float]:
    """Loop overhead (wall and CPU, fsync on and off) measured in a fresh interpreter importing
    ``tree``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        str(tree / part) for part in ("src", "hookspecs/src", "plugins"))}
    done = subprocess.run([sys.executable, __file__, "--overhead-only", "--attempts", str(attempts)],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"measuring {tree} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(other: Path, attempts: int, rounds: int) -> None:
    trees = {"this": REPO, "other": other.resolve()}
    figures: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    before = os.getloadavg()
    for _ in range(rounds):
        for name, tree in trees.items():
            figures[name].append(overhead_in(tree, attempts))
    print(f"loop overhead per attempt, {rounds} interleaved rounds of {attempts} + {2 * attempts} "
          f"attempts (median [min-max], ms); this = {REPO}, other = {other}")
    print(f"  load average before / after: {before} / {os.getloadavg()}")
    for key in ("fsync_on", "fsync_off", "cpu_fsync_on", "cpu_fsync_off", "sqlite_floor", "ratio_floor",
                "commits_per_attempt"):
        scale = 1 if key in ("ratio_floor", "commits_per_attempt") else 1000
        for name in trees:
            values = [f[key] * scale for f in figures[name]]
            print(f"  {key:13} {name:5}: {statistics.median(values):7.2f} [{min(values):.2f}-{max(values):.2f}]")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=200, help="a multiple of 4")
    parser.add_argument("--against", type=Path, help="another checkout to compare loop overhead with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--overhead-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.against is not None:
        compare(args.against, args.attempts, args.rounds)
        return
    if args.overhead_only:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(overhead_figures(args.attempts, Path(tmp))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        fsync = fsync_latency(workdir)
        figures = overhead_figures(args.attempts, workdir)
        overhead, cpu = figures["fsync_on"], figures["cpu_fsync_on"]
        overhead_nosync, cpu_nosync = figures["fsync_off"], figures["cpu_fsync_off"]
        mutation = mutation_attempt(max(20, args.attempts // 4), workdir)
        floor = fork_floor(30, workdir)
    print(f"median fsync latency on this disk:                                   {fsync * 1000:.2f} ms")
    print(f"loop overhead per attempt (no-op generator and benchmark, fsync on): {overhead * 1000:.2f} ms"
          f"  [target <= 2 ms]")
    print(f"SQLite-FULL floor (one transaction per attempt, same record sizes):  {figures['sqlite_floor'] * 1000:.2f} ms"
          f"; overhead / floor {figures['ratio_floor']:.1f}x  [target <= 5x]; durable commits per attempt "
          f"{figures['commits_per_attempt']:.2f}")
    print(f"loop overhead per attempt, fsync off (engine CPU only):              {overhead_nosync * 1000:.2f} ms")
    print(f"orchestrator CPU per attempt, fsync on / off:                        {cpu * 1000:.2f} / "
          f"{cpu_nosync * 1000:.2f} ms")
    print(f"one mutation attempt end to end (generate, apply, 16 tests, record):   {mutation * 1000:.1f} ms")
    print(f"floor: fork a child that imports the tests and runs them:               {floor * 1000:.1f} ms")
    print(f"ratio mutation attempt / floor: {mutation / floor:.2f}x  [target <= 2x]")


if __name__ == "__main__":
    main()
