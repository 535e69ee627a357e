"""Search strategies side by side at equal attempt budgets (issue 14's evidence).

    python benchmarks/bench_search.py [--seeds 8] [--problems quickstart repair]
        [--arms best score_child_prop cmp map_elites islands root] [--multi 1.5 | --edits 1.5] [--jobs 3]
        [--out results.jsonl] [--plot docs/search_bench.png] [--table-only results.jsonl] [--children 4]

Each arm is a selection strategy with the mutation generator, single-edit and (``--multi``)
multi-edit (``edits_mean = 1.5``); ``root`` is the baseline of the root's neighbourhood
enumerated in priority order, no archive. Problems: the quickstart (16 tests, 5 held out as its
tasks.toml says; stops at 1.0), examples/repair (eleven bugs, two needing two edits; held-out
tests scored at the end, a *genuine* repair passes them all), and two optimisation problems
with an ``evaluator.py`` and no stop (examples/spread, examples/packing; arm ``hillclimb`` is
their baseline, 400 attempts; ``--first-seed`` keeps tuning seeds apart from reported ones).
Reports mean +/- s.e.m. of the final best, the attempts to
first reach it, and the held-out score, over seeds. The loop and the evaluator are in
``bench_search_loop.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
EXAMPLES = HERE.parent / "examples"

BUDGETS = {"quickstart": 200, "repair": 200, "spread": 400, "packing": 400}
STOP_AT = {"spread": None, "packing": None}
"""Problems without a known maximum run their whole budget (the others stop at 1.0)."""
ARMS = ["best", "score_child_prop", "cmp", "map_elites", "islands", "root"]
SELECTION_OPTIONS: dict[str, dict[str, Any]] = {
    "islands": {"islands": 4, "rules": ["best"], "migrate_every": 5},
    "map_elites": {"features": ["behaviour", "distance"], "exploit": 0.5},
}

_EVALUATOR: Any = None
GENERATOR_OPTIONS = ""
"""``--generator-options`` (JSON), e.g. ``{"perturb": 0}`` for the generator without perturbation."""
VARIANT = ""
"""``--variant``: a label recorded on each row (a before/after comparison)."""
CHILDREN = 4
"""``--children``: children per generation (the engine's ``children_per_generation``)."""


def _init(generator_options: str, variant: str, children: int = 4) -> None:
    global GENERATOR_OPTIONS, VARIANT, CHILDREN
    GENERATOR_OPTIONS, VARIANT, CHILDREN = generator_options, variant, children


def problems() -> dict[str, Any]:
    from bench_search_loop import Problem
    from bench_search_optim import OptimProblem

    return {
        "quickstart": Problem("quickstart", EXAMPLES / "quickstart/program", EXAMPLES / "quickstart/benchmark", timeout=0.5,
                              holdout_files=("test_holdout.py",)),
        "repair": Problem("repair", EXAMPLES / "repair/program", EXAMPLES / "repair/benchmark",
                          EXAMPLES / "repair/holdout", timeout=0.1),
        "spread": OptimProblem("spread", EXAMPLES / "spread/program", EXAMPLES / "spread/evaluator.py",
                               "spread.py", "spread"),
        "packing": OptimProblem("packing", EXAMPLES / "packing/program", EXAMPLES / "packing/evaluator.py",
                                "packing.py", "sum_radii"),
    }


def _job(problem: str, arm: str, edits: float, seed: int, budget: int) -> dict[str, Any]:
    global _EVALUATOR
    from bench_search_loop import Evaluator, search

    if _EVALUATOR is None:
        _EVALUATOR = Evaluator()
    if arm == "hillclimb":  # the throwaway baseline: perturb one literal, keep if better
        from bench_search_optim import hillclimb

        outcome = hillclimb(problems()[problem], _EVALUATOR, seed=seed, budget=budget)
        return {"problem": problem, "arm": arm, "edits_mean": edits, "seed": seed, "budget": budget,
                "children": 1, **outcome}
    options: dict[str, Any] = {"edits_mean": edits} if edits > 1 else {}
    options.update(json.loads(GENERATOR_OPTIONS) if GENERATOR_OPTIONS else {})
    result = search(problems()[problem], _EVALUATOR, seed=seed, selection=arm,
                    selection_options=SELECTION_OPTIONS.get(arm, {}), generator_options=options,
                    budget=budget, stop_at=STOP_AT.get(problem, 1.0), per_generation=CHILDREN)
    return {"problem": problem, "arm": arm, "edits_mean": edits, "seed": seed, "budget": budget,
            "variant": VARIANT, "children": CHILDREN, **asdict(result)}


def _mean_sem(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    mean = statistics.fmean(values)
    sem = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0
    return mean, sem


def _label(r: dict[str, Any]) -> str:
    """Arm, variant, and children per generation when not the default 4 (rows before the option have 4)."""
    children = r.get("children", 4) if r["arm"] != "hillclimb" else 4
    return (r["arm"] + (f" ({r['variant']})" if r.get("variant") else "")
            + (f" children {children}" if children != 4 else ""))


def table(rows: list[dict[str, Any]]) -> str:
    groups: dict[tuple[str, str, float], list[dict[str, Any]]] = {}
    for r in rows:
        arm = _label(r)
        groups.setdefault((r["problem"], arm, r["edits_mean"]), []).append(r)
    lines = ["| problem | selection | edits | seeds | final best | attempts to it | held-out | genuine | solved "
             "| scored 0 | tied parent |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (problem, arm, edits), rs in sorted(groups.items()):
        best, best_sem = _mean_sem([r["best"] for r in rs])
        first, first_sem = _mean_sem([r["first_at"] for r in rs])
        held = [r["holdout"] for r in rs if r["holdout"] is not None]
        held_txt = "-" if not held else "%.3f ± %.3f" % _mean_sem(held)
        genuine = "-" if not held else str(sum(h >= 1.0 for h in held))
        solved = "-" if problem in STOP_AT else str(sum(r["best"] >= 1.0 for r in rs))
        zeros = statistics.fmean(r.get("zeros", 0) for r in rs)
        ties = statistics.fmean(r.get("ties", 0) for r in rs)
        lines.append(f"| {problem} | {arm} | {'single' if edits <= 1 else f'mean {edits:g}'} | {len(rs)} | "
                     f"{best:.3f} ± {best_sem:.3f} | {first:.0f} ± {first_sem:.0f} | {held_txt} | {genuine} | {solved} "
                     f"| {zeros:.0f} | {ties:.0f} |")
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({r["problem"] for r in rows})
    fig, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 4), squeeze=False)
    for ax, problem in zip(axes[0], names):
        arms = sorted({(_label(r), r["edits_mean"]) for r in rows if r["problem"] == problem})
        labels, means, sems, held = [], [], [], []
        for arm, edits in arms:
            rs = [r for r in rows if r["problem"] == problem and _label(r) == arm and r["edits_mean"] == edits]
            m, s = _mean_sem([r["best"] for r in rs])
            labels.append(arm.replace(" (", "\n(").replace(" children", "\nchildren")
                          + ("" if edits <= 1 else f"\nedits {edits:g}"))
            means.append(m)
            sems.append(s)
            h = [r["holdout"] for r in rs if r["holdout"] is not None]
            held.append(statistics.fmean(h) if h else None)
        x = range(len(labels))
        ax.bar(x, means, yerr=sems, capsize=3, color="#4c72b0", label="final best (visible tests)")
        if any(h is not None for h in held):
            ax.scatter(list(x), [h if h is not None else float("nan") for h in held], color="#dd8452",
                       zorder=3, label="held-out score of the best")
        ax.set_xticks(list(x))
        ax.set_xticklabels(labels, fontsize=7, rotation=30)
        budget = max(r["budget"] for r in rows if r["problem"] == problem)
        ax.set_title(f"{problem}: mean ± s.e.m. over seeds, {budget} attempts", fontsize=9)
        if problem not in STOP_AT:
            ax.set_ylim(0, 1.05)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--first-seed", type=int, default=1, help="seeds run from this one (tuning seeds apart)")
    parser.add_argument("--problems", nargs="+", default=list(BUDGETS))
    parser.add_argument("--arms", nargs="+", default=ARMS)
    parser.add_argument("--multi", type=float, default=0.0, help="also run each arm with this edits_mean")
    parser.add_argument("--edits", type=float, nargs="+", default=None, help="edits_mean values (instead of 1 and --multi)")
    parser.add_argument("--budget", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("bench_search.jsonl"))
    parser.add_argument("--plot", type=Path, default=None)
    parser.add_argument("--table-only", type=Path, default=None)
    parser.add_argument("--generator-options", default="", help="JSON options of the mutation generator")
    parser.add_argument("--variant", default="", help="a label recorded on each row (before/after)")
    parser.add_argument("--children", type=int, default=4, help="children per generation (hillclimb: always 1)")
    args = parser.parse_args(argv)
    if args.table_only:
        rows = [json.loads(l) for l in args.table_only.read_text().splitlines() if l.strip()]
    else:
        done = set()
        if args.out.exists():  # resumable: jobs already in the file are not rerun
            for l in args.out.read_text().splitlines():
                r = json.loads(l)
                done.add((r["problem"], r["arm"], r["edits_mean"], r["seed"], r.get("variant", ""),
                          r.get("children", 4) if r["arm"] != "hillclimb" else 1))
        edits = args.edits or [1.0] + ([args.multi] if args.multi > 1 else [])
        jobs = [(p, a, e, s, args.budget or BUDGETS[p]) for s in range(args.first_seed, args.first_seed + args.seeds)
                for p in args.problems for a in args.arms for e in edits
                if (p, a, e, s, args.variant, 1 if a == "hillclimb" else args.children) not in done]
        with ProcessPoolExecutor(max_workers=args.jobs, initializer=_init,
                                 initargs=(args.generator_options, args.variant, args.children)) as pool, \
                args.out.open("a") as out:
            futures = [pool.submit(_job, *job) for job in jobs]
            for future in as_completed(futures):
                row = future.result()
                out.write(json.dumps(row) + "\n")
                out.flush()
                print(f"{row['problem']:10} {row['arm']:16} edits={row['edits_mean']:<4} seed={row['seed']} "
                      f"best={row['best']:.3f} at {row['first_at']} held-out={row['holdout']} ({row['seconds']:.0f}s)", flush=True)
        rows = [json.loads(l) for l in args.out.read_text().splitlines() if l.strip()]
    print(table(rows))
    if args.plot:
        plot(rows, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
