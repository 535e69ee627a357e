"""bench_repair's darwin arm through the real engine (``bench_repair.py --engine``): each
program as a Darwin project (the custom benchmark with ``probes = true``, its held-out tests as
``holdout`` tasks), run by :class:`darwin_core.engine.Engine` with the mutation generator,
``stop_at_score = 1.0`` and ``[run] plausible_extra`` (0: today's behaviour); genuine is the
held-out record of the run's final best (what ``darwin status`` shows)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any


def project(case: Any, root: Path, *, extra: int, seed: int, budget: int, selection: str,
            per_generation: int, generator_options: dict[str, Any], timeout: float) -> Path:
    """Write ``case`` as a project under ``root``; the config's path."""
    from bench_repair import _tests

    (root / "program").mkdir(parents=True)
    (root / "program" / f"{case.name}.py").write_text(case.program)
    tests = root / "benchmark" / "tests"
    tests.mkdir(parents=True)
    (tests / "test_visible.py").write_text(_tests(case.name, case.visible))
    (tests / "test_holdout.py").write_text(_tests(case.name, case.holdout))
    (root / "benchmark" / "tasks.toml").write_text(
        '[benchmark]\nfiles = ["tests"]\ndiscover = ["tests/test_visible.py", "tests/test_holdout.py"]\n'
        f'holdout = ["tests/test_holdout.py::*"]\ntimeout = {timeout}\nrunner = "builtin"\nprobes = true\n')
    options = "".join(f"{k} = {json.dumps(v)}\n" for k, v in generator_options.items())
    config = root / "darwin.toml"
    config.write_text(
        f'[run]\nname = "{case.name}"\nseed = {seed}\ninitial = "program"\ngenerations = {budget}\n'
        f"children_per_generation = {per_generation}\nmax_attempts = {budget}\nstop_at_score = 1.0\n"
        f'plausible_extra = {extra}\n[generator]\nname = "mutation"\n{options}'
        f'[selection]\nname = "{selection}"\n[benchmark]\nname = "custom"\npath = "benchmark/tasks.toml"\n'
        '[executor]\nname = "local"\nmax_workers = 1\n')
    return config


def run_engine(case: Any, seed: int, budget: int, selection: str, per_generation: int,
               generator_options: dict[str, Any], extra: int, timeout: float = 1.0) -> dict[str, Any]:
    """One run; the row bench_repair writes for the darwin arm."""
    import time

    from darwin_core.config import load_config
    from darwin_core.engine import Engine
    from darwin_core.holdout import load_records

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        config = load_config(project(case, Path(tmp), extra=extra, seed=seed, budget=budget, selection=selection,
                                     per_generation=per_generation, generator_options=generator_options,
                                     timeout=timeout))
        engine = Engine.create(config, Path(tmp) / "run")
        summary = engine.run_loop()
        best = engine.archive.best
        records = load_records(engine.store)
        held = records.get(best.id) if best is not None else None
        attempts = len(engine.attempts)
        plausible = sum(1 for s in engine.archive.summaries() if s.status == "accepted" and s.score >= 1.0)
        found = candidates(case, engine, Path(tmp) / "judge") if extra else None
    solved = best is not None and best.score >= 1.0
    return {"picks": None, "solved": solved, "best": best.score if best else 0.0,
            "genuine": bool(solved and held is not None and held["pass_rate"] >= 1.0),
            "holdout": held["pass_rate"] if held else None, "attempts": attempts, "evaluations": None,
            "first_at": None, "plausible": plausible, "seconds": round(time.perf_counter() - t0, 2),
            "stop": summary.stop_reason, "chosen": best.id if best else None, "candidates": found}


def candidates(case: Any, engine: Any, scratch: Path) -> dict[str, Any]:
    """Every plausible variant of a run (accepted, at 1.0, every stage), for judging choice rules
    on recorded runs: its attempt, generations from the root, probe agreements with the root,
    fingerprint, changed lines against the root and held-out verdict (measurement only: the
    engine never sees it); ``reached``: the attempt of the first reaching variant."""
    import difflib

    from bench_repair import _evaluator, _score, materialize
    from bench_search_loop import evaluate

    from darwin_core import plausible

    archive, handle = engine.archive, engine.handle
    problem = materialize(case, scratch / "case")
    root = archive.summaries()[0]
    rel = f"{case.name}.py"
    root_text = handle.files(root.id)[rel].decode()
    reached = plausible.reaching_attempt(handle)
    after = sorted(a.id for a in handle.attempts.summaries() if a.retry_of is None and reached is not None
                   and a.id > reached)
    out = []
    for s in archive.summaries():
        if s.status != "accepted" or s.score < 1.0 or s.stage_reached < archive.last_stage:
            continue
        files = {k: v.decode() for k, v in handle.files(s.id).items()}
        diff = [l for l in difflib.unified_diff(root_text.splitlines(), files[rel].splitlines(), lineterm="", n=0)
                if l[:1] in "+-" and l[:3] not in ("+++", "---")]
        held = _score(evaluate(_evaluator(), problem, files, scratch / "eval", holdout=True)) >= 1.0
        out.append({"id": s.id, "attempt": s.attempt_id, "gen": archive.edits(s.id, 1), "edits": archive.edits(s.id),
                    "extra": after.index(s.attempt_id) + 1 if s.attempt_id in after else 0,
                    "same": archive.root_agreement(s), "behaviour": s.behaviour, "diff": diff,
                    "description": archive.get(s.id).description, "genuine": held})
    return {"reached": reached, "extras": len(after), "root_behaviour": root.behaviour, "plausible": out}


def job(case: Any, seed: int, args: dict[str, Any], extra: int) -> list[dict[str, Any]]:
    """bench_repair's rows for one engine run (label ``engine+EXTRA``)."""
    row = run_engine(case, seed, args["budget"], args["selection"], args["per_generation"],
                     args["generator_options"], extra)
    row.pop("picks")
    return [{"program": case.name, "half": args["halves"][case.name], "label": f"engine+{extra}" if args["label"] == "darwin" else f"{args['label']}:engine+{extra}",
             "budget": args["budget"], "arm": "darwin", "seed": seed, **row}]
