"""A Darwin plugin for bench_peer: copies each evaluation's ``PEER_EVAL`` line (the evaluator's
own timing, printed inside the sandbox) and the attempt's phase durations to the file named by
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
def darwin_proposal_generated(run: Any, attempt: Any, proposal: Any, started_at: float, duration_s: float) -> None:
    _write(f"PEER_GEN={duration_s:.6f}")
