"""The peer benchmark's evaluator, shared by both systems.

OpenEvolve imports it and calls ``evaluate(program_path) -> dict`` in its own process. Darwin
runs it in its sandbox as a ``custom`` benchmark command task, ``python evaluator.py
program.py``, which prints ``DARWIN_SCORE=...``.

Either way ``evaluate`` times its own work (loading the program and running it), so that the
benchmark can subtract the evaluator's time from each system's wall time: it prints
``PEER_EVAL=<end epoch s> <seconds>`` when run as a script, and appends the same line to the
file named by ``PEER_EVAL_LOG`` when that variable is set (OpenEvolve's workers inherit it).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import uuid

WORK = 20_000  # sum_of_squares(WORK), a few milliseconds of Python


def _load(path: str):
    spec = importlib.util.spec_from_file_location(f"peer_program_{uuid.uuid4().hex}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _evaluate(program_path: str) -> tuple[dict, str]:
    start = time.perf_counter()
    try:
        program = _load(program_path)
        correct = all(program.sum_of_squares(n) == (n - 1) * n * (2 * n - 1) // 6 for n in (1, 7, WORK))
        steps = int(getattr(program, "STEPS", 0))
        score = steps / (steps + 100.0) if correct and steps > 0 else 0.0
    except Exception:  # noqa: BLE001 - a broken program scores 0
        score = 0.0
    seconds = time.perf_counter() - start
    line = f"PEER_EVAL={time.time():.6f} {seconds:.6f}"
    log = os.environ.get("PEER_EVAL_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    return {"combined_score": score, "eval_seconds": seconds}, line


def evaluate(program_path: str) -> dict:
    """Score the program: correct results, and a score growing with ``STEPS`` (below 1)."""
    return _evaluate(program_path)[0]


def main(argv: list[str]) -> int:
    result, line = _evaluate(argv[1] if len(argv) > 1 else "program.py")
    print(line)
    print(f"DARWIN_SCORE={result['combined_score']:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
