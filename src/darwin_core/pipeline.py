"""Pipelined scheduling (``[run] lookahead = 1``): two generations open at once, deterministically.

Generation g is planned the moment generation g-2 is done, so its model calls overlap the
evaluations of g-1. Results are recorded in generation order: a job of g that finishes while
g-1 is still open is held here (in memory, not recorded) until g-1 is done; then g+1 is planned
first, and the held results are recorded after. So plan(g) always sees the archive through g-2
exactly, and everything else a job of g reads from the run is frozen when g opens, from records
through g-2 (:class:`Opened`): the skip trees, the operator statistics, the admission decision
and the memory (retrieved once the opening pass is durable, when observers heard of g-2's last
attempt and of nothing of g-1). A seeded run gets the same plans whatever the machine's speed.

At most ``max_workers`` generate steps (model calls) and ``max_workers`` evaluations run at once
(:class:`darwin_core.durable.Slots`, granted in (generation, index) order); up to
``max_workers * (1 + lookahead)`` jobs are in flight, so the two phases overlap without either
seeing more concurrency than ``max_workers``. It needs
an in-process executor that can make room for them (``allow_jobs``, the ``local`` executor).
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from darwin_hookspecs import Attempt, Executor, UserError

from . import admission, writer
from .duplicates import ContentIndex
from .durable import EVALUATION_SLOTS, GATES, MODEL_SLOTS, scheduling_pass
from .outcome import Pending, carry_on
from .plan import plan, recover
from .session import Session
from .snapshots import TreeIndex
from .stopping import StopSignal

if TYPE_CHECKING:
    from .engine import Engine


def prepare(executor: Executor, lookahead: int, executor_name: str) -> None:
    """Make room for the jobs of ``lookahead`` (nothing for 0), or refuse (exit 2)."""
    if lookahead <= 0:
        return
    allow = getattr(executor, "allow_jobs", None)
    if not getattr(executor, "in_process", False) or allow is None:
        raise UserError(
            f"[run] lookahead = {lookahead} needs an in-process executor that can hold more jobs than "
            f"max_workers (the `local` executor); executor {executor_name!r} cannot (its jobs would not "
            f"share the evaluation slots). Fix: set run.lookahead = 0, or executor.name = \"local\".")
    allow(executor.max_workers * (1 + lookahead))


class TreesByGeneration:
    """Digests of the evaluated variants' trees, by generation: the skip trees of a pipelined
    job are those of generations through g-2, whatever else is recorded when it runs."""

    def __init__(self, contents: ContentIndex) -> None:
        self.contents, self.codebook = contents, contents.codebook
        self._seen = 0
        self._by_generation: dict[int, set[str]] = {}
        self._cached: tuple[int, frozenset[str]] | None = None

    def through(self, generation: int) -> frozenset[str]:
        for variant_id in self.codebook.added_since(self._seen):
            self._seen += 1
            variant = self.codebook.variant(variant_id)
            if variant.status in TreeIndex.EVALUATED:
                digest = self.contents.digest(self.codebook.manifest(variant_id))
                self._by_generation.setdefault(variant.generation, set()).add(digest)
                if self._cached is not None and variant.generation <= self._cached[0]:
                    self._cached = None
        start, known = self._cached if self._cached and self._cached[0] <= generation else (-1, frozenset())
        more = [s for g, s in self._by_generation.items() if start < g <= generation]
        if more:
            known = known.union(*more)
        self._cached = (generation, known)
        return known


@dataclass
class Opened:
    """An open generation, and what its jobs read, frozen when it opened."""

    generation: int
    attempts: list[Attempt]
    queue: deque[Attempt]
    skip_trees: frozenset[str]
    operator_stats: dict[str, tuple[int, int]]
    history: int
    """Its jobs see the siblings of generations before this one (``generation - lookahead``)."""
    memory: dict[str, list[str]] | None = None
    """Per attempt; ``None`` until the opening pass is durable."""


@dataclass
class Pipeline:
    """Runs generations from ``first`` until a stop; :meth:`run` returns why it stopped."""

    engine: "Engine"
    steps: Session
    first: int
    open: dict[int, Opened] = field(default_factory=dict)
    in_flight: dict[Future[Any], tuple[Attempt, Pending]] = field(default_factory=dict)
    held: list[tuple[Attempt, Future[Any], Pending]] = field(default_factory=list)
    closing: StopSignal | None = None
    """Why no further generation opens (the open ones still finish)."""

    def __post_init__(self) -> None:
        self.lookahead = self.engine.config.run.lookahead
        self.capacity = self.steps.executor.max_workers * (1 + self.lookahead)
        self.next = self.first
        self.trees = TreesByGeneration(self.engine.contents)

    def run(self) -> StopSignal:
        engine, run_id = self.engine, self.engine.pointer.run_id
        for slots in (MODEL_SLOTS, EVALUATION_SLOTS):
            slots.open(run_id, self.steps.executor.max_workers)
        try:
            done: list[Future[Any]] = []
            while True:
                with scheduling_pass(engine.store, run_id) as gates:
                    opened = self._settle(done)
                    late = self._start(gates)
                for generation in opened:  # durable: observers heard of g-2 and nothing of g-1
                    self._retrieve(self.open[generation])
                for attempt in late:
                    self._submit(attempt)
                if self._ready() or opened:  # record what the opening pass held back, or open more
                    done = []
                    continue
                if not self.in_flight:
                    if self.held:  # stopped with attempts of an older generation left planned
                        with scheduling_pass(engine.store, run_id):
                            self._record(self.held, force=True)
                        continue
                    return self.steps.stop or self.closing or StopSignal("nothing left to attempt", "completed")
                done = list(wait(list(self.in_flight), return_when=FIRST_COMPLETED)[0])
        finally:
            for slots in (MODEL_SLOTS, EVALUATION_SLOTS):
                slots.close(run_id)

    # ------------------------------------------------------------------ steps

    def _settle(self, done: list[Future[Any]]) -> list[int]:
        """Hold the finished jobs, record those of the oldest open generation, close the
        generations that are done and open the next; the generations opened (their memory is
        retrieved once this pass is durable, so their held successors wait for the next pass)."""
        for future in done:
            attempt, pending = self.in_flight.pop(future)
            self.held.append((attempt, future, pending))
        opened: list[int] = []
        while True:
            if not opened:
                self._record([h for h in self.held if self._recordable(h[0])])
            self.steps.stop = self.steps.stop or self.engine.stops.while_running()
            writer.check(self.engine.lease)
            closed = self._close_done()
            new = self._open_next()
            opened += new
            if (not closed and not new) or (opened and self._ready()):
                return opened

    def _recordable(self, attempt: Attempt) -> bool:
        return not self.open or attempt.generation <= min(self.open)

    def _ready(self) -> bool:
        return any(self._recordable(h[0]) for h in self.held)

    def _record(self, results: list[tuple[Attempt, Future[Any], Pending]], force: bool = False) -> None:
        """Carry finished jobs on (in generation, then index order when held)."""
        for item in results:
            self.held.remove(item)
        for attempt, future, pending in sorted(results, key=lambda h: (h[0].generation, h[0].index)):
            follow_up = carry_on(self.engine, self.steps, attempt, future, pending)
            if follow_up is not None:
                self.in_flight[follow_up[0]] = (attempt, follow_up[1])
        if force:
            for opened in list(self.open.values()):
                self._close(opened)

    def _close(self, opened: Opened) -> bool:
        if any(a.generation == opened.generation for a, _ in self.in_flight.values()):
            return False
        self.engine._generation_done(opened.generation, opened.attempts, opened.queue, self.steps)
        if self.engine.handle.generations[opened.generation].get("status") != "done":
            return False
        del self.open[opened.generation]
        return True

    def _close_done(self) -> bool:
        """Close the oldest open generations that are done."""
        closed = False
        while self.open and not any(h[0].generation == min(self.open) for h in self.held):
            if not self._close(self.open[min(self.open)]):
                break
            closed = True
        return closed

    def _open_next(self) -> list[int]:
        """Open generations while fewer than ``1 + lookahead`` are open (so g opens once g-2 is
        done) and no stop holds."""
        engine, steps, opened = self.engine, self.steps, []
        while self.closing is None and steps.stop is None and len(self.open) <= self.lookahead:
            generation = self.next
            stop = engine.stops.between_generations(generation)
            if stop is None:
                attempts = recover(engine.handle, engine.config, generation,
                                   plan(engine.handle, steps.selector, generation))
                stop = None if attempts else StopSignal("nothing left to attempt", "completed")
            if stop is not None:
                self.closing = stop
                if engine.stops.while_running() is not None:  # a score or time stop: start nothing more
                    steps.stop = stop
                break
            engine.store.after_commit(lambda g=generation, a=attempts: engine.hook.darwin_generation_started(
                run=engine.run, generation=g, attempts=a))
            skip = engine.skips_duplicates(steps)
            queue: deque[Attempt] = deque()
            for attempt in attempts:
                if attempt.status != "planned":
                    continue
                if admission.admit(steps.gate, attempt, engine.archive):
                    queue.append(attempt)
                else:
                    steps.recorder.record_skipped(attempt)
            self.open[generation] = Opened(
                generation, attempts, queue,
                skip_trees=self.trees.through(max(generation - 1 - self.lookahead, 0)) if skip else frozenset(),
                operator_stats=engine.operator_stats.before(generation - self.lookahead),
                history=generation - self.lookahead)
            self.next = generation + 1
            opened.append(generation)
        return opened

    def _start(self, gates: list[str]) -> list[Attempt]:
        """Mark attempts ``running`` up to the capacity, oldest generation first; those whose
        memory is known are submitted now, gated until the pass is durable (:mod:`.durable`);
        the others (of a generation opened in this pass) are returned, to submit after it."""
        late: list[Attempt] = []
        room = self.capacity - len(self.in_flight)
        for opened in self.open.values():
            while opened.queue and room > 0 and self.steps.stop is None:
                attempt = opened.queue.popleft()
                attempt.status, attempt.started_at = "running", time.time()
                self.engine.store.save_attempt(attempt)
                room -= 1
                if opened.memory is None:
                    late.append(attempt)
                    continue
                GATES.hold(self.engine.pointer.run_id, attempt.id)
                gates.append(attempt.id)
                self._submit(attempt)
        return late

    def _retrieve(self, opened: Opened) -> None:
        opened.memory = {a.id: self.engine._memory(a) for a in opened.attempts if a.status in ("planned", "running")}

    def _submit(self, attempt: Attempt) -> None:
        opened = self.open[attempt.generation]
        memory = (opened.memory or {}).get(attempt.id, [])
        future = self.engine._submit_generate(self.steps, attempt, memory, skip_trees=opened.skip_trees,
                                              operator_stats=opened.operator_stats, history=opened.history)
        self.in_flight[future] = (attempt, None)


