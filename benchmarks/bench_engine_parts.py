"""Where the engine loop's CPU goes per attempt, without a profiler's overhead.

The no-op run of ``bench_engine.py`` (fsync on, one worker), with a few functions wrapped to
add up their own thread's CPU time (``time.thread_time``, a wrapper costs ~1 µs): the figures
are ms of CPU per attempt, per thread, nested parts included in their callers. Read them
against ``main thread`` and ``process`` (every thread) at the top.

    python benchmarks/bench_engine_parts.py [--attempts N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

SPENT: Counter[str] = Counter()
CALLS: Counter[str] = Counter()
ORDER: list[str] = []


def _timed(owner: Any, name: str, label: str) -> None:
    """Replace ``owner.name`` by a wrapper adding its CPU time to ``label @thread``."""
    original: Callable[..., Any] = getattr(owner, name)
    ORDER.append(label)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            key = f"{label} @{threading.current_thread().name.split('_')[0]}"
            SPENT[key] += time.thread_time() - start
            CALLS[key] += 1

    setattr(owner, name, wrapper)


def _instrument() -> None:
    import darwin_core.attempt as attempt
    import darwin_core.engine as engine
    import darwin_core.gating as gating
    import darwin_core.generate as generate
    import darwin_core.record as record
    import darwin_core.store as store
    import darwin_core.store_batch as store_batch

    parts = [
        (engine, "plan", "plan (a generation's attempts)"),
        (engine, "carry_on", "carry_on (a finished attempt)"),
        (record.Recorder, "record_child", "  record_child (records, in the batch)"),
        (store.RunStore, "save_variant", "    save_variant"),
        (store.RunStore, "save_attempt", "    save_attempt"),
        (gating.LearningGate, "observe", "    gate observe (replay record)"),
        (store.RunStore, "put", "    RunStore.put (any record)"),
        (store.RunStore, "put_blob", "    put_blob"),
        (store_batch.StoreBatch, "commit", "batch commit (SQLite, after-commit hooks)"),
        (tempfile, "mkdtemp", "mkdtemp (scratch directory)"),
        (attempt, "generate", "generate (write, propose, rename, apply)"),
        (generate, "write_tree", "  write_tree (parent's copy)"),
        (attempt, "evaluate_child", "evaluate_child (in-process benchmark)"),
        (shutil, "rmtree", "rmtree (scratch deletion)"),
    ]
    for owner, name, label in parts:
        _timed(owner, name, label)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=400, help="a multiple of 4")
    args = parser.parse_args()
    _instrument()
    import bench_engine
    from darwin_core import Engine, config_from_dict

    workdir = Path(tempfile.mkdtemp(prefix="darwin-parts-"))
    try:
        program = workdir / "noop-program"
        program.mkdir()
        (program / "counter.txt").write_text("0\n")
        config = {
            "run": {"name": "bench", "initial": str(program), "children_per_generation": 4,
                    "generations": args.attempts // 4},
            "generator": {"name": "noop"}, "benchmark": {"name": "constant"},
            "executor": {"name": "local", "max_workers": 1}, "storage": {"fsync": True},
        }
        engine = Engine.create(config_from_dict(config), workdir / "run", extra_plugins=[bench_engine.NoOps()])
        SPENT.clear(), CALLS.clear()
        main_cpu, process_cpu = time.thread_time(), time.process_time()
        summary = engine.run_loop()
        main_cpu, process_cpu = time.thread_time() - main_cpu, time.process_time() - process_cpu
        spent, calls = dict(SPENT), dict(CALLS)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    n = summary.attempts
    print(f"{n} attempts; CPU ms per attempt: process {process_cpu / n * 1e3:.3f}, main thread {main_cpu / n * 1e3:.3f}")
    threads = sorted({key.split(" @")[1] for key in spent}, key=lambda t: (t != "MainThread", t))
    for thread in threads:
        print(f" {thread}")
        for label in ORDER:
            key = f"{label} @{thread}"
            if key in spent:
                print(f"  {label:<50} {spent[key] / n * 1e3:7.3f}  ({calls[key] / n:.2f} calls)")


if __name__ == "__main__":
    main()
