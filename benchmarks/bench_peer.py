"""Darwin side by side with OpenEvolve (issue 17), measured in one run, interleaved.

Both systems get the same problem (``benchmarks/peer_problem/``: a tiny program and one shared
evaluator) and the same loopback OpenAI-compatible server, which answers every request after a
fixed latency with one SEARCH/REPLACE edit valid for the program in the prompt (``STEPS = n``
becomes ``STEPS = n + k``), in a form both systems' parsers accept. One LLM call per iteration:
Darwin's ``openai`` generator runs with ``diagnose = false``. Darwin keeps its defaults otherwise:
the ``local`` sandbox (bubblewrap), ``file://`` storage, the ``custom`` benchmark with a command
task. OpenEvolve 0.4.0 runs in its own venv (its dependencies may clash with ours) with its
defaults, evaluating in its own worker processes.

For each setting (LLM latency x concurrency) and each rep the two systems run back to back in
alternating order. Reported per iteration (medians over reps, ratios paired per rep):

- ``wall``: the whole process, start-up included, divided by N;
- ``steady``: from the end of the initial program's evaluation to the end of the last one,
  divided by the iterations evaluated in between (start-up excluded);
- ``eval``: the evaluator's own time (``evaluate`` times itself: loading and running the
  program), read back from each system's evaluations;
- ``overhead``: the steady time per iteration beyond the model's latency and the evaluator's
  work, were both perfectly overlapped across the concurrent slots:
  ``steady - (latency + eval) / concurrency`` (at concurrency 1: ``steady - latency - eval``);
- ``cpu``: user + system CPU of the whole process tree over N (less sensitive to load).

Darwin's phases come from a probe plugin (``peer_problem/probe/``, on ``PYTHONPATH`` for its
runs only): generate and evaluate per child, the sandboxed command's wall time, the run store's
durable records. ``--py-spy DIR`` profiles Darwin's runs (``peer_problem/spy_summary.py`` reads
the profiles); figures and profiles are in docs/performance.md.

The measurements run in a private network namespace holding only ``lo`` (``unshare -n``, when
the machine allows it), so no request can leave loopback; the server's request count is checked
against the iterations run (a mismatch is printed). Setup installs what is missing: bubblewrap
(``apt-get``, as root), OpenEvolve into ``.bench/openevolve-venv`` (pinned by the ``bench`` extra
of pyproject.toml), and the ``openai`` SDK Darwin's generator needs.

    python benchmarks/bench_peer.py                    # N=100, 3 reps, 0/200 ms, concurrency 1/4
    python benchmarks/bench_peer.py --smoke            # N=8, 1 rep: does everything work?
    python benchmarks/bench_peer.py -n 40 --reps 2 --latency-ms 0 --concurrency 1
    python benchmarks/bench_peer.py -n 60 --reps 2 --lookahead 0,1   # Darwin pipelined too

Exit codes: 0 done; 1 a dependency could not be installed or a system failed (the message says
which and how to fix it); 2 bad arguments; 6 no usable bubblewrap sandbox.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = ROOT / "benchmarks" / "peer_problem"
BENCH = ROOT / ".bench"
OE_VENV = BENCH / "openevolve-venv"
KEY_ENV = "PEER_BENCH_KEY"
MODEL = "peer-model"
STEPS_RE = re.compile(r"^STEPS = (\d+)\s*$", re.M)
CURRENT_MARKERS = ("# Current Program", "### program.py")  # OpenEvolve's, Darwin's prompt heading
sys.path.insert(0, str(PROBLEM))

from peer_setup import (INNER_FLAG, die, ensure_bwrap, ensure_darwin_openai, ensure_openevolve,  # noqa: E402
                        enter_private_netns, loopback_up, stop_on_signals)


# ---------------------------------------------------------------- the model


def make_responder():
    counter = {"n": 0, "top": 0}
    lock = threading.Lock()

    def reply(body: dict) -> str:
        text = "\n".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "user")
        start = max(text.rfind(marker) for marker in CURRENT_MARKERS)
        match = STEPS_RE.search(text, max(start, 0))
        steps = int(match.group(1)) if match else 1
        with lock:
            counter["n"] += 1
            # every reply a new value, above the parent's: no child duplicates another program
            # (Darwin skips evaluating a duplicate, OpenEvolve does not: the runs would differ)
            new = counter["top"] = max(steps, counter["top"]) + 1 + counter["n"] % 7
        return f"program.py\n<<<<<<< SEARCH\nSTEPS = {steps}\n=======\nSTEPS = {new}\n>>>>>>> REPLACE\n"

    return reply


# ---------------------------------------------------------------- the systems


@dataclass
class Run:
    system: str
    latency_ms: int
    concurrency: int
    rep: int
    n: int
    wall_s: float
    evals: list[tuple[float, float]] = field(default_factory=list)
    """(end epoch seconds, evaluator seconds) of every evaluation, the initial program's included."""
    llm_requests: int = 0
    load: float = 0.0
    cpu_s: float = 0.0
    """CPU seconds (user + system) of the system's processes, its sandboxes and workers included."""
    gen_s: float = float("nan")
    """Darwin only: the generator's time per proposal (the LLM call included)."""
    evaluation_s: float = float("nan")
    """Darwin only: the benchmark's evaluation of a child (working copy, sandbox, clean-up)."""
    task_s: float = float("nan")
    """Darwin only: the sandboxed command's wall time (interpreter start-up included)."""
    records: int = 0
    """Darwin only: durable records the run store wrote (the ledger's write-behind excluded)."""
    record_s: float = 0.0
    """Darwin only: their total write time."""
    records_by_collection: dict[str, int] = field(default_factory=dict)

    @property
    def steady_s(self) -> float:
        ends = sorted(e for e, _ in self.evals)
        return (ends[-1] - ends[0]) / (len(ends) - 1) if len(ends) > 1 else float("nan")

    @property
    def eval_s(self) -> float:
        return statistics.mean(s for _, s in self.evals) if self.evals else float("nan")

    @property
    def overhead_s(self) -> float:
        return self.steady_s - (self.latency_ms / 1000 + self.eval_s) / self.concurrency


def _mean(text: str, name: str) -> float:
    values = [float(v) for v in re.findall(rf"^{name}=([\d.]+)$", text, re.M)]
    return statistics.mean(values) if values else float("nan")


def _check(done: subprocess.CompletedProcess, name: str, log: Path) -> None:
    if done.returncode != 0:
        die(1, f"{name} exited {done.returncode}; the end of its output ({log}):\n"
               f"{log.read_text(errors='replace')[-3000:]}")


def run_darwin(work: Path, base_url: str, n: int, concurrency: int, seed: int,
               spy: Path | None = None, lookahead: int = 0, sets: tuple[str, ...] = ()) -> tuple[float, str]:
    config = work / "darwin.toml"
    config.write_text(f"""
[run]
name = "peer"
seed = {seed}
initial = "{PROBLEM / 'program'}"
generations = {n // concurrency}
children_per_generation = {concurrency}
lookahead = {lookahead}
[generator]
name = "openai"
model = "{MODEL}"
base_url = "{base_url}"
api_key_env = "{KEY_ENV}"
diagnose = false
[sandbox]
name = "local"
[benchmark]
name = "custom"
path = "{PROBLEM / 'tasks.toml'}"
[executor]
name = "local"
max_workers = {concurrency}
""")
    paths = [str(ROOT / "src"), str(ROOT / "hookspecs" / "src"), str(ROOT / "plugins"), str(PROBLEM / "probe")]
    evals = work / "evals.log"
    env = {**os.environ, KEY_ENV: "sk-peer-bench", "PEER_EVAL_LOG": str(evals), "PYTHONPATH": os.pathsep.join(
        paths + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
    log = work / "darwin.log"
    argv = [sys.executable, "-m", "darwin_core", "run", str(config), "--run-dir", str(work / "run"), "--quiet"]
    argv += [arg for value in sets for arg in ("--set", value)]
    if spy is not None:  # a wall-clock profile of the orchestrator (idle threads included)
        argv = ["py-spy", "record", "-f", "raw", "-t", "-i", "--nonblocking", "-r", "200", "-o", str(spy), "--", *argv]
    with log.open("w") as out:
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=work)
        wall = time.perf_counter() - start
    _check(done, "darwin run", log)
    text = evals.read_text() if evals.exists() else ""
    if text.count("PEER_EVAL=") < n + 1:  # children were not evaluated: say why, do not report
        from darwin_core import open_run

        reasons = Counter(v.reason or v.status for v in open_run(work / "run").variants if v.status != "accepted")
        die(1, f"darwin evaluated {text.count('PEER_EVAL=')} of {n + 1} programs; its children: "
               f"{dict(reasons.most_common(3))}; fix Darwin (or this benchmark's config) and run again")
    return wall, text


def run_openevolve(runner: Path, work: Path, base_url: str, n: int, concurrency: int, seed: int) -> tuple[float, str]:
    config = work / "openevolve.yaml"
    config.write_text(json.dumps({  # JSON is YAML
        "max_iterations": n, "random_seed": seed,
        "llm": {"api_base": base_url, "api_key": "sk-peer-bench", "models": [{"name": MODEL, "weight": 1.0}]},
        "evaluator": {"parallel_evaluations": concurrency, "cascade_evaluation": False},
    }))
    shutil.copy(PROBLEM / "program" / "program.py", work / "program.py")
    evals = work / "evals.log"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PEER_EVAL_LOG"] = str(evals)
    log = work / "openevolve.log"
    argv = [str(runner), str(work / "program.py"), str(PROBLEM / "evaluator.py"), "--config", str(config),
            "--iterations", str(n), "--output", str(work / "out")]
    with log.open("w") as out:
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=work)
        wall = time.perf_counter() - start
    _check(done, "openevolve-run", log)
    text = evals.read_text() if evals.exists() else ""
    if text.count("PEER_EVAL=") < n + 1:
        errors = re.findall(r"Iteration \d+ error: (.*)", log.read_text(errors="replace"))
        die(1, f"openevolve evaluated {text.count('PEER_EVAL=')} of {n + 1} programs; its errors: "
               f"{dict(Counter(errors).most_common(3))}; fix this benchmark's config and run again")
    return wall, text


# ---------------------------------------------------------------- driver


def measure(args: argparse.Namespace, runner: Path) -> list[Run]:
    sys.path.insert(0, str(ROOT / "tests" / "llm"))
    from loopback import LoopbackLLM

    settings = [(lat, c) for lat in args.latency_ms for c in args.concurrency]
    runs: list[Run] = []
    for rep in range(args.reps):
        for index, (latency, conc) in enumerate(settings):
            systems = ["openevolve", *(darwin_name(la) for la in args.lookahead)]
            turn = (rep + index) % len(systems)
            order = systems[turn:] + systems[:turn]  # each system first in turn
            for system in order:
                server = LoopbackLLM(make_responder(), delay_s=latency / 1000).start()
                work = Path(tempfile.mkdtemp(prefix=f"peer-{system}-", dir=BENCH))
                load = os.getloadavg()[0]
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                try:
                    url = server.url + "/v1"
                    if system.startswith("darwin"):
                        spy = args.py_spy / f"{system}-{latency}ms-c{conc}-rep{rep}.txt" if args.py_spy else None
                        wall, log = run_darwin(work, url, args.iterations, conc, seed=rep, spy=spy,
                                               lookahead=lookahead_of(system), sets=tuple(args.darwin_set))
                    else:
                        wall, log = run_openevolve(runner, work, url, args.iterations, conc, seed=42 + rep)
                    requests = server.requests
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                finally:
                    server.stop()
                    shutil.rmtree(work, ignore_errors=True)
                evals = [(float(a), float(b)) for a, b in re.findall(r"PEER_EVAL=([\d.]+) ([\d.]+)", log)]
                run = Run(system, latency, conc, rep, args.iterations, wall, evals, requests,
                          load=(load + os.getloadavg()[0]) / 2,
                          cpu_s=after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
                          gen_s=_mean(log, "PEER_PROPOSAL_S"), evaluation_s=_mean(log, "PEER_EVALUATION_S"),
                          task_s=_mean(log, "PEER_TASK"),
                          records=len(writes := re.findall(r"^PEER_RECORD=([\d.]+) ", log, re.M)),
                          record_s=sum(map(float, writes)),
                          records_by_collection=dict(Counter(re.findall(r"^PEER_RECORD=[\d.]+ (\S+)$", log, re.M))))
                runs.append(run)
                print(f"rep {rep} {latency:>3} ms c={conc} {system:<10} wall/iter {1000 * wall / run.n:7.1f} ms  "
                      f"steady {1000 * run.steady_s:7.1f} ms  eval {1000 * run.eval_s:5.1f} ms  "
                      f"overhead {1000 * run.overhead_s:6.1f} ms  cpu/iter {1000 * run.cpu_s / run.n:6.1f} ms  "
                      f"evals {len(evals)}  llm requests {requests}  "
                      + (f"generate {1000 * run.gen_s:.1f} ms  evaluate {1000 * run.evaluation_s:.1f} ms  "
                         f"(sandboxed command {1000 * run.task_s:.1f} ms)  records/iter {run.records / run.n:.1f} "
                         f"({1000 * run.record_s / run.n:.1f} ms)  "
                         if system.startswith("darwin") else "") +
                      f"load {run.load:.1f}", flush=True)
                if requests != args.iterations:
                    print(f"  warning: {system} made {requests} LLM requests for {args.iterations} iterations",
                          flush=True)
    return runs


def darwin_name(lookahead: int) -> str:  # Darwin's arm with [run] lookahead = N ("darwin": 0)
    return "darwin" if lookahead == 0 else f"darwin-la{lookahead}"


def lookahead_of(system: str) -> int:
    return int(system.removeprefix("darwin-la")) if system.startswith("darwin-la") else 0


def summarise(runs: list[Run]) -> str:
    """One table per Darwin arm (each paired with the OpenEvolve run of the same rep)."""
    arms = sorted({r.system for r in runs if r.system.startswith("darwin")}, key=lookahead_of)
    parts = []
    for arm in arms:
        chosen = [r for r in runs if r.system in ("openevolve", arm)]
        parts.append((f"Darwin with [run] lookahead = {lookahead_of(arm)}:\n\n" if len(arms) > 1 or arm != "darwin"
                      else "") + summarise_arm([Run(**{**asdict(r), "system": "darwin"}) if r.system == arm else r
                                                for r in chosen]))
    return "\n\n".join(parts)


def summarise_arm(runs: list[Run]) -> str:
    def med(values) -> float:
        values = [v for v in values if v == v]
        return statistics.median(values) if values else float("nan")

    lines = ["| latency | concurrency | OpenEvolve wall / steady ms per iteration | Darwin wall / steady | "
             "ratio D/OE wall / steady | overhead OE / Darwin ms | eval ms OE / Darwin | CPU ms per iteration OE / "
             "Darwin (ratio) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    keys = sorted({(r.latency_ms, r.concurrency) for r in runs})
    for latency, conc in keys:
        pairs = {}
        for r in runs:
            if (r.latency_ms, r.concurrency) == (latency, conc):
                pairs.setdefault(r.rep, {})[r.system] = r
        both = [p for p in pairs.values() if len(p) == 2]
        oe, dw = [p["openevolve"] for p in both], [p["darwin"] for p in both]
        wall = lambda rs: med(1000 * r.wall_s / r.n for r in rs)  # noqa: E731
        steady = lambda rs: med(1000 * r.steady_s for r in rs)  # noqa: E731
        ratio_wall = med(p["darwin"].wall_s / p["openevolve"].wall_s for p in both)
        ratio_steady = med(p["darwin"].steady_s / p["openevolve"].steady_s for p in both)
        lines.append(
            f"| {latency} ms | {conc} | {wall(oe):.1f} / {steady(oe):.1f} | {wall(dw):.1f} / {steady(dw):.1f} | "
            f"**{ratio_wall:.2f}x** / **{ratio_steady:.2f}x** | {med(1000 * r.overhead_s for r in oe):.1f} / "
            f"{med(1000 * r.overhead_s for r in dw):.1f} | {med(1000 * r.eval_s for r in oe):.1f} / "
            f"{med(1000 * r.eval_s for r in dw):.1f} | {med(1000 * r.cpu_s / r.n for r in oe):.1f} / "
            f"{med(1000 * r.cpu_s / r.n for r in dw):.1f} "
            f"({med(p['darwin'].cpu_s / p['openevolve'].cpu_s for p in both):.2f}x) |")
    lines += ["", "Darwin's attempt, ms per iteration (medians over reps):", "",
              "| latency | concurrency | generate (the LLM call included) | evaluate (working copy, sandbox, "
              "clean-up) | sandboxed command | evaluator's own |",
              "| --- | --- | --- | --- | --- | --- |"]
    for latency, conc in keys:
        dw = [r for r in runs if r.system == "darwin" and (r.latency_ms, r.concurrency) == (latency, conc)]
        lines.append(f"| {latency} ms | {conc} | {med(1000 * r.gen_s for r in dw):.1f} | "
                     f"{med(1000 * r.evaluation_s for r in dw):.1f} | {med(1000 * r.task_s for r in dw):.1f} | "
                     f"{med(1000 * r.eval_s for r in dw):.1f} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--iterations", type=int, default=100)
    parser.add_argument("--reps", type=int, default=3, help="paired, interleaved repetitions")
    parser.add_argument("--latency-ms", type=lambda s: [int(x) for x in s.split(",")], default=[0, 200])
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4])
    parser.add_argument("--smoke", action="store_true", help="N=8, 1 rep")
    parser.add_argument("--lookahead", type=lambda s: [int(x) for x in s.split(",")], default=[0],
                        help="Darwin's [run] lookahead; a list (0,1) runs one Darwin arm per value, interleaved")
    parser.add_argument("--darwin-set", action="append", default=[], metavar="KEY=VALUE",
                        help="passed to Darwin's runs as --set KEY=VALUE (repeatable)")
    parser.add_argument("--json", type=Path, default=BENCH / "peer-results.json")
    parser.add_argument("--py-spy", type=Path, metavar="DIR", help="profile Darwin's runs with py-spy into DIR "
                        "(summarise with peer_problem/spy_summary.py); slows them: not for the figures")
    parser.add_argument(INNER_FLAG, action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.iterations, args.reps = 8, 1
    if args.iterations < 1 or args.reps < 1 or any(c < 1 or args.iterations % c for c in args.concurrency):
        parser.error("iterations and reps must be >= 1, and iterations a multiple of every concurrency")
    stop_on_signals(args.inner_netns)
    if not args.inner_netns:
        ensure_bwrap()
        ensure_openevolve()
        ensure_darwin_openai()
        enter_private_netns(__file__, argv)  # exits here when it could re-run itself in a namespace
    else:
        loopback_up()
    runner = OE_VENV / "bin" / "openevolve-run"
    if args.py_spy:
        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        if shutil.which("py-spy") is None:
            die(1, "--py-spy needs py-spy on PATH; fix: pip install py-spy")
        args.py_spy = args.py_spy.resolve()
        args.py_spy.mkdir(parents=True, exist_ok=True)
    sys.path[:0] = [str(ROOT / "src"), str(ROOT / "hookspecs" / "src"), str(ROOT / "plugins")]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"{started}  N={args.iterations} reps={args.reps} latency={args.latency_ms} ms "
          f"concurrency={args.concurrency}  cores={os.cpu_count()}  load {os.getloadavg()}  "
          f"private netns: {args.inner_netns}", flush=True)
    runs = measure(args, runner)
    table = summarise(runs)
    print("\n" + table)
    print(f"\nmachine load (1-min average) during the runs: median {statistics.median(r.load for r in runs):.1f}, "
          f"range {min(r.load for r in runs):.1f}-{max(r.load for r in runs):.1f} on {os.cpu_count()} cores")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"started": started, "argv": argv, "runs": [
        {**asdict(r), "steady_s": r.steady_s, "eval_s": r.eval_s, "overhead_s": r.overhead_s} for r in runs]}))
    print(f"raw figures: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
