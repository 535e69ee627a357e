"""Start-up on a large run: ``darwin status``, ``archive --json`` and ``resume`` of a finished
run of N no-op attempts (default 10 000), with their wall time, CPU time and peak memory, on
``file://`` and on S3 (moto's server on loopback), and parent selection's cost per attempt at
1 000 against 10 000 variants (:mod:`large_run_selection`).

The run is made by the engine for one generation (no-op generator and benchmark), then grown
to N attempts by writing records of the same shape through the store API (one batch per 100
generations), so making it takes seconds; the S3 copy is written record by record by 32
threads. Targets: each command < 1 s on ``file://``, < 5 s on S3; selection O(1) per attempt.
Commands run in fresh interpreters, taking turns (``--reps`` rounds); figures are medians.

    python benchmarks/bench_large_run.py [--sizes 1000,10000] [--reps 3] [--no-s3]
        [--selection-generations 25] [--no-selection] [--workdir DIR] [--against TREE]
    python benchmarks/bench_large_run.py --engine-memory 2000,10000 [--against TREE]
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
          "try:\n    from darwin_core.resume_check import finished_run\n"
          "except ImportError:  # a tree from before the check\n    finished_run = lambda run_dir: None\n"
          "if finished_run(Path(sys.argv[2])) is None:\n"
          "    Engine.open(Path(sys.argv[2]), extra_plugins=[NoOps()]).run_loop()\n")
"""``darwin resume`` with the benchmark's no-op plugins registered (the CLI cannot load them):
the CLI's check for a run with nothing left first (:mod:`darwin_core.resume_check`, when the
tree has it), then the engine."""


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


def timed(args: list[str], tree: Path | None = None) -> tuple[float, float, float]:
    """Wall time, CPU time (s) and peak RSS (MB) of one command in a fresh interpreter (with
    ``tree``: that checkout's ``src``, ``hookspecs/src`` and ``plugins`` first on the path)."""
    # VmHWM, not ru_maxrss: Linux carries the forking parent's peak into a child's ru_maxrss
    code = ("import atexit, sys; sys.argv = ['darwin', *sys.argv[1:]]\n"
            "atexit.register(lambda: print([l.split()[1] for l in open('/proc/self/status') "
            "if l.startswith('VmHWM')][0], file=sys.stderr))\n"
            + (RESUME if args[0] == "resume" else CLI))
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-c", code, *args], check=True, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(
                              [str(Path(__file__).resolve().parent),
                               *([str(tree / "src"), str(tree / "hookspecs/src"), str(tree / "plugins")] if tree else []),
                               *sys.path])})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return time.perf_counter() - start, cpu, int(done.stderr.strip().splitlines()[-1]) / 1024


class MotoServer:
    """moto's S3 server on 127.0.0.1 (a subprocess), with a bucket ``bench``."""

    def __init__(self, log: Path) -> None:
        from bench_storage import free_port, wait_port

        self.port = free_port()
        self.proc = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1",
                                      "-p", str(self.port)], stdout=log.open("ab"), stderr=subprocess.STDOUT)
        wait_port(self.port)
        os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
        import boto3

        boto3.client("s3", endpoint_url=self.endpoint).create_bucket(Bucket="bench")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def to_s3(run_dir: Path, server: MotoServer, name: str) -> Path:
    """A copy of the run in ``s3://bench/NAME`` and a run directory pointing at it."""
    from concurrent.futures import ThreadPoolExecutor

    from darwin_core.commands.export import write_run_dir
    from darwin_core.run import RunSource
    from darwin_core.rundir import open_storage

    handle = RunHandle.open(run_dir, extra_plugins=[NoOps()], load=False)
    source, url, options = handle.storage, f"s3://bench/{name}", {"endpoint_url": server.endpoint}
    dest = open_storage(handle.plugins, url, options)
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda key: dest.put_blob(source.get_blob(key)), list(source.iter_blob_keys())))
        for collection in [c for c in source.collections() if c != "run"] + ["run"]:
            list(pool.map(lambda item, c=collection: dest.put_record(c, item[0], item[1]),
                          list(source.scan(collection))))
    target = run_dir.parent / f"{run_dir.name}-s3"
    if target.exists():  # left by an earlier call with --workdir (its server is gone)
        import shutil

        shutil.rmtree(target)
    write_run_dir(target, RunSource(source, handle.pointer, {}), url, options)
    handle.close()
    dest.close()
    return target


ENGINE = ("import sys, time\nfrom pathlib import Path\nfrom bench_engine import NoOps\n"
          "from darwin_core import Engine, config_from_dict\n"
          "n, workdir = int(sys.argv[1]), Path(sys.argv[2])\n"
          "(workdir / 'program').mkdir(parents=True, exist_ok=True)\n"
          "(workdir / 'program' / 'counter.txt').write_text('0\\n')\n"
          "cfg = config_from_dict({'run': {'name': 'mem', 'initial': str(workdir / 'program'), "
          "'children_per_generation': 4, 'generations': n // 4}, 'generator': {'name': 'noop'}, "
          "'benchmark': {'name': 'constant'}, 'executor': {'name': 'local', 'max_workers': 1}})\n"
          "start = time.perf_counter()\n"
          "Engine.create(cfg, workdir / 'run', extra_plugins=[NoOps()]).run_loop()\n"
          "print(time.perf_counter() - start, [l.split()[1] for l in open('/proc/self/status') "
          "if l.startswith('VmHWM')][0])\n")
"""A run of N no-op attempts by the engine, in a fresh interpreter: its wall time and peak memory."""


def engine_memory(attempts: int, tree: Path | None) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MB, ``VmHWM``) of the engine running ``attempts`` no-op attempts."""
    with tempfile.TemporaryDirectory() as tmp:
        path = [str(Path(__file__).resolve().parent),
                *([str(tree / "src"), str(tree / "hookspecs/src"), str(tree / "plugins")] if tree else []), *sys.path]
        done = subprocess.run([sys.executable, "-c", ENGINE, str(attempts), tmp], check=True, capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(path)})
        wall, peak = done.stdout.split()[-2:]
        return float(wall), int(peak) / 1024


COMMANDS = (("status", ["status"]), ("archive --json", ["archive", "--json"]), ("resume (finished run)", ["resume", "-q"]))


def commands(run_dir: Path) -> list[tuple[str, list[str]]]:
    return [(name, [argv[0], str(run_dir), *argv[1:]]) for name, argv in COMMANDS]


def main() -> None:
    import statistics

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated attempt counts")
    parser.add_argument("--reps", type=int, default=3, help="interleaved rounds of every command")
    parser.add_argument("--no-s3", action="store_true", help="file:// only")
    parser.add_argument("--no-selection", action="store_true", help="skip the selection figures")
    parser.add_argument("--selection-generations", type=int, default=25)
    parser.add_argument("--workdir", type=Path, help="keep the runs here and reuse them on the next call "
                        "(default: a temporary directory)")
    parser.add_argument("--against", type=Path, help="another checkout (git worktree add DIR REV): its "
                        "commands on the same runs, taking turns with this one's")
    parser.add_argument("--engine-memory", default="", help="comma-separated attempt counts: the engine's "
                        "peak memory running that many no-op attempts (then exit)")
    args = parser.parse_args()
    if args.engine_memory:
        for size in [int(s) for s in args.engine_memory.split(",")]:
            for label, tree in [("this", None)] + ([("other", args.against.resolve())] if args.against else []):
                wall, peak = engine_memory(size, tree)
                print(f"  {label:5} engine {size:6} attempts: {wall:7.1f} s wall  peak RSS {peak:6.1f} MB", flush=True)
        return
    trees: list[tuple[str, Path | None]] = [("this", None)] + ([("other", args.against.resolve())] if args.against else [])
    sizes = [int(s) for s in args.sizes.split(",")]
    base = timed(["--help"])
    print(f"load average {os.getloadavg()}; `darwin --help` (interpreter and imports): "
          f"{base[0]:.2f} s wall, {base[1]:.2f} s CPU")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.workdir.resolve() if args.workdir else Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        server = None if args.no_s3 else MotoServer(Path(scratch) / "moto.log")
        try:
            runs: dict[tuple[str, int], Path] = {}
            for size in sizes:
                start = time.perf_counter()
                kept = tmp / f"run-{size}"
                runs[("file", size)] = kept if (kept / "run.json").is_file() else make_run(size, tmp)
                made = time.perf_counter() - start
                if server is not None:
                    start = time.perf_counter()
                    runs[("s3", size)] = to_s3(runs[("file", size)], server, f"large-{size}")
                    print(f"{size} attempts: made in {made:.1f} s, copied to S3 in {time.perf_counter() - start:.1f} s")
                    for name, cmd in commands(runs[("s3", size)]):  # the first read on S3 packs the records
                        wall, cpu, _ = timed(cmd)
                        print(f"  s3 cold {name:22} {wall:6.2f} s wall  {cpu:6.2f} s CPU")
            figures: dict[tuple[str, str, int, str], list[tuple[float, float, float]]] = {}
            for _ in range(args.reps):
                for (backend, size), run_dir in runs.items():
                    for name, cmd in commands(run_dir):
                        for label, tree in trees:
                            figures.setdefault((label, backend, size, name), []).append(timed(cmd, tree))
            print(f"median of {args.reps} interleaved rounds (load average now {os.getloadavg()}):")
            for (backend, size), _ in runs.items():
                for name, _ in COMMANDS:
                    for label, _ in trees:
                        got = figures[(label, backend, size, name)]
                        wall, cpu, rss = (statistics.median(x[i] for x in got) for i in range(3))
                        print(f"  {label:5} {backend:4} {size:6} {name:22} {wall:6.2f} s wall  {cpu:6.2f} s CPU  "
                              f"peak RSS {rss:6.1f} MB")
        finally:
            if server is not None:
                server.stop()
    if not args.no_selection:
        from large_run_selection import report

        report(sizes, args.reps, args.selection_generations)


if __name__ == "__main__":
    main()
