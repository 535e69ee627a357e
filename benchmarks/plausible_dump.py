"""The plausible single edits of a suite program's root, in the search's order (an analysis aid).

    python benchmarks/plausible_dump.py PROGRAM [PROGRAM ...] [--seed 1] [--json F]

For each program: the root's neighbourhood as the mutation generator orders it for the run's
seed (``pairs = 0``: single edits only), every edit evaluated on the visible tests, and those
passing them on the held-out tests too. Prints each plausible edit's rank, family, description,
line, prior weight and verdict (``GENUINE`` / ``gaming``). Never for the unseen judges (:data:`UNSEEN`).
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

from bench_repair import UNSEEN  # noqa: E402


def dump(name: str, seed: int = 1) -> dict[str, Any]:
    """``{"program", "size", "plausible": [{rank, family, description, line, weight, genuine, source}]}``."""
    from bench_repair import _evaluator, _score, halves, load_cases, materialize
    from bench_search_loop import evaluate
    from root_proposals import root_proposals

    if halves()[name] in UNSEEN:
        raise SystemExit(f"{halves()[name]} is an unseen judge: never read here")
    case = load_cases()[name]
    out: list[dict[str, Any]] = []
    size = 0
    with tempfile.TemporaryDirectory(prefix="plausible-dump-") as tmp:
        problem = materialize(case, Path(tmp))
        for k, proposal, files, gen in root_proposals(problem, Path(tmp), seed, "dump"):
            if _score(evaluate(_evaluator(), problem, files, Path(tmp) / "eval")) >= 1.0:
                held = _score(evaluate(_evaluator(), problem, files, Path(tmp) / "eval", holdout=True))
                hood = next(iter(gen.neighbourhoods.items.values()))
                edit = hood.edits[hood.valid[k][0]]
                out.append({"rank": k + 1, "key": edit.key, "family": edit.site.family, "description": proposal.description,
                            "line": edit.site.line, "weight": round(edit.weight, 4), "genuine": held >= 1.0,
                            "source": next(iter(proposal.changes.values())).splitlines()[edit.site.line - 1].strip()})
            size = k + 1
    return {"program": name, "size": size, "plausible": out}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("programs", nargs="*")
    parser.add_argument("--half", default=None, help="every program of this half (never an unseen judge)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.half in UNSEEN:
        parser.error(f"{args.half} is an unseen judge: never read here")
    if args.half:
        from bench_repair import halves

        args.programs += [n for n, h in sorted(halves().items()) if h == args.half]
    for name in args.programs:
        d = dump(name, args.seed)
        print(f"== {name} (seed {args.seed}): {len(d['plausible'])} plausible of {d['size']} single edits")
        for p in d["plausible"]:
            print(f"  #{p['rank']:4} {'GENUINE' if p['genuine'] else 'gaming '} {p['family']:12} w={p['weight']:<8} "
                  f"{p['description']}  | {p['source']}")
        if args.json:
            with args.json.open("a") as fh:
                fh.write(json.dumps({**d, "seed": args.seed}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
