"""A Darwin plugin for bench_peer: copies each evaluation's ``PEER_EVAL`` line (the evaluator's
own timing, printed inside the sandbox) and each child's ``timings`` (generation, evaluation) and each durable record write (the run
store's, not the ledger's write-behind) to the file named by
``PEER_EVAL_LOG``. Darwin keeps no log of passing tasks, hence this hook. It is found through
the entry point of the ``peer_probe-0.1.dist-info`` next to it, when this directory is on
``PYTHONPATH`` (only bench_peer's Darwin runs put it there)."""

from __future__ import annotations

import os
import threading
from typing import Any

from darwin_hookspecs import hookimpl

_lock = threading.Lock()


def _write(text: str) -> None:
    path = os.environ.get("PEER_EVAL_LOG")
    if path and text:
        with _lock, open(path, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")


@hookimpl
def darwin_task_evaluated(run: Any, attempt: Any, result: Any) -> None:
    lines = [line for line in result.log.splitlines() if line.startswith("PEER_EVAL=")]
    _write("\n".join(lines + [f"PEER_TASK={result.duration_s:.6f}"]))


@hookimpl
def darwin_record_written(run_id: str, collection: str, key: str, nbytes: int, started_at: float,
                          duration_s: float) -> None:
    _write(f"PEER_RECORD={duration_s:.6f} {collection}")


@hookimpl
def darwin_attempt_finished(run: Any, attempt: Any, child: Any) -> None:
    timings = getattr(child, "timings", None) or {}
    _write("\n".join(f"PEER_{key.upper()}={value:.6f}" for key, value in sorted(timings.items())))
