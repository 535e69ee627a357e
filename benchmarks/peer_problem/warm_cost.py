"""What one warm local-sandbox evaluation costs in CPU: the orchestrator's side, the sandbox's
(the fork server and the children it forked and reaped, from ``/proc/<server>/stat``) and the
page faults of each, for ``python -c pass`` or bench_peer's evaluator, run back to back.

    python benchmarks/peer_problem/warm_cost.py [--n 150] [--rounds 4] [--threads 1] [--against DIR]

Each round runs every tree (this checkout, and DIR, another checkout, e.g. ``git archive REV |
tar -x -C DIR``) in a fresh process, alternating the order; the figures are per evaluation, and
the last lines give the mean over the rounds per tree and command.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve()
COMMANDS = {"pass": ["python", "-c", "pass"], "evaluator": ["python", "evaluator.py", "program.py"]}


def _server_stat(sandbox) -> tuple[float, int, int]:  # noqa: ANN001 - a LocalSandbox
    """CPU seconds (own + reaped children), minor faults own and children's, of the warm servers."""
    cpu, own, children = 0.0, 0, 0
    for server in [s for idle in sandbox.warm._idle.values() for s in idle]:
        fields = Path(f"/proc/{server.server_pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu += sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        own, children = own + int(fields[7]), children + int(fields[8])
    return cpu, own, children


def one(root: Path, n: int, threads: int, command: str) -> dict[str, float]:
    """``n`` evaluations through this process's ``local`` sandbox (``root``'s code), ``threads`` at once."""
    from darwin_core.plugins import PluginManager
    from darwin_hookspecs import BuildContext, ExecRequest

    sandbox = PluginManager().create("sandbox", "local", {}, BuildContext(run_id="warm-cost"))
    works = []
    for _ in range(threads):
        work = Path(tempfile.mkdtemp(prefix="warm-cost-"))
        shutil.copy(HERE.parent / "program" / "program.py", work)
        shutil.copy(HERE.parent / "evaluator.py", work)
        for path in [work, *work.rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o666)
        works.append(work)

    def request(work: Path) -> ExecRequest:
        return ExecRequest(argv=COMMANDS[command], workdir=work, timeout_s=30, copy_back=False,
                           preload=["importlib.util", "uuid"], trusted=["evaluator.py"])
    try:
        for work in works:  # one server per thread, warm
            assert sandbox.run(request(work)).exit_code == 0
        walls: list[float] = []

        def loop(work: Path) -> None:
            for _ in range(n // threads):
                start = time.perf_counter()
                result = sandbox.run(request(work))
                walls.append(time.perf_counter() - start)
                assert result.exit_code == 0, result.stderr
        before, server_before = resource.getrusage(resource.RUSAGE_SELF), _server_stat(sandbox)
        started = time.perf_counter()
        workers = [threading.Thread(target=loop, args=(work,)) for work in works]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        after, server_after = resource.getrusage(resource.RUSAGE_SELF), _server_stat(sandbox)
    finally:
        sandbox.close()
        for work in works:
            shutil.rmtree(work, ignore_errors=True)
    runs = len(walls)
    return {"wall_ms": 1000 * statistics.median(walls), "elapsed_ms": 1000 * elapsed / runs,
            "orchestrator_cpu_ms": 1000 * (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / runs,
            "sandbox_cpu_ms": 1000 * (server_after[0] - server_before[0]) / runs,
            "server_faults": (server_after[1] - server_before[1]) / runs,
            "children_faults": (server_after[2] - server_before[2]) / runs, "load": os.getloadavg()[0]}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--commands", default="pass,evaluator")
    parser.add_argument("--against", type=Path, help="another checkout, measured alternately")
    parser.add_argument("--one", nargs=4, metavar=("ROOT", "N", "THREADS", "COMMAND"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        root, n, threads, command = args.one
        print(json.dumps(one(Path(root), int(n), int(threads), command)))
        return 0
    trees = [("this", HERE.parents[2])] + ([("against", args.against.resolve())] if args.against else [])
    figures: dict[tuple[str, str], list[dict[str, float]]] = {}
    for rnd in range(args.rounds):
        for command in args.commands.split(","):
            for name, root in trees if rnd % 2 == 0 else trees[::-1]:
                env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(root / p) for p in ("src", "hookspecs/src", "plugins"))}
                done = subprocess.run([sys.executable, str(HERE), "--one", str(root), str(args.n), str(args.threads), command],
                                      env=env, capture_output=True, text=True)
                if done.returncode != 0:
                    print(done.stderr[-2000:], file=sys.stderr)
                    return 1
                row = json.loads(done.stdout.strip().splitlines()[-1])
                figures.setdefault((name, command), []).append(row)
                print(f"round {rnd} {name:<8} {command:<10} " + "  ".join(f"{k} {v:.2f}" for k, v in row.items()), flush=True)
    print("\nmeans over the rounds, per evaluation:")
    for (name, command), rows in figures.items():
        print(f"{name:<8} {command:<10} " + "  ".join(f"{k} {statistics.mean(r[k] for r in rows):.2f}" for k in rows[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
