"""Reach of two-edit children on the repair suite: does any pair of a program's likeliest single
edits repair it, genuinely? (An upper bound for every pair order, measured before building one.)

    python benchmarks/pairs_reach.py --programs find_all min_max [--top 40] [--out pairs_reach.jsonl]
    python benchmarks/pairs_reach.py --half tuning --top 40

For each program: the root's ``--top`` first valid single edits in the real generator's order
(seed 1, pairs off), every pair of them on different nodes evaluated on the visible tests, and
the ones passing them on the held-out tests too. Also the *stones*: the single edits that make a
failing visible task pass (whatever they break), which a partial-fix pairing would combine. A row
per program: ``plausible`` / ``genuine`` pair counts, the first genuine pair's ranks, and stones.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


def reach(name: str, top: int) -> dict[str, Any]:
    from bench_repair import _evaluator, _score, load_cases, materialize
    from bench_search_loop import _write, evaluate
    from darwin_core.plugins import PluginManager
    from darwin_core.record import ROOT_ID
    from darwin_core.targeting import choose_target
    from darwin_hookspecs import BuildContext, GenerationContext, Variant
    from darwin_plugins.mutation import pairs as two

    case = load_cases()[name]
    with tempfile.TemporaryDirectory(prefix="pairs-reach-") as tmp:
        problem = materialize(case, Path(tmp))
        root_files = {p.relative_to(problem.program).as_posix(): p.read_text() for p in sorted(problem.program.rglob("*.py"))}

        def run(files: dict[str, str], holdout: bool = False) -> dict[str, Any]:
            return evaluate(_evaluator(), problem, {**root_files, **files}, Path(tmp) / "eval", holdout=holdout)

        results = run({})
        root = Variant(id=ROOT_ID, parent_id=None, generation=0, status="accepted", score=_score(results),
                       task_results=results, stage_reached=0)
        failing = {t for t, r in results.items() if not r.passed}
        gen = PluginManager().create("generator", "mutation", {"pairs": 0}, BuildContext(seed=1))
        parent_dir = Path(tmp) / "parent"
        _write(root_files, problem.tests, parent_dir)
        gen.propose(GenerationContext(run_id="reach", attempt_id="a0", parent=root, parent_dir=parent_dir,
                                      target=choose_target(root, random.Random(0)), seed=0))
        hood = next(iter(gen.neighbourhoods.items.values()))
        hood.nth(top - 1)
        firsts = [i for i, _ in hood.valid[:top]]
        stones = []
        for rank, (_, new) in enumerate(hood.valid[:top]):
            out = run({hood.edits[firsts[rank]].rel: new})
            if any(out[t].passed for t in failing):
                stones.append(rank)
        plausible, genuine = 0, []
        for a, b in itertools.combinations(range(len(firsts)), 2):
            ea, eb = hood.edits[firsts[a]], hood.edits[firsts[b]]
            if ea.site.node is eb.site.node:
                continue
            changes = two._apply(hood, [ea, eb])
            if changes is None or _score(run(changes)) < 1.0:
                continue
            plausible += 1
            if _score(run(changes, holdout=True)) >= 1.0:
                genuine.append([a, b, f"{ea.description} (line {ea.site.line}); {eb.description} (line {eb.site.line})"])
    return {"program": name, "top": top, "singles": len(firsts), "root": round(root.score, 3),
            "stones": stones, "plausible_pairs": plausible, "genuine_pairs": len(genuine),
            "first_genuine": genuine[0] if genuine else None,
            "genuine_stone_pairs": sum(a in stones and b in stones for a, b, _ in genuine)}


def main(argv: list[str] | None = None) -> int:
    from bench_repair import halves

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", default=None, help="a half of repair_suite/split.toml")
    parser.add_argument("--programs", nargs="+", default=None)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    split = halves()
    names = args.programs or [n for n in sorted(split) if split[n] == args.half]
    if not names:
        parser.error("name --programs or a --half")
    for name in names:
        row = reach(name, args.top)
        print(json.dumps(row), flush=True)
        if args.out:
            with args.out.open("a") as out:
                out.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
