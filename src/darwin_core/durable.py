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

import heapq
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
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


class PassChain:
    """The engine's scheduling passes, at most one open at a time (:func:`scheduling_pass`).

    The pass that finishes a generation may be left open (:meth:`carry`) for the next
    generation's first pass to join: the last attempt's records, the generation's ``done`` mark,
    the next plan and its ``running`` marks are then one commit (one per attempt at one child
    per generation, instead of two). The order of the writes is that of two passes, so a crash
    leaves what either would have; the engine submits the joined pass's jobs after its commit,
    once observers (memory, model choice) heard of the finished attempts. A ``with`` block
    closes (commits) an open pass on the way out, also on an error.
    """

    def __init__(self, store: Any, run_id: str) -> None:
        self.store, self.run_id = store, run_id
        self._open: Any = None
        self._held: list[str] = []
        self.carried = False
        """The open pass was carried over from the previous generation."""

    def open(self) -> list[str]:
        """Open a pass, or join the carried one; the list of gates to open with its commit."""
        if self._open is None:
            self._open = scheduling_pass(self.store, self.run_id)
            self._held = self._open.__enter__()
        return self._held

    def carry(self) -> None:
        """Leave the open pass for the next :meth:`open`."""
        self.carried = self._open is not None

    def close(self, error: BaseException | None = None) -> None:
        """Commit the open pass (with ``error``: what the block raised, as ``with`` would)."""
        opened, self._open, self.carried = self._open, None, False
        if opened is not None:
            if error is None:
                opened.__exit__(None, None, None)
            else:
                opened.__exit__(type(error), error, error.__traceback__)

    def __enter__(self) -> "PassChain":
        return self

    def __exit__(self, kind: Any, error: BaseException | None, tb: Any) -> None:
        self.close(error)


class Slots:
    """At most ``capacity`` jobs of a run in one phase at once, granted in (generation, index)
    order.

    With ``[run] lookahead`` the engine keeps up to ``max_workers * (1 + lookahead)`` jobs in
    flight, so that the next generation's model calls overlap this one's evaluations; each job
    takes a slot (:meth:`slot`) of :data:`MODEL_SLOTS` around its generate step and one of
    :data:`EVALUATION_SLOTS` around its evaluation, so that neither the model nor the sandbox
    sees more than ``max_workers`` at once, and a waiting attempt of an earlier generation always
    goes first. A run without slots (``lookahead = 0``) never waits."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._runs: dict[str, _RunSlots] = {}

    def open(self, run_id: str, capacity: int) -> None:
        with self._cond:
            self._runs[run_id] = _RunSlots(free=capacity)

    def close(self, run_id: str) -> None:
        with self._cond:
            self._runs.pop(run_id, None)
            self._cond.notify_all()

    @contextmanager
    def slot(self, run_id: str, key: tuple[int, int]) -> Iterator[None]:
        """Hold one of the run's slots (at once for a run without slots)."""
        with self._cond:
            state = self._runs.get(run_id)
            if state is not None:
                heapq.heappush(state.waiting, key)
                while self._runs.get(run_id) is state and (state.free <= 0 or state.waiting[0] != key):
                    self._cond.wait()
                heapq.heappop(state.waiting)
                state.free -= 1
                self._cond.notify_all()
        try:
            yield
        finally:
            if state is not None:
                with self._cond:
                    state.free += 1
                    self._cond.notify_all()


@dataclass
class _RunSlots:
    """One run's slots of a phase: how many are free, and the keys waiting (a heap)."""

    free: int
    waiting: list[tuple[int, int]] = field(default_factory=list)


MODEL_SLOTS = Slots()
EVALUATION_SLOTS = Slots()
