"""Program repair on a suite of small buggy programs: Darwin's search, random sampling, every single edit (200 attempts).

    python benchmarks/bench_repair.py [--half tuning|validation|fresh|fresh2|...|fresh12|all] [--seeds 3] [--jobs 2]
        [--arms darwin random exhaustive] [--label NAME] [--generator-options JSON]
        [--selection best] [--out bench_repair.jsonl] [--table-only FILE] [--check]
        [--plausible-extra K --plausible-from search|root|site|parent] [--engine-extras 0 30]

Programs: ``benchmarks/repair_suite/*.toml`` (each one bug, visible and held-out tests; see its
README), split into a tuning and a validation half by ``repair_suite/split.toml``, plus ``fresh``,
``fresh2`` ... ``fresh12`` halves written after the tuning and never tuned against
(``--half all`` is tuning + validation). Arms:

- ``darwin``: the real mutation generator and selection (``best`` by default), ``--budget``
  attempts, stopping at 1.0 on the visible tests, through the search harness
  (``bench_search_loop.search``: planned like the engine, duplicates skipped, evaluations in a
  forked process) or, with ``--engine-extras K...``, the engine (``engine_repair.py``, arms ``engine+K``);
- ``exhaustive``: every valid, distinct single edit of the root (the generator's whole
  neighbourhood) evaluated: solved when one passes the visible tests, genuine when one of those
  also passes the held-out tests;
- ``random``: ``--budget`` single-edit mutants of the root drawn uniformly *with replacement*
  from that same neighbourhood, stopping at the first that passes the visible tests (issue 14's
  throwaway baseline); its draws are read from the exhaustive arm's evaluations (same results
  as evaluating them again, no extra cost).

*Solved*: the final best passes every visible test; *genuine*: it passes every held-out test too. ``--plausible-extra
K`` (a prototype): the darwin arm goes on K attempts after its first 1.0 (from ``--plausible-from``), a row per choice
(``plausible_choice.py``), labelled ``NAME+K<from>:<criterion>``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SUITE = HERE / "repair_suite"
TIMEOUT = 0.2

TEST_HEADER = '''from {module} import *  # noqa: F401,F403


def raises(fn, kind):
    try:
        fn()
    except kind:
        return True
    return False
'''


@dataclass
class Case:
    name: str
    bug: str
    edits: int
    program: str
    fix: list[list[str]]
    visible: list[str]
    holdout: list[str]

    def fixed(self) -> str:
        text = self.program
        for old, new in self.fix:
            if text.count(old) != 1:
                raise ValueError(f"{self.name}: fix text {old!r} occurs {text.count(old)} times (need 1)")
            text = text.replace(old, new)
        return text


def load_cases() -> dict[str, Case]:
    cases = {}
    for path in sorted(SUITE.glob("*.toml")):
        if path.name == "split.toml":
            continue
        data = tomllib.loads(path.read_text())
        cases[path.stem] = Case(name=path.stem, bug=data["bug"], edits=int(data["edits"]),
                                program=data["program"].lstrip("\n"), fix=data["fix"],
                                visible=data["visible"], holdout=data["holdout"])
    return cases


HALVES = ("tuning", "validation", "fresh", "fresh2", "fresh3", "fresh4", "fresh5", "fresh6", "fresh7", "fresh8",
          "fresh9", "fresh10", "fresh11", "fresh12")
UNSEEN = ("fresh10", "fresh12")
"""The unseen judges: run only through this script's search arms, totals read; the analysis
aids (fix_rank, order_fit, plausible_dump, proposal_hash) refuse or skip them."""


def halves() -> dict[str, str]:
    """``{program: "tuning" | "validation" | "fresh" | "fresh2" | ... | "fresh12"}`` (each program in
    exactly one half)."""
    split = tomllib.loads((SUITE / "split.toml").read_text())
    out: dict[str, str] = {}
    for half in HALVES:
        for name in split.get(half, []):
            if name in out:
                raise ValueError(f"split.toml: {name} is in two halves")
            out[name] = half
    missing = set(load_cases()) - set(out)
    if missing:
        raise ValueError(f"split.toml: {sorted(missing)} in no half")
    return out


def _tests(module: str, expressions: list[str]) -> str:
    body = [TEST_HEADER.format(module=module)]
    for i, expr in enumerate(expressions, start=1):
        body.append(f"\ndef test_{i:02d}():\n    assert {expr}\n")
    return "".join(body)


def materialize(case: Case, root: Path, fixed: bool = False) -> Any:
    """Write the case's program, visible and held-out tests under ``root``; its ``Problem``."""
    from bench_search_loop import Problem

    (root / "program").mkdir(parents=True, exist_ok=True)
    (root / "program" / f"{case.name}.py").write_text(case.fixed() if fixed else case.program)
    for part, expressions, name in (("benchmark", case.visible, "test_visible.py"),
                                    ("holdout", case.holdout, "test_holdout.py")):
        (root / part / "tests").mkdir(parents=True, exist_ok=True)
        (root / part / "tests" / name).write_text(_tests(case.name, expressions))
    return Problem(case.name, root / "program", root / "benchmark", root / "holdout", timeout=TIMEOUT)


# ------------------------------------------------------------------ arms

_EVALUATOR: Any = None


def _evaluator() -> Any:
    global _EVALUATOR
    from bench_search_loop import Evaluator

    if _EVALUATOR is None:
        _EVALUATOR = Evaluator()
    return _EVALUATOR


def _score(results: dict[str, Any]) -> float:
    return sum(r.score for r in results.values()) / max(len(results), 1)


def run_darwin(name: str, seed: int, budget: int, selection: str, generator_options: dict[str, Any],
               selection_options: dict[str, Any], per_generation: int, extra: int = 0,
               extra_from: str = "search") -> dict[str, Any]:
    from bench_search_loop import evaluate, search

    case = load_cases()[name]
    with tempfile.TemporaryDirectory(prefix="bench-repair-") as tmp:
        problem = materialize(case, Path(tmp))
        out = search(problem, _evaluator(), seed=seed, selection=selection, selection_options=selection_options,
                     generator_options=generator_options, budget=budget, per_generation=per_generation, stop_at=1.0,
                     extra=extra, extra_from=extra_from)
        picks = None
        if extra:  # every plausible variant's held-out result, to judge each criterion's pick
            from bench_search_loop import Problem
            from plausible_choice import add_behaviour, candidates, choices

            def run(text: str, files: dict[str, str]) -> dict[str, Any]:
                (Path(tmp) / "probe" / "tests").mkdir(parents=True, exist_ok=True)
                (Path(tmp) / "probe" / "tests" / "test_probe.py").write_text(text)
                probe = Problem(case.name, problem.program, Path(tmp) / "probe", None, timeout=TIMEOUT)
                return evaluate(_evaluator(), probe, files, Path(tmp) / "eval")
            add_behaviour(case.name, case.visible, out.plausible, case.program, run)
            held = [_score(evaluate(_evaluator(), problem, p["files"], Path(tmp) / "eval", holdout=True)) >= 1.0
                    for p in out.plausible[1:]]
            picks = {**choices(out.plausible, held), "plausible": len(held), "plausible_genuine": sum(held),
                     "candidates": candidates(out.plausible, held)}
    solved = out.best >= 1.0
    return {"picks": picks, "solved": solved, "genuine": solved and (out.holdout or 0.0) >= 1.0, "best": out.best,
            "holdout": out.holdout, "attempts": out.attempts, "evaluations": out.evaluations,
            "first_at": out.first_at, "seconds": round(out.seconds, 2)}


def neighbourhood(problem: Any, seed: int = 1) -> list[dict[str, str]]:
    """Every valid, distinct single-edit mutant of the root, as the real generator proposes them."""
    from root_proposals import root_proposals

    # single edits only: with pairs on (the default) they take turns with singles halfway through
    with tempfile.TemporaryDirectory(prefix="bench-repair-hood-") as tmp:
        return [files for _, _, files, _ in root_proposals(problem, Path(tmp), seed, "hood")]


def run_exhaustive(name: str, seeds: list[int], budget: int) -> list[dict[str, Any]]:
    """The exhaustive arm's row, and the random arm's rows (one per seed) read from it."""
    from bench_search_loop import evaluate

    t0 = time.perf_counter()
    case = load_cases()[name]
    with tempfile.TemporaryDirectory(prefix="bench-repair-") as tmp:
        problem = materialize(case, Path(tmp))
        mutants = neighbourhood(problem)
        visible, genuine = [], {}
        for i, files in enumerate(mutants):
            visible.append(_score(evaluate(_evaluator(), problem, files, Path(tmp) / "eval")))
            if visible[-1] >= 1.0:
                genuine[i] = _score(evaluate(_evaluator(), problem, files, Path(tmp) / "eval", holdout=True)) >= 1.0
    repairs = [i for i, v in enumerate(visible) if v >= 1.0]
    rows = [{"arm": "exhaustive", "seed": 0, "solved": bool(repairs), "genuine": any(genuine.values()),
             "neighbourhood": len(mutants), "repairs": len(repairs), "genuine_repairs": sum(genuine.values()),
             "evaluations": len(mutants), "seconds": round(time.perf_counter() - t0, 2)}]
    for seed in seeds:
        rng = random.Random(f"random:{name}:{seed}")
        hit = None
        for attempt in range(1, budget + 1):
            if not mutants:
                break
            i = rng.randrange(len(mutants))
            if visible[i] >= 1.0:
                hit = (i, attempt)
                break
        rows.append({"arm": "random", "seed": seed, "solved": hit is not None,
                     "genuine": hit is not None and genuine[hit[0]], "first_at": hit[1] if hit else None,
                     "neighbourhood": len(mutants)})
    return rows


def check() -> int:
    """Every buggy program fails a visible test; every fixed one passes all tests."""
    from bench_search_loop import evaluate

    problems = 0
    for name, case in load_cases().items():
        with tempfile.TemporaryDirectory(prefix="bench-repair-check-") as tmp:
            for fixed in (False, True):
                problem = materialize(case, Path(tmp) / str(fixed), fixed=fixed)
                files = {p.name: p.read_text() for p in problem.program.glob("*.py")}
                vis = evaluate(_evaluator(), problem, files, Path(tmp) / "eval")
                held = evaluate(_evaluator(), problem, files, Path(tmp) / "eval", holdout=True)
                failing = [t for t, r in {**vis, **held}.items() if not r.passed]
                if fixed and failing:
                    problems += 1
                    print(f"{name}: the FIXED program fails {failing}: {[(vis | held)[t].log[-300:] for t in failing]}")
                if not fixed and all(r.passed for r in vis.values()):
                    problems += 1
                    print(f"{name}: the buggy program passes every visible test")
                if not fixed:
                    print(f"{name:16} buggy: visible {_score(vis):.2f}, held-out {_score(held):.2f}")
    print("suite OK" if not problems else f"{problems} problem(s)")
    return 1 if problems else 0


# ------------------------------------------------------------------ driver


def _job(kind: str, name: str, seed: int, args: dict[str, Any]) -> list[dict[str, Any]]:
    if kind == "exhaustive":
        rows = run_exhaustive(name, args["seeds"], args["budget"])
    elif kind.startswith("engine+"):
        from engine_repair import job
        return job(load_cases()[name], seed, args, int(kind.split("+")[1]))
    else:
        row = run_darwin(name, seed, args["budget"], args["selection"], args["generator_options"],
                         args["selection_options"], args["per_generation"], args["plausible_extra"],
                         args["plausible_from"])
        picks = row.pop("picks")
        rows = [{"arm": "darwin", "seed": seed, **row}]
        if picks:  # one row per criterion (label NAME+K:criterion), same run
            kept = ("plausible", "plausible_genuine", "candidates")  # candidates: on the `first` row only
            rows = [{**rows[0], "genuine": rows[0]["solved"] and picks[c], "criterion": c,
                     **{k: picks[k] for k in kept[:2 + (c == "first")]}} for c in picks if c not in kept]
    def label(r: dict[str, Any]) -> str:
        if r["arm"] != "darwin":
            return r["arm"]
        if "criterion" not in r:
            return args["label"]
        return f"{args['label']}+{args['plausible_extra']}{args['plausible_from'][0]}:{r['criterion']}"
    return [{"program": name, "half": args["halves"][name], "label": label(r),
             "budget": args["budget"], **r} for r in rows]


def table(rows: list[dict[str, Any]]) -> str:
    """Per arm (label) and half: solved and genuine per seed (mean, min-max) of the programs."""
    groups: dict[tuple[str, str], dict[int, list[dict[str, Any]]]] = {}
    sizes: dict[str, set[str]] = {}
    for r in rows:
        groups.setdefault((r["label"], r["half"]), {}).setdefault(r["seed"], []).append(r)
        sizes.setdefault(r["half"], set()).add(r["program"])
    lines = ["| arm | half | programs | seeds | solved | genuine | attempts (solved runs) |",
             "|---|---|---|---|---|---|---|"]
    for (label, half), by_seed in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        solved = [sum(r["solved"] for r in rs) for rs in by_seed.values()]
        genuine = [sum(r["genuine"] for r in rs) for rs in by_seed.values()]
        firsts = [r.get("first_at") for rs in by_seed.values() for r in rs if r["solved"] and r.get("first_at")]
        n = len(sizes[half])

        def fmt(xs: list[int]) -> str:
            mean = sum(xs) / len(xs)
            return f"{mean:.1f}" + ("" if min(xs) == max(xs) else f" ({min(xs)}-{max(xs)})")
        first = f"{sum(firsts) / len(firsts):.0f}" if firsts else "-"
        lines.append(f"| {label} | {half} | {n} | {len(by_seed)} | {fmt(solved)} | {fmt(genuine)} | {first} |")
    return "\n".join(lines)


def per_program(rows: list[dict[str, Any]]) -> str:
    labels = sorted({r["label"] for r in rows})
    progs = sorted({(r["half"], r["program"]) for r in rows})
    lines = ["| half | program | " + " | ".join(labels) + " |", "|---|---|" + "---|" * len(labels)]
    for half, prog in progs:
        cells = []
        for label in labels:
            rs = [r for r in rows if r["program"] == prog and r["label"] == label]
            cells.append("-" if not rs else f"{sum(r['genuine'] for r in rs)}/{sum(r['solved'] for r in rs)}/{len(rs)}")
        lines.append(f"| {half} | {prog} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n(cells: genuine/solved/runs)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=[*HALVES, "all"],
                        help="all = tuning + validation (the fresh halves are only ever measured on their own)",
                        default="tuning")
    parser.add_argument("--programs", nargs="+", default=None, help="only these programs")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--arms", nargs="+", choices=["darwin", "random", "exhaustive"],
                        default=["darwin", "random", "exhaustive"])
    parser.add_argument("--label", default="darwin", help="name of the darwin arm's configuration in the table")
    parser.add_argument("--selection", default="best")
    parser.add_argument("--selection-options", type=json.loads, default={})
    parser.add_argument("--generator-options", type=json.loads, default={})
    parser.add_argument("--per-generation", type=int, default=4)
    parser.add_argument("--plausible-from", choices=["search", "root", "site", "parent"], default="search",
                        help="where the extra attempts start (bench_search_loop.search's extra_from)")
    parser.add_argument("--plausible-extra", type=int, default=0,
                        help="keep searching K attempts after the first 1.0 and report each choice among the "
                             "plausible variants (benchmarks/plausible_choice.py) as its own row")
    parser.add_argument("--engine-extras", type=int, nargs="+", help="the darwin arm via the engine, per plausible_extra")
    parser.add_argument("--out", type=Path, default=Path("bench_repair.jsonl"))
    parser.add_argument("--table-only", type=Path, default=None)
    parser.add_argument("--per-program", action="store_true")
    parser.add_argument("--check", action="store_true", help="verify the suite and exit")
    args = parser.parse_args(argv)
    if args.check:
        return check()
    if args.jobs > 2:
        parser.error("--jobs: at most 2 (the machine is shared)")
    if args.table_only:
        rows = [json.loads(l) for l in args.table_only.read_text().splitlines() if l.strip()]
    else:
        split = halves()
        wanted = ("tuning", "validation") if args.half == "all" else (args.half,)
        names = [n for n in sorted(split) if split[n] in wanted and (not args.programs or n in args.programs)]
        seeds = list(range(1, args.seeds + 1))
        shared = {"seeds": seeds, "budget": args.budget, "selection": args.selection, "halves": split,
                  "generator_options": args.generator_options, "selection_options": args.selection_options,
                  "per_generation": args.per_generation, "label": args.label,
                  "plausible_extra": args.plausible_extra, "plausible_from": args.plausible_from}
        jobs = []
        if "random" in args.arms or "exhaustive" in args.arms:
            jobs += [("exhaustive", n, 0) for n in names]
        if "darwin" in args.arms and args.engine_extras is not None:
            jobs += [(f"engine+{k}", n, s) for s in seeds for n in names for k in args.engine_extras]
        elif "darwin" in args.arms:
            jobs += [("darwin", n, s) for s in seeds for n in names]
        rows = []
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.jobs) as pool, args.out.open("a") as out:
            futures = [pool.submit(_job, kind, n, s, shared) for kind, n, s in jobs]
            for future in as_completed(futures):
                for row in future.result():
                    if row["arm"] not in args.arms:
                        continue
                    rows.append(row)
                    out.write(json.dumps(row) + "\n")
                    out.flush()
                    print(f"{row['label']:12} {row['program']:16} seed={row['seed']} solved={row['solved']} "
                          f"genuine={row['genuine']} {row.get('first_at')}", flush=True)
        print(f"{time.perf_counter() - t0:.0f}s")
    print(table(rows))
    if args.per_program:
        print(per_program(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
