"""Per-evaluation overhead of every sandbox, measured side by side in one run.

    python benchmarks/bench_sandbox.py [--n 20] [--engines docker,podman] [--skip-engines]
    python benchmarks/bench_sandbox.py --warm [--n 15] [--rounds 5]      # cold vs warm local
    python benchmarks/bench_sandbox.py --mutation [--attempts 20] [--rounds 2]
    python benchmarks/bench_sandbox.py --peer [--n 20] [--rounds 5] [--gap-ms 5] [--against DIR]

``--warm``: a bare spawn of ``python -c pass`` and the ``local`` sandbox cold and warm (with and
without bubblewrap), interleaved: each round measures every row (median of ``--n`` runs) in a
shuffled order, and the ratios to the bare spawn are taken within a round (target for the warm
fork with bubblewrap: <= 0.5x). ``--mutation``: one mutation attempt of the quickstart end to end
(engine, generate, 16 tests through the default ``local`` sandbox) cold and warm, against the
floor of spawning a child that imports the tests and runs them (target <= 1.5x), interleaved.
``--peer``: bench_peer's evaluation (``benchmarks/peer_problem``: the custom benchmark's command
task ``python evaluator.py program.py``) through the default ``local`` sandbox (warm, bubblewrap,
cgroups), whole (evaluation copy, staging, run, clean-up) and the sandbox's run alone, against
the floor of a warm fork without a sandbox (a small interpreter that imported the evaluator's
imports forks a child per request that runs the evaluator, ``runpy`` as the sandbox does) and a
bare spawn, interleaved as ``--warm``; ``--gap-ms`` leaves idle time before each evaluation, as
the engine's own work between two evaluations does (the warm server forks its next child then);
``--against DIR`` adds the two sandbox rows for another checkout's ``local`` sandbox (e.g. ``git
archive main | tar -x -C DIR``), in the same process and rounds.

One "evaluation" = run ``python -c pass`` in a small working copy (3 files) and get its result
back. Rows: a bare subprocess; ``local`` (no bubblewrap); ``local`` with bubblewrap; for each
engine a bare ``exec`` into a running container (the ``docker exec`` CLI and the SDK's
``exec_run``), the sandbox cold (``pool_size = 0``: a container per evaluation, like ``docker
run --rm``) and pooled (warm containers). Figures are medians (ms); ratios are computed from
figures of this same run. Targets: local <= 1.5x bare, local+bwrap <= 3.5x bare, pooled >= 3x
faster than cold, pooled <= 1.5x a bare ``docker exec``. Needs the engines up
(``ci/services.sh start``) and the image built (``ci/build-image.sh``).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from darwin_hookspecs import BuildContext, ExecRequest
from darwin_core.plugins import PluginManager

IMAGE = "darwin-sandbox:latest"
SERVICES_ENV = Path("/run/darwin/services.env")


def load_env() -> None:
    if SERVICES_ENV.exists():
        for line in SERVICES_ENV.read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, _, value = line.removeprefix("export ").partition("=")
                os.environ.setdefault(key.strip(), value.strip())


def median_ms(fn: Callable[[], Any], n: int, warmup: int = 2, gap_s: float = 0.0) -> float:
    """Median wall time of ``fn`` (ms), with ``gap_s`` of idle time before each call (untimed)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        time.sleep(gap_s)
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    for i in range(3):
        (path / f"file{i}.py").write_text(f"X = {i}\n" * 20)
    path.chmod(0o777)
    return path


def sandbox_ms(pm: PluginManager, name: str, options: dict[str, Any], n: int, wd: Path,
               python: str) -> float:
    sandbox = pm.create("sandbox", name, options, BuildContext(run_id="bench"))
    request = ExecRequest(argv=[python, "-c", "pass"], workdir=wd, timeout_s=60)
    try:
        first = sandbox.run(request)
        assert first.exit_code == 0, first
        return median_ms(lambda: sandbox.run(request), n)
    finally:
        sandbox.close()


def engine_rows(pm: PluginManager, engine: str, n: int, wd: Path) -> dict[str, float]:
    import docker

    host = os.environ.get(f"DARWIN_{engine.upper()}_HOST") or (
        "unix:///var/run/docker.sock" if engine == "docker" else "unix:///run/darwin/podman.sock")
    client = docker.DockerClient(base_url=host, timeout=120)
    container = client.containers.create(
        IMAGE, ["sleep", "infinity"], network_mode="none", user="1000:1000", read_only=True,
        tmpfs={"/work": "size=64m,mode=1777"}, labels={"darwin.run": "bench"})
    container.start()
    rows: dict[str, float] = {}
    try:
        cli = [engine, "--url", host] if engine == "podman" else ["docker", "-H", host]
        env = dict(os.environ)
        rows[f"{engine} exec (CLI)"] = median_ms(lambda: subprocess.run(
            [*cli, "exec", container.id, "python3", "-c", "pass"], check=True, env=env,
            capture_output=True), n)
        rows[f"{engine} exec (SDK)"] = median_ms(
            lambda: container.exec_run(["python3", "-c", "pass"]), n)
    finally:
        container.remove(force=True)
    rows[f"{engine} cold"] = sandbox_ms(pm, engine, {"pool_size": 0}, max(5, n // 2), wd, "python3")
    rows[f"{engine} pooled"] = sandbox_ms(pm, engine, {"pool_size": 1}, n, wd, "python3")
    return rows


LOCAL_ROWS: dict[str, dict[str, Any]] = {
    "local cold": {"isolation": "none", "warm": False},
    "local warm": {"isolation": "none", "warm": True},
    "local cold + bwrap": {"isolation": "bwrap", "warm": False},
    "local warm + bwrap": {"isolation": "bwrap", "warm": True},
}


def interleaved(runs: dict[str, Callable[[], Any]], rounds: int,
                measure: Callable[[Callable[[], Any]], float]) -> dict[str, list[float]]:
    """``measure`` of every run once per round, the runs in a fresh random order each round."""
    figures: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        order = list(runs)
        random.shuffle(order)
        for name in order:
            figures[name].append(measure(runs[name]))
    return figures


def print_ratios(figures: dict[str, list[float]], base: str) -> None:
    """Each row's median ms and its median ratio to ``base``'s figure of the same round."""
    for name, values in figures.items():
        ratios = [v / b for v, b in zip(values, figures[base])]
        print(f"{name:22} {statistics.median(values):10.1f} {statistics.median(ratios):8.2f}x "
              f"[{min(ratios):.2f}-{max(ratios):.2f}]")


def load_line() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def warm_rows(n: int, rounds: int) -> int:
    """Bare spawn against the local sandbox cold and warm, interleaved, ratios per round."""
    pm = PluginManager()
    wd = workdir()
    py = sys.executable
    request = ExecRequest(argv=[py, "-c", "pass"], workdir=wd, timeout_s=60)
    sandboxes = {name: pm.create("sandbox", "local", opts, BuildContext(run_id="bench"))
                 for name, opts in LOCAL_ROWS.items()}
    runs: dict[str, Callable[[], Any]] = {"bare spawn": lambda: subprocess.run([py, "-c", "pass"], check=True)}
    for name, sandbox in sandboxes.items():
        assert sandbox.run(request).exit_code == 0
        runs[name] = lambda sandbox=sandbox: sandbox.run(request)
    print(f"start: {load_line()}")
    try:
        figures = interleaved(runs, rounds, lambda fn: median_ms(fn, n, warmup=1))
    finally:
        for sandbox in sandboxes.values():
            sandbox.close()
    print(f"end:   {load_line()}")
    print(f"{'python -c pass':22} {'median ms':>10} {'ratio to bare (median of rounds)':>34}")
    print_ratios(figures, "bare spawn")
    print("target: local warm + bwrap <= 0.5x bare spawn")
    return 0


def mutation_rows(attempts: int, rounds: int) -> int:
    """The quickstart's mutation attempt end to end, cold and warm, against the fork floor."""
    sys.path.insert(0, str(Path(__file__).parent))
    import shutil

    from bench_engine import QUICKSTART, fork_floor, steady_state

    def attempt(tmp: Path, warm: bool) -> float:
        example = tmp / f"quickstart-{warm}-{time.monotonic_ns()}"
        shutil.copytree(QUICKSTART, example)
        config = {
            "run": {"name": "bench", "initial": "program", "children_per_generation": 2},
            "benchmark": {"name": "custom", "path": "benchmark/tasks.toml"},
            "executor": {"name": "local", "max_workers": 1},
            "sandbox": {"name": "local", "warm": warm},
        }
        wall = steady_state(config, example, "mutation", attempts, source=example / "darwin.toml")
        return wall[0] if isinstance(wall, tuple) else wall  # (wall, cpu) on newer bench_engine

    rows: dict[str, Callable[[Path], float]] = {
        "fork floor": lambda tmp: fork_floor(30, tmp / f"floor-{time.monotonic_ns()}"),
        "attempt, local cold": lambda tmp: attempt(tmp, False),
        "attempt, local warm": lambda tmp: attempt(tmp, True),
    }
    figures: dict[str, list[float]] = {name: [] for name in rows}
    print(f"start: {load_line()}")
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            order = list(rows)
            random.shuffle(order)
            for name in order:
                path = Path(tmp) / f"r{len(figures[name])}"
                path.mkdir(exist_ok=True)
                figures[name].append(rows[name](path) * 1000)
    print(f"end:   {load_line()}")
    for name, values in figures.items():
        ratios = [v / f for v, f in zip(values, figures["fork floor"])]
        print(f"{name:22} {statistics.median(values):8.1f} ms {statistics.median(ratios):6.2f}x floor "
              f"[{min(ratios):.2f}-{max(ratios):.2f}]")
    print("target: attempt <= 1.5x the fork floor")
    return 0


FORK_FLOOR = """
import gc, importlib.util, os, pkgutil, runpy, sys, uuid  # what runpy.run_path imports, as the server does
gc.freeze()
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        os.chdir(line.strip())
        sys.argv = ["evaluator.py", "program.py"]
        try:
            runpy.run_path("evaluator.py", run_name="__main__")
        except SystemExit:
            pass
        os._exit(0)
    os.waitpid(pid, 0)
    sys.stdout.write("done\\n")
    sys.stdout.flush()
"""


def other_local_sandbox(checkout: Path, tmp: Path) -> Any:
    """The ``local`` sandbox of another checkout (its package copied under another name, so that
    both run in this process, interleaved): a default-options instance."""
    import importlib
    import shutil

    shutil.copytree(checkout / "plugins" / "darwin_plugins" / "local_sandbox", tmp / "against_local_sandbox")
    sys.path.insert(0, str(tmp))
    module = importlib.import_module("against_local_sandbox.sandbox")
    options = importlib.import_module("against_local_sandbox.options")
    return module.LocalSandbox(options.LocalSandboxOptions())


def peer_rows(n: int, rounds: int, gap_ms: float, against: Path | None) -> int:
    """bench_peer's evaluation through the warm local sandbox against a warm fork's floor."""
    import shutil

    from darwin_plugins.custom_benchmark.benchmark import CustomBenchmark

    peer = Path(__file__).parent / "peer_problem"
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-peer-eval-") as tmp:
        bench = CustomBenchmark(peer / "tasks.toml", Path(tmp) / "scratch")
        tasks = bench.tasks()
        variant = Path(tmp) / "variant"
        shutil.copytree(peer / "program", variant)
        prepared = Path(tmp) / "prepared"
        prepared.mkdir()
        bench._prepare(variant, prepared)
        request = bench._request(prepared, ["python", "evaluator.py", "program.py"], 30, copy_back=False)
        sandbox = PluginManager().create("sandbox", "local", {}, BuildContext(run_id="bench"))
        floor = subprocess.Popen([py, "-c", FORK_FLOOR], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

        def forked() -> None:
            assert floor.stdin is not None and floor.stdout is not None
            floor.stdin.write(f"{prepared}\n")
            floor.stdin.flush()
            assert floor.stdout.readline() == "done\n"

        def evaluate(box: Any) -> None:
            assert bench.evaluate(variant, tasks, box)[0].passed

        def run(box: Any) -> None:
            assert box.run(request).exit_code == 0

        other = other_local_sandbox(against.resolve(), Path(tmp)) if against else None

        runs: dict[str, Callable[[], Any]] = {
            "fork floor": forked,
            "bare spawn": lambda: subprocess.run([py, "evaluator.py", "program.py"], cwd=prepared,
                                                 check=True, capture_output=True),
            "evaluate (whole)": lambda: evaluate(sandbox),
            "sandbox run alone": lambda: run(sandbox),
        }
        if other is not None:
            runs["evaluate (whole), DIR"] = lambda: evaluate(other)
            runs["sandbox run alone, DIR"] = lambda: run(other)
        print(f"start: {load_line()}")
        try:
            figures = interleaved(runs, rounds, lambda fn: median_ms(fn, n, gap_s=gap_ms / 1000))
        finally:
            sandbox.close()
            if other is not None:
                other.close()
            floor.kill()
            floor.wait()
        print(f"end:   {load_line()}")
    print(f"{'peer evaluator':22} {'median ms':>10} {'ratio to fork floor':>22}   (idle {gap_ms:g} ms between evaluations)")
    print_ratios(figures, "fork floor")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--engines", default="docker,podman")
    parser.add_argument("--skip-engines", action="store_true")
    parser.add_argument("--warm", action="store_true", help="bare vs local cold vs local warm")
    parser.add_argument("--mutation", action="store_true", help="mutation attempt vs fork floor")
    parser.add_argument("--peer", action="store_true", help="bench_peer's evaluator vs a warm fork")
    parser.add_argument("--gap-ms", type=float, default=0.0,
                        help="--peer: idle time before each evaluation (the engine's own work between two)")
    parser.add_argument("--against", type=Path, help="--peer: also another checkout's local sandbox, interleaved")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--attempts", type=int, default=20, help="a multiple of 2")
    args = parser.parse_args()
    if args.warm:
        return warm_rows(args.n, args.rounds)
    if args.mutation:
        return mutation_rows(args.attempts, args.rounds)
    if args.peer:
        return peer_rows(args.n, args.rounds, args.gap_ms, args.against)
    load_env()
    pm = PluginManager()
    wd = workdir()
    py = sys.executable
    rows: dict[str, float] = {}
    rows["bare subprocess"] = median_ms(lambda: subprocess.run([py, "-c", "pass"], check=True), args.n)
    rows["local"] = sandbox_ms(pm, "local", {"isolation": "none", "warm": False}, args.n, wd, py)
    rows["local + bwrap"] = sandbox_ms(pm, "local", {"isolation": "bwrap", "warm": False}, args.n, wd, py)
    engines = [] if args.skip_engines else [e for e in args.engines.split(",") if e]
    for engine in engines:
        rows.update(engine_rows(pm, engine, args.n, wd))

    print(f"{'evaluation of python -c pass':32} {'median ms':>10}")
    for name, value in rows.items():
        print(f"{name:32} {value:10.1f}")
    print()
    bare = rows["bare subprocess"]
    print(f"local / bare:           {rows['local'] / bare:5.2f}x  (target <= 1.5x)")
    print(f"local+bwrap / bare:     {rows['local + bwrap'] / bare:5.2f}x  (target <= 3.5x)")
    for engine in engines:
        cold, pooled = rows[f"{engine} cold"], rows[f"{engine} pooled"]
        print(f"{engine} cold / pooled:    {cold / pooled:5.2f}x  (target >= 3x)")
        print(f"{engine} pooled / exec CLI: {pooled / rows[f'{engine} exec (CLI)']:5.2f}x  "
              "(target <= 1.5x)")
        print(f"{engine} pooled / exec SDK: {pooled / rows[f'{engine} exec (SDK)']:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
