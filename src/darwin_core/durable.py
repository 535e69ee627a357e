"""Gates between a ``running`` mark and the evaluation it announces.

With an in-process executor (``Executor.in_process``) the engine submits an attempt's generate
job in the same scheduling pass that marks it ``running``, before that pass's commit is durable,
so the model call overlaps the commit instead of waiting for it. The job waits at its gate
(:meth:`MarkGates.wait`) before it evaluates anything, and before the generator proposes unless
the generator declares ``sandbox_free = True`` (it only calls models, as the LLM generators do;
an agent generator runs code in the sandbox and waits), until the engine opens the gate once
the commit is durable (:meth:`MarkGates.settle`); if the commit failed, the gate raises instead
and nothing runs. So no code runs under an attempt that a crash could leave ``planned``; what
such a crash can leave is one model call (recorded by the spend ledger, its reply cached) of an
attempt that resume runs as new. Jobs of other executors (or without a gate) never wait.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator


class MarkGates:
    """Thread-safe; keyed by (run id, attempt id)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gates: dict[tuple[str, str], tuple[threading.Event, list[str]]] = {}

    def hold(self, run_id: str, attempt_id: str) -> None:
        with self._lock:
            self._gates[(run_id, attempt_id)] = (threading.Event(), [])

    def settle(self, run_id: str, attempt_ids: list[str], error: str = "") -> None:
        """Open the gates (the marks are durable), or fail them with ``error`` (a failed gate
        stays: a job reaching it later raises too)."""
        with self._lock:
            take = self._gates.get if error else self._gates.pop
            gates = [take((run_id, a), None) for a in attempt_ids]
        for gate in gates:
            if gate is not None:
                if error:
                    gate[1].append(error)
                gate[0].set()

    def wait(self, run_id: str, attempt_id: str) -> None:
        """Return once the attempt's ``running`` mark is durable (at once without a gate)."""
        with self._lock:
            gate = self._gates.get((run_id, attempt_id))
        if gate is None:
            return
        gate[0].wait()
        if gate[1]:
            raise RuntimeError(f"attempt {attempt_id}: its running mark could not be stored ({gate[1][0]})")


GATES = MarkGates()


@contextmanager
def scheduling_pass(store: Any, run_id: str) -> Iterator[list[str]]:
    """One scheduling pass of the engine: one store batch (``RunStore.batch``); the gates of the
    attempts put in the yielded list open once its commit is durable, and fail if it is not."""
    held: list[str] = []
    try:
        with store.batch():
            yield held
    except BaseException as exc:
        GATES.settle(run_id, held, error=f"{type(exc).__name__}: {exc}")
        raise
    GATES.settle(run_id, held)
