"""Fit the mutation generator's family weights to where the seen programs' fixes sit in the root's order.

    python benchmarks/order_fit.py dump --out /tmp/hoods.jsonl          # every seen program, ~6 min
    python benchmarks/order_fit.py fit --hoods /tmp/hoods.jsonl [--l2 1.0] [--sharpness 4]

``dump`` builds each seen program's root neighbourhood (single edits, the default options but
``pairs = 0``; the root evaluated once for its coverage) and writes, per distinct valid mutant,
its family and its weight without the family's prior (``base``), and which mutant is the
program's written fix (its syntax tree equals the fixed program's). The unseen judges
(``fresh10``, ``fresh12``) are never loaded.

``fit`` needs no evaluation: with the order's keys ``u ** (1 / w ** s)`` (Efraimidis-Spirakis),
mutant ``j`` comes before ``i`` with probability ``w_j^s / (w_i^s + w_j^s)``, so the fix's expected
rank is a smooth function of the family weights. It minimises the mean ``log(1 + expected rank)``
over the programs whose fix is a single edit, with an L2 penalty on the log-ratio to the
committed weights, and reports it leave-one-half-out (weights fitted without a half, scored on
it) against the committed weights: mean log rank, and programs whose fix is expected within 25,
50, 100 and 200 mutants.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_repair import UNSEEN  # noqa: E402


def dump_program(name: str) -> dict[str, Any]:
    """One program's root neighbourhood: ``{"program", "half", "mutants": [[family, base, fix], ...]}``."""
    from bench_repair import halves, load_cases, materialize
    from darwin_plugins.mutation.operators import apply_edits
    from root_proposals import evaluated_root, root_neighbourhood

    case = load_cases()[name]
    fixed = ast.dump(ast.parse(case.fixed()))
    with tempfile.TemporaryDirectory(prefix="order-fit-") as tmp:
        problem = materialize(case, Path(tmp))
        root, _, parent_dir = evaluated_root(problem, Path(tmp))
        gen, hood = root_neighbourhood(root, parent_dir)
        priors = gen.priors
        groups: dict[str, list[Any]] = {}
        for edit in hood.edits:
            try:
                new = apply_edits(hood.parsed[edit.rel], [(edit.site, edit.alt)])
                compile(new, edit.rel, "exec")
            except Exception:  # noqa: BLE001 - an invalid mutant is never evaluated
                continue
            if new == hood.sources[edit.rel]:
                continue
            digest = hashlib.sha1(f"{edit.rel}\0{new}".encode()).hexdigest()
            base = edit.weight / priors[edit.site.family]
            entry = groups.get(digest)
            if entry is None or base > entry[1]:  # a mutant reached by several edits: its heaviest
                is_fix = entry[2] if entry else False
                entry = groups[digest] = [edit.site.family, base, is_fix]
            if not entry[2] and ast.dump(ast.parse(new)) == fixed:
                entry[2] = True
    return {"program": name, "half": halves()[name], "mutants": list(groups.values())}


def expected_rank(mutants: list[list[Any]], weights: dict[str, float], sharpness: float) -> float | None:
    """The fix's expected rank among the distinct valid mutants (``None``: no single-edit fix)."""
    fixes = [m for m in mutants if m[2]]
    if not fixes:
        return None
    wi = (weights[fixes[0][0]] * fixes[0][1]) ** sharpness
    rank = 0.0
    for family, base, is_fix in mutants:
        if is_fix:
            continue
        wj = (weights[family] * base) ** sharpness
        rank += wj / (wi + wj) if wi + wj > 0 else 0.5
    return rank


def objective(rows: list[dict[str, Any]], weights: dict[str, float], sharpness: float) -> float:
    ranks = [expected_rank(r["mutants"], weights, sharpness) for r in rows]
    values = [math.log1p(r) for r in ranks if r is not None]
    return sum(values) / max(len(values), 1)


def fit(rows: list[dict[str, Any]], start: dict[str, float], sharpness: float, l2: float,
        rounds: int = 6) -> dict[str, float]:
    """Coordinate search on each family's log-ratio to ``start`` (steps halving per round)."""
    used = sorted({m[0] for r in rows for m in r["mutants"]})
    theta = {f: 0.0 for f in used}

    def weights_of(t: dict[str, float]) -> dict[str, float]:
        return {f: start[f] * math.exp(t.get(f, 0.0)) for f in start}

    def loss(t: dict[str, float]) -> float:
        return objective(rows, weights_of(t), sharpness) + l2 * sum(v * v for v in t.values()) / max(len(used), 1)

    best = loss(theta)
    step = 1.0
    for _ in range(rounds):
        for family in used:
            for delta in (step, -step):
                trial = dict(theta, **{family: theta[family] + delta})
                value = loss(trial)
                if value < best - 1e-9:
                    theta, best = trial, value
        step /= 2
    return weights_of(theta)


def summary(rows: list[dict[str, Any]], weights: dict[str, float], sharpness: float) -> dict[str, Any]:
    ranks = [r for r in (expected_rank(x["mutants"], weights, sharpness) for x in rows) if r is not None]
    out: dict[str, Any] = {"programs": len(ranks), "mean_log_rank": round(objective(rows, weights, sharpness), 4)}
    for limit in (25, 50, 100, 200):
        out[f"within{limit}"] = sum(1 for r in ranks if r < limit)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    dump = sub.add_parser("dump")
    dump.add_argument("--out", required=True)
    dump.add_argument("--programs", nargs="+")
    fitting = sub.add_parser("fit")
    fitting.add_argument("--hoods", required=True)
    fitting.add_argument("--l2", type=float, default=1.0)
    fitting.add_argument("--sharpness", type=float, default=4.0)
    args = parser.parse_args(argv)
    if args.command == "dump":
        from bench_repair import halves

        split = halves()
        names = args.programs or sorted(n for n, h in split.items() if h not in UNSEEN)
        if any(split.get(n) in UNSEEN for n in names):
            parser.error(f"never the unseen judges {', '.join(UNSEEN)}")
        with open(args.out, "w") as out:
            for name in names:
                out.write(json.dumps(dump_program(name)) + "\n")
                out.flush()
        return 0
    from darwin_plugins.mutation.generator import PRIORS

    rows = [json.loads(line) for line in open(args.hoods)]
    start = dict(PRIORS)
    print(json.dumps({"fold": "all", "committed": summary(rows, start, args.sharpness)}))
    totals: dict[str, dict[str, float]] = {"committed": {}, "fitted": {}}
    for half in sorted({r["half"] for r in rows}):
        train = [r for r in rows if r["half"] != half]
        test = [r for r in rows if r["half"] == half]
        fitted = fit(train, start, args.sharpness, args.l2)
        row = {"fold": half, "committed": summary(test, start, args.sharpness), "fitted": summary(test, fitted, args.sharpness)}
        for arm in totals:
            for key, value in row[arm].items():
                totals[arm][key] = totals[arm].get(key, 0) + (value if key != "mean_log_rank" else value * row[arm]["programs"])
        print(json.dumps(row), flush=True)
    for arm in totals:
        totals[arm]["mean_log_rank"] = round(totals[arm]["mean_log_rank"] / max(totals[arm]["programs"], 1), 4)
    print(json.dumps({"fold": "held-out total", **totals}))
    final = fit(rows, start, args.sharpness, args.l2)
    print(json.dumps({"fitted_on_all": {f: round(w, 4) for f, w in final.items() if abs(w - start[f]) > 1e-9}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
