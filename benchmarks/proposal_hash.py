"""A hash of the mutation generator's first proposals on every seen suite program's root.

    python benchmarks/proposal_hash.py [--n 80] [--programs NAME ...]

For each program of the repair suite's seen halves (every half but ``fresh10`` and ``fresh12``,
which are skipped by name and never read), the root's first ``n`` proposals
(``root_proposals.root_proposals``: the root evaluated on its visible tests, then attempts
``0..n-1``) are hashed (each child's code, description and metadata) under four option sets: the
defaults (pairs on: ``pairs = 20``, ``pairs_focus = 2``, ``pairs_early = 4``), single edits
only (``pairs = 0``), and pairs from a tenth of the neighbourhood on (``pairs_after = 0.1``),
focused and global (``pairs_focus = 0``), so the first ``n`` reach pairs. One line per program
and a total: two trees whose generators propose the same children print the same hashes (used
to check that a speed-up changes no child).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_repair import UNSEEN  # noqa: E402
OPTIONS = {"defaults": {"pairs": 20, "pairs_focus": 2, "pairs_early": 4}, "singles": {"pairs": 0},
           "focus_soon": {"pairs": 20, "pairs_focus": 2, "pairs_early": 4, "pairs_after": 0.1},
           "global_soon": {"pairs": 20, "pairs_focus": 0, "pairs_after": 0.1}}


def seen_cases() -> dict:
    """The seen halves' cases, loaded one file at a time (the unseen halves' files are not opened)."""
    import bench_repair as br

    split = tomllib.loads((br.SUITE / "split.toml").read_text())
    cases = {}
    for half in br.HALVES:
        if half in UNSEEN:
            continue
        for name in split.get(half, []):
            data = tomllib.loads((br.SUITE / f"{name}.toml").read_text())
            cases[name] = br.Case(name=name, bug=data["bug"], edits=int(data["edits"]),
                                  program=data["program"].lstrip("\n"), fix=data["fix"],
                                  visible=data["visible"], holdout=data["holdout"])
    return cases


def program_hash(case, n: int) -> str:
    import bench_repair as br
    from root_proposals import root_proposals

    digest = hashlib.sha256()
    for label, options in OPTIONS.items():
        with tempfile.TemporaryDirectory() as tmp:
            problem = br.materialize(case, Path(tmp) / "p")
            for k, proposal, files, _gen in root_proposals(problem, Path(tmp) / "w", options=options):
                if k >= n:
                    break
                meta = json.dumps(proposal.metadata, sort_keys=True, default=repr)
                digest.update(f"{label}\0{k}\0{proposal.description}\0{meta}\0".encode())
                for rel in sorted(files):
                    digest.update(f"{rel}\0{files[rel]}\0".encode())
    return digest.hexdigest()[:16]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=80)
    parser.add_argument("--programs", nargs="*")
    args = parser.parse_args()
    cases = seen_cases()
    unknown = sorted(set(args.programs or ()) - set(cases))
    if unknown:
        parser.error(f"not a seen program: {unknown}")
    total = hashlib.sha256()
    start = time.perf_counter()
    for name in sorted(args.programs or cases):
        h = program_hash(cases[name], args.n)
        total.update(f"{name}\0{h}\0".encode())
        print(f"{name:28s} {h}", flush=True)
    print(f"total ({len(args.programs or cases)} programs) {total.hexdigest()[:16]}  [{time.perf_counter() - start:.0f} s]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
