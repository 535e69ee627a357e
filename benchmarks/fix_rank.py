"""Where a repair-suite program's own fix sits in its root's single-edit order, and how large the
neighbourhood is per family (no search; one evaluation of the root for its coverage).

    python benchmarks/fix_rank.py --programs grid_steps mat_mul --seeds 1 2 3 [--options JSON]
    python benchmarks/fix_rank.py --half tuning --sizes-only

A row per program: the neighbourhood's size (all edits, and per family), and per seed the rank of
the first valid mutant whose syntax tree equals the fixed program's (``None``: not a single edit).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_repair import UNSEEN  # noqa: E402 - the unseen judges: run only through bench_repair.py, totals only


def rank(name: str, seeds: list[int], options: dict[str, Any], sizes_only: bool) -> dict[str, Any]:
    from bench_repair import load_cases, materialize
    from root_proposals import evaluated_root, root_neighbourhood

    case = load_cases()[name]
    fixed = ast.dump(ast.parse(case.fixed()))
    row: dict[str, Any] = {"program": name}
    with tempfile.TemporaryDirectory(prefix="fix-rank-") as tmp:
        problem = materialize(case, Path(tmp))
        root, _, parent_dir = evaluated_root(problem, Path(tmp))
        for seed in seeds:
            _, hood = root_neighbourhood(root, parent_dir, seed=seed, options=options)
            if "size" not in row:
                row["size"] = len(hood.edits)
                row["families"] = dict(Counter(e.site.family for e in hood.edits).most_common())
            if sizes_only:
                break
            found = None
            k = 0
            while (item := hood.nth(k)) is not None:
                edit, new = item
                if ast.dump(ast.parse(new)) == fixed:
                    found = [k, edit.site.family, edit.description]
                    break
                k += 1
            row[f"seed{seed}"] = found
            row.setdefault("valid", len(hood.valid) if found is None else None)
    return row


def main(argv: list[str] | None = None) -> int:
    from bench_repair import halves

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", default=None)
    parser.add_argument("--programs", nargs="+", default=None)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--options", default="{}", help="generator options (JSON)")
    parser.add_argument("--sizes-only", action="store_true")
    args = parser.parse_args(argv)
    split = halves()
    names = args.programs or [n for n in sorted(split) if split[n] == args.half]
    if not names or set(UNSEEN) & {split.get(n) for n in names}:
        parser.error(f"name --programs or a --half (never the unseen judges {', '.join(UNSEEN)})")
    for name in names:
        print(json.dumps(rank(name, args.seeds, json.loads(args.options), args.sizes_only)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
