"""Optimisation problems for bench_search.py: an ``evaluator.py:evaluate`` called in a forked
process, and the hill-climber baseline.

The evaluator process of ``bench_search_loop`` (``serve``) hands a request with
``"kind": "evaluator"`` to :func:`serve_one`: it forks a child that loads the evaluator file,
calls ``FUNCTION(program path)`` in the variant's directory and writes the metrics as JSON;
generated code never runs in the benchmark's process. The variant's score is the objective
metric (raw, maximised); a child whose evaluation fails scores 0.

:func:`hillclimb` is the baseline a user would write in ten minutes: perturb one numeric
literal of the evolve block at random (floats by a factor ``exp(0.1 z)``, integers by +/-1),
keep the child if it scores better, else stay.
"""

from __future__ import annotations

import io
import json
import math
import os
import random
import tempfile
import time
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from darwin_hookspecs import TaskResult

TASK = "evaluate"


@dataclass
class OptimProblem:
    name: str
    program: Path
    """The initial variant's directory."""
    evaluator: Path
    program_file: str
    metric: str
    function: str = "evaluate"
    timeout: float = 5.0
    holdout: Path | None = None

    @property
    def tests(self) -> Path:
        """Nothing to lay over a working copy (``bench_search_loop._write`` copies no tests)."""
        return self.program

    def evaluate_files(self, evaluator: Any, files: dict[str, str], scratch: Path) -> dict[str, TaskResult]:
        from bench_search_loop import _write

        _write(files, self.tests, scratch)
        answer = evaluator.call({"kind": "evaluator", "dir": str(scratch), "evaluator": str(self.evaluator),
                                 "function": self.function, "program": self.program_file, "timeout": self.timeout})
        metrics = {k: float(v) for k, v in (answer.get("metrics") or {}).items()
                   if isinstance(v, (int, float)) and math.isfinite(float(v))}
        ok = answer.get("error") is None and self.metric in metrics
        score = metrics.get(self.metric, 0.0) if ok else 0.0
        return {TASK: TaskResult(task_id=TASK, passed=ok, score=score, metrics=metrics,
                                 failure_kind=None if ok else "error", log=str(answer.get("error") or "")[-1500:])}


def serve_one(request: dict[str, Any]) -> dict[str, Any]:
    """Run one evaluator call in a forked child (the evaluator process's side)."""
    out_path = os.path.join(request["dir"], ".metrics.json")
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            import importlib.util

            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # an evaluator that prints must not break the protocol
            os.chdir(request["dir"])
            spec = importlib.util.spec_from_file_location("bench_evaluator", request["evaluator"])
            module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            spec.loader.exec_module(module)  # type: ignore[union-attr]
            try:
                result = getattr(module, request["function"])(os.path.abspath(request["program"]))
                payload = {"metrics": {k: v for k, v in result.items() if isinstance(v, (int, float))}}
            except Exception as exc:  # noqa: BLE001 - the evaluator's failure is the variant's
                payload = {"error": f"{type(exc).__name__}: {exc}"}
            with open(out_path, "w") as fh:
                json.dump(payload, fh)
            code = 0
        finally:
            os._exit(code)
    from bench_search_loop import wait_or_kill  # the loop imports this module lazily too

    if not wait_or_kill(pid, request["timeout"]):
        return {"error": "timeout"}
    try:
        with open(out_path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {"error": "no result"}


# ------------------------------------------------------------------ the hill-climber baseline


def _numbers(source: str) -> list[tuple[int, int, int, str]]:
    """``(line, start col, end col, text)`` of the numeric literals inside the evolve block."""
    inside, found = False, []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT and "EVOLVE-BLOCK-START" in tok.string:
            inside = True
        elif tok.type == tokenize.COMMENT and "EVOLVE-BLOCK-END" in tok.string:
            inside = False
        elif inside and tok.type == tokenize.NUMBER and not tok.string.lower().endswith("j"):
            found.append((tok.start[0], tok.start[1], tok.end[1], tok.string))
    return found


def _perturbed(source: str, rng: random.Random) -> str:
    numbers = _numbers(source)
    line, start, end, text = rng.choice(numbers)
    if any(c in text.lower() for c in ".e") and not text.lower().startswith("0x"):
        new = repr(float(f"{float(text) * math.exp(0.1 * rng.gauss(0, 1)):.6g}"))
    else:
        new = str(int(text, 0) + rng.choice((-1, 1)))
    lines = source.splitlines(keepends=True)
    lines[line - 1] = lines[line - 1][:start] + new + lines[line - 1][end:]
    return "".join(lines)


def hillclimb(problem: OptimProblem, evaluator: Any, *, seed: int, budget: int) -> dict[str, Any]:
    """Perturb one literal at random, keep if better: ``budget`` evaluations after the root's."""
    t0 = time.perf_counter()
    rng = random.Random(f"hillclimb:{seed}")
    files = {p.relative_to(problem.program).as_posix(): p.read_text() for p in sorted(problem.program.rglob("*.py"))}
    with tempfile.TemporaryDirectory(prefix="bench-hill-") as tmp:
        scratch = Path(tmp) / "eval"
        best = problem.evaluate_files(evaluator, files, scratch)[TASK].score
        first_at, zeros, ties = 0, 0, 0
        for attempt in range(1, budget + 1):
            child = {**files, problem.program_file: _perturbed(files[problem.program_file], rng)}
            score = problem.evaluate_files(evaluator, child, scratch)[TASK].score
            zeros += score == 0.0
            ties += score == best
            if score > best:
                best, first_at, files = score, attempt, child
    return {"best": best, "first_at": first_at, "attempts": budget, "evaluations": budget, "holdout": None,
            "seconds": time.perf_counter() - t0, "distinct": budget, "zeros": zeros, "ties": ties}


def siblings_before(archive: Any, parent_id: str, generation: int) -> list[Any]:
    """What the engine hands a generator (``darwin_core.siblings.Siblings.before``): the parent's
    children of earlier generations, oldest first, a duplicate scored as the variant it equals."""
    from darwin_hookspecs import Sibling

    out = []
    for child in archive.variants():
        if child.parent_id != parent_id or child.generation >= generation:
            continue
        meta = child.metadata or {}
        dup = meta.get("duplicate_of")
        score = archive.get(dup).score if dup else child.score
        out.append(Sibling(variant_id=child.id, generation=child.generation, status=child.status,
                           score=float(score or 0.0), edits=[str(e) for e in meta.get("edits") or []],
                           families=[str(f) for f in meta.get("families") or []],
                           sibling_index=int(meta.get("sibling_index") or 0), duplicate_of=dup))
    out.sort(key=lambda s: (s.generation, s.sibling_index, s.variant_id))
    return out[-256:]
