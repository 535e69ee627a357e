"""Re-rank recorded plausible single edits under other generator options (an analysis aid).

    python benchmarks/plausible_rerank.py DUMP.jsonl [--options JSON] [--seeds 1 2 3]

``DUMP.jsonl``: rows of ``plausible_dump.py --json`` (each program's plausible single edits of
the root, by edit key, with their held-out verdict). For each program and seed, the root's
neighbourhood is ordered again with ``--options`` (no evaluation: the verdicts are looked up by
key) and the first plausible edit reported: its rank, and whether it is genuine. A program whose
first plausible edit is genuine is what a run trying the root's edits in order would keep.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def first_plausible(name: str, keys: dict[str, bool], seed: int, options: dict[str, Any]) -> tuple[int, bool, str] | None:
    """``(rank, genuine, description)`` of the first edit in ``keys`` in the root's order; None if none."""
    from bench_repair import load_cases, materialize
    from root_proposals import root_proposals

    with tempfile.TemporaryDirectory(prefix="plausible-rerank-") as tmp:
        problem = materialize(load_cases()[name], Path(tmp))
        for k, proposal, _, _ in root_proposals(problem, Path(tmp), seed, "rerank", options):
            key = (proposal.metadata.get("edits") or [""])[0]
            if key in keys:
                return k + 1, keys[key], proposal.description.partition(' in ')[0]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump", type=Path)
    parser.add_argument("--options", type=json.loads, default={})
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--verbose", action="store_true", help="the first plausible edits' descriptions")
    args = parser.parse_args(argv)
    rows = {}
    for line in args.dump.read_text().splitlines():
        row = json.loads(line)
        rows[row["program"]] = row
    genuine_total = 0
    for name, row in sorted(rows.items()):
        keys = {p["key"]: p["genuine"] for p in row["plausible"]}
        if not keys:
            continue
        out = [first_plausible(name, keys, s, args.options) for s in args.seeds]
        genuine_total += sum(bool(o and o[1]) for o in out)
        cells = " ".join("-" if o is None else f"{o[0]}{'G' if o[1] else 'x'}" for o in out)
        print(f"{name:20} any-genuine={any(keys.values())!s:5} {cells}", flush=True)
        if args.verbose:
            print("    " + " | ".join(o[2] for o in out if o), flush=True)
    print(f"genuine first: {genuine_total} of {len(args.seeds)} seeds x programs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
