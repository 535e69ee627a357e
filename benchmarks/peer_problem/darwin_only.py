"""bench_peer's Darwin side alone, for A/B runs of a change (no OpenEvolve, no namespace).

Runs ``bench_peer.run_darwin`` against the loopback server, for this checkout and, with
``--against DIR`` (another checkout, e.g. ``git archive REV | tar -x -C DIR``), for DIR too,
alternating the order every rep, each in a fresh process; prints steady and wall time per
iteration, CPU, and the attempt's phases (probe plugin) with the machine's load.

    python benchmarks/peer_problem/darwin_only.py -n 60 -c 1 --latency-ms 0 --reps 3 --against /tmp/old
    python benchmarks/peer_problem/darwin_only.py -n 60 -c 1 --latency-ms 0 --reps 3 --lookahead 0,1
    py-spy record -f raw -t -i -r 200 -o prof.txt -- python benchmarks/peer_problem/darwin_only.py --one 100 1 0 . 0
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()


def one(root: Path, n: int, concurrency: int, latency_ms: int, lookahead: int = 0) -> str:
    """One run of this checkout (``root``): a line of figures."""
    sys.path[:0] = [str(root / "benchmarks"), str(root / "tests" / "llm")]
    import bench_peer as bp
    from loopback import LoopbackLLM

    server = LoopbackLLM(bp.make_responder(), delay_s=latency_ms / 1000).start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        with tempfile.TemporaryDirectory(prefix="darwin-only-") as work:
            wall, log = bp.run_darwin(Path(work), server.url + "/v1", n, concurrency, seed=0,
                                       **({"lookahead": lookahead} if lookahead else {}))
    finally:
        server.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ends = sorted(float(x) for x in re.findall(r"PEER_EVAL=([\d.]+) ", log))
    steady = (ends[-1] - ends[0]) / (len(ends) - 1)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return (f"n={n} c={concurrency} lat={latency_ms} lookahead={lookahead} steady {1000 * steady:.1f} wall/iter {1000 * wall / n:.1f} "
            f"cpu/iter {1000 * cpu / n:.1f} generate {1000 * bp._mean(log, 'PEER_PROPOSAL_S'):.1f} "
            f"evaluate {1000 * bp._mean(log, 'PEER_EVALUATION_S'):.1f} "
            f"command {1000 * bp._mean(log, 'PEER_TASK'):.1f} load {os.getloadavg()[0]:.1f}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=60)
    parser.add_argument("-c", "--concurrency", type=int, default=1)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--against", type=Path, help="another checkout, measured alternately")
    parser.add_argument("--lookahead", type=lambda s: [int(x) for x in s.split(",")], default=[0],
                        help="[run] lookahead of this checkout's runs; a list (0,1) measures each, alternately")
    parser.add_argument("--one", nargs=5, metavar=("N", "C", "LAT", "ROOT", "LOOKAHEAD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        n, c, lat, root, lookahead = args.one
        print(one(Path(root), int(n), int(c), int(lat), int(lookahead)), flush=True)
        return 0
    arms = [(f"this-la{la}" if len(args.lookahead) > 1 else "this", HERE.parents[2], la) for la in args.lookahead]
    arms += [("against", args.against.resolve(), args.lookahead[0])] if args.against else []  # same lookahead
    for rep in range(args.reps):
        for name, root, lookahead in arms if rep % 2 == 0 else arms[::-1]:
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(
                str(root / p) for p in ("src", "hookspecs/src", "plugins"))}
            done = subprocess.run([sys.executable, str(HERE), "--one", str(args.n), str(args.concurrency),
                                   str(args.latency_ms), str(root), str(lookahead)], env=env, capture_output=True, text=True)
            print(f"rep {rep} {name:<8}", done.stdout.strip() or done.stderr[-2000:], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
