"""Where the samples of a ``py-spy record -f raw -t -i`` profile go: the functions with the most
inclusive time (each counted once per stack) and the most self time, in milliseconds per
iteration and as percentages of the selected samples.

With ``-i`` every thread is sampled at every tick, idle or not, so one thread's samples are wall
time. For the critical path of a concurrency-1 Darwin run, take the main thread without its
waits for the attempt (``--exclude "wait (concurrent/futures/_base.py)"``), then the attempt
thread (``--thread darwin-attempt --under run_attempt_job``).

    py-spy record -f raw -t -i --nonblocking -r 200 -o prof.txt -- python -m darwin_core run ...
    python benchmarks/peer_problem/spy_summary.py prof.txt --thread MainThread --per 40
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*)(?::\d+)?\)$")


def frames(stack: str) -> tuple[str, list[str]]:
    """The thread's name and the stack's functions (``func (file)``), outermost first."""
    parts = stack.split(";")
    thread = parts[0].split(": ", 1)[-1] if parts[0].startswith("thread (") else ""
    out = []
    for part in parts[1:] if thread else parts:
        match = FRAME.match(part)
        out.append(f"{match['func']} ({match['file']})" if match else part)
    return thread, out


def summarise(path: Path, threads: list[str], top: int, grep: list[str], under: list[str],
              exclude: list[str], rate: float, per: int) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        match = LINE.match(line)
        if not match:
            continue
        thread, stack = frames(match["stack"])
        if threads and not any(thread.startswith(t) for t in threads):
            continue
        if under and not any(u in f for f in stack for u in under):
            continue
        if exclude and any(x in f for f in stack for x in exclude):
            continue
        count = int(match["count"])
        total += count
        for func in set(stack):
            inclusive[func] += count
        if stack:
            own[stack[-1]] += count
    if not total:
        return "no samples"
    ms = 1000 / rate / per
    rows = [f"{total} samples = {total * ms:.1f} ms per iteration (threads: {', '.join(threads) or 'all'})",
            "", "ms/iter      %  inclusive"]
    rows += [f"{n * ms:7.1f} {100 * n / total:6.1f}  {f}" for f, n in inclusive.most_common()
             if not grep or any(g in f for g in grep)][:top]
    rows += ["", "ms/iter      %  self"]
    rows += [f"{n * ms:7.1f} {100 * n / total:6.1f}  {f}" for f, n in own.most_common(top)]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--thread", action="append", default=[], help="only threads whose name starts so")
    parser.add_argument("--under", action="append", default=[], help="only stacks through this function")
    parser.add_argument("--exclude", action="append", default=[], help="drop stacks through this function")
    parser.add_argument("--rate", type=float, default=200.0, help="py-spy's samples per second")
    parser.add_argument("--per", type=int, default=1, help="iterations in the profile")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--grep", action="append", default=[], help="only functions containing this")
    args = parser.parse_args()
    try:
        print(summarise(args.profile, args.thread, args.top, args.grep, args.under, args.exclude, args.rate,
                        args.per))
    except BrokenPipeError:  # | head
        pass


if __name__ == "__main__":
    main()
