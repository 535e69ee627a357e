"""The orchestrator: schedules the attempt pipeline and keeps the run durable at every step.

Per generation the attempts are planned (:mod:`~darwin_core.plan`), then each goes through
admit → generate → review → evaluate → judge → record (docs/engine.md shows which module holds
each step). At most ``max_workers`` attempts are in flight, each marked ``running`` before it is
submitted (in-process: in the pass that submits it, its job gated until the mark is durable, see
:mod:`~darwin_core.durable`); a child is recorded before its attempt is marked finished. A crash at any point
leaves records from which ``resume`` continues: finished attempts are never redone, planned
ones run, and ones left ``running`` are retried once. With ``[run] lookahead = 1`` two
generations are open at once (:mod:`~darwin_core.pipeline`); the default runs one at a time.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from pathlib import Path
from typing import AbstractSet, Any, Iterable

from darwin_hookspecs import Attempt, DarwinError, Executor, Lease, RunInfo, RunSummary, SelectionStrategy

from . import __version__, admission, infra, initial, inspirations, pipeline, plan_records, signals, warmstart, writer
from .attempt import GenerateJob, run_generate_job
from .config import DarwinConfig
from .duplicates import ContentIndex
from .durable import GATES, PassChain
from .evaluate import Evaluation
from .finish import finish, summary
from .gating import Gate
from .generate import Generated
from .operator_stats import OperatorStats
from .siblings import Siblings
from .outcome import Pending, carry_on
from .plan import plan, recover, settle_recorded
from .plugin_config import configure_plugins
from .plugins import PluginManager
from .record import ROOT_ID
from .run import RunHandle
from .runtime import build_runtime, register_runtime, unregister_runtime
from .session import Session
from .snapshots import TreeIndex
from .stopping import StopRules, StopSignal
from .summary import ENDED

__all__ = ["Engine", "ROOT_ID"]

class Engine:
    """Runs (or resumes) one run, once. Use :meth:`create` or :meth:`open`."""

    def __init__(self, handle: RunHandle, lease: Lease | None = None) -> None:
        self.handle, self.lease = handle, lease
        self.exit_code = 0
        """What the CLI exits with once :meth:`run_loop` returns (5: a budget stopped the run)."""
        self.config, self.pointer, self.run_dir = handle.config, handle.pointer, handle.run_dir
        self.plugins, self.hook = handle.plugins, handle.plugins.hook
        self.storage, self.store, self.archive = handle.storage, handle.store, handle.archive
        self.codebook, self.trees = handle.codebook, TreeIndex(handle.codebook)
        self.contents, self.operator_stats = ContentIndex(handle.codebook), OperatorStats(handle.codebook, handle.archive)
        self.siblings = Siblings(handle.codebook)
        """Each parent's recorded children (``GenerationContext.siblings``)."""
        self.stops = StopRules(handle)
        self.inspiration_texts = inspirations.TextCache()
        """The text files of the variants shown to generators (:func:`.inspirations.build`)."""
        self.session: Session | None = None
        """The backends of the loop (``None`` until :meth:`run_loop` starts)."""

    @property
    def run(self) -> RunInfo | None:
        return self.handle.run

    @property
    def attempts(self) -> dict[str, Attempt]:
        return self.handle.attempts

    def _session(self) -> Session:
        if self.session is None:
            raise RuntimeError("the engine's backends exist once run_loop() has started")
        return self.session

    @property
    def executor(self) -> Executor:
        return self._session().executor

    @property
    def selector(self) -> SelectionStrategy:
        return self._session().selector

    @property
    def gate(self) -> Gate:
        return self._session().gate

    @classmethod
    def create(cls, config: DarwinConfig, run_dir: Path | None = None, *, warm_start: Any = None,
               plugins: PluginManager | None = None, extra_plugins: Iterable[Any] = (),
               entry_points: bool = False) -> "Engine":
        """A new run in ``run_dir`` (default ``./runs/<name>-<time>``), optionally seeded from an
        earlier run (a :class:`~darwin_core.warmstart.WarmStart`), its writer lease held.
        ``entry_points=True`` loads every installed plugin (as the CLI does); otherwise the
        built-ins, ``extra_plugins`` and the entry points ``[plugins] enable`` names."""
        return cls(*writer.create(config, run_dir, warm_start=warm_start, plugins=plugins,
                                  extra_plugins=extra_plugins, entry_points=entry_points))

    @classmethod
    def open(cls, run_dir: Path, *, plugins: PluginManager | None = None,
             extra_plugins: Iterable[Any] = (), entry_points: bool = False) -> "Engine":
        """An existing run (to resume it), its writer lease taken, then its records loaded and
        checked (:func:`.writer.open`); plugins as for :meth:`create`."""
        return cls(*writer.open(run_dir, plugins=plugins, extra_plugins=extra_plugins,
                                entry_points=entry_points))

    # --------------------------------------------------------------------- run

    def run_loop(self) -> RunSummary:
        """Run until a stop condition; always leave the run resumable."""
        resumed = self.handle.run is not None
        run = self.handle.run or RunInfo(
            run_id=self.pointer.run_id, name=self.config.run.name, seed=self.config.run.seed,
            created_at=time.time(), config=self.pointer.config, darwin_version=__version__,
        )
        self.handle.run, run.status = run, "running"
        status, reason = "failed", ""
        steps: Session | None = None
        runtime = None
        with writer.writing(self.handle, self.lease, resumed) as self.lease:
            try:
                self.store.prepare_indexes()
                self.store.save_run(run, create=not resumed)
                services = {"storage": self.storage, "config_source": self.config.source, "run_dir": self.run_dir}
                runtime = build_runtime(self.config, run_id=run.run_id, run_dir=self.run_dir, plugins=self.plugins,
                                        services=services)
                register_runtime(runtime)
                run.metadata["sandbox_guarantees"] = runtime.sandbox.guarantees()  # `darwin status` shows them
                self.store.save_run(run)
                steps = self.session = Session.start(self.handle, runtime)
                pipeline.prepare(steps.executor, self.config.run.lookahead, self.config.executor.name)
                configure_plugins(self.plugins, self.config, run, self.run_dir)
                self.hook.darwin_run_started(run=run, resumed=resumed, services=services)
                initial.ensure_root(self.handle, steps)
                warmstart.seed_archive(self.handle, steps.recorder, runtime)
                if resumed:
                    settle_recorded(self.handle)
                    steps.recorder.check_best()
                generation = self.stops.first_generation() if resumed else 1
                stop = (pipeline.Pipeline(self, steps, generation).run() if self.config.run.lookahead
                        else self._run_generations(steps, generation))
                status, reason, self.exit_code = stop.status, stop.reason, stop.exit_code
            except KeyboardInterrupt as exc:
                status, reason = "interrupted", signals.interrupt_reason(exc)
                raise
            except DarwinError as exc:
                status, reason = "failed", str(exc)
                raise
            except OSError as exc:  # a full or read-only disk met by the orchestrator itself
                if (error := infra.as_error(exc)) is None:
                    raise
                status, reason = "failed", str(error)
                raise error from exc
            finally:
                if steps is not None:
                    steps.close(self.plugins, wait=status != "interrupted")
                if runtime is not None:
                    unregister_runtime(run.run_id)
                    runtime.close()
                result = finish(self.handle, self.lease, steps, run, status, reason)
        return result

    def summary(self, status: str = "", reason: str = "") -> RunSummary:
        return summary(self.handle, status, reason)

    # ------------------------------------------------------------- scheduling

    def _run_generations(self, steps: Session, generation: int) -> StopSignal:
        """One generation at a time (``[run] lookahead = 0``), until a stop."""
        with PassChain(self.store, self.pointer.run_id) as chain:
            while True:
                stop = self.stops.between_generations(generation)
                if stop is None:
                    self._run_generation(steps, generation, chain)
                    stop = steps.stop
                if stop is not None:
                    return stop
                generation += 1

    def _run_generation(self, steps: Session, generation: int, chain: PassChain) -> None:
        """Each pass is one store batch (one durable commit on ``file://``): the records of the
        attempts that just finished, then the ``running`` marks of the next ones (the first pass:
        the plan), whose jobs are submitted once the commit is durable. The pass that finishes the
        generation is carried over to the next generation's first (:class:`.durable.PassChain`):
        then the new jobs go out (and their memory is retrieved) once its commit is durable and its
        observers heard of the finished attempts, as they would after two passes."""
        in_flight: dict[Future[Any], tuple[Attempt, Pending]] = {}
        carried = chain.carried
        held = chain.open()
        attempts = recover(self.handle, self.config, generation, plan(self.handle, steps.selector, generation))
        if not attempts:
            steps.stop = StopSignal("nothing left to attempt", "completed")
            return
        self.store.after_commit(lambda: self.hook.darwin_generation_started(
            run=self.run, generation=generation, attempts=attempts))
        queue = deque(a for a in attempts if a.status == "planned")
        starting = self._start(steps, queue, in_flight, retrieve=not carried)
        if not starting:
            self._generation_done(generation, attempts, queue, steps)
        if not carried:
            starting = self._submit_early(steps, starting, in_flight, held)
        chain.close()
        while True:
            for attempt, memory in starting:
                in_flight[self._submit_generate(steps, attempt, memory)] = (attempt, None)
            if not in_flight:
                break
            done = first_completed(in_flight)
            held = chain.open()
            for future in done:
                attempt, pending = in_flight.pop(future)
                follow_up = carry_on(self, steps, attempt, future, pending)
                if follow_up is not None:
                    in_flight[follow_up[0]] = (attempt, follow_up[1])
            steps.stop = steps.stop or self.stops.while_running()
            writer.check(self.lease)  # taken over (expired while we stalled): stop writing
            starting = self._start(steps, queue, in_flight)
            if not starting and not in_flight:
                self._generation_done(generation, attempts, queue, steps)
                if steps.stop is None:
                    chain.carry()  # the next generation's plan joins this commit
                    return
            starting = self._submit_early(steps, starting, in_flight, held)
            chain.close()

    def _submit_early(self, steps: Session, starting: list[tuple[Attempt, list[str] | None]],
                      in_flight: dict[Future[Any], tuple[Attempt, Pending]],
                      held: list[str]) -> list[tuple[Attempt, list[str] | None]]:
        """With an in-process executor, submit now, gated until the pass's commit is durable
        (:mod:`.durable`); the attempts left to submit after the commit."""
        if not getattr(steps.executor, "in_process", False):
            return starting
        for attempt, memory in starting:
            GATES.hold(self.pointer.run_id, attempt.id)
            held.append(attempt.id)
            in_flight[self._submit_generate(steps, attempt, memory)] = (attempt, None)
        return []

    def _start(self, steps: Session, queue: deque[Attempt], in_flight: dict[Future[Any], Any],
               retrieve: bool = True) -> list[tuple[Attempt, list[str] | None]]:
        """Admit attempts up to ``max_workers`` in flight, marking each ``running`` (or recording
        its skip) in the open batch; the attempts to submit once it is committed, with their
        memory (``None``: retrieved when submitted)."""
        starting: list[tuple[Attempt, list[str] | None]] = []
        while queue and len(in_flight) + len(starting) < steps.executor.max_workers and steps.stop is None:
            attempt = queue.popleft()
            if not admission.admit(steps.gate, attempt, self.archive):
                steps.recorder.record_skipped(attempt)
                continue
            memory = self._memory(attempt) if retrieve else None
            attempt.status, attempt.started_at = "running", time.time()
            self.store.save_attempt(attempt)
            starting.append((attempt, memory))
        return starting

    def _memory(self, attempt: Attempt) -> list[str]:
        memory: list[str] = []
        if attempt.target is not None:
            parent = self.archive.get(attempt.parent_id)
            for hints in self.hook.darwin_memory_retrieve(run=self.run, parent=parent, target=attempt.target):
                memory.extend(hints or [])
        return memory

    def _generation_done(self, generation: int, attempts: list[Attempt], queue: deque[Attempt],
                         steps: Session) -> None:
        if self.handle.generations[generation].get("status") == "done":
            return  # recorded by an earlier pass: a resumed run rewrites nothing
        if steps.stop is None or not queue:
            if all(a.status in ENDED for a in attempts):
                record = plan_records.done(self.handle.generations[generation])
                self.store.save_generation(record, create=False)
                self.handle.generations[generation] = record
                self.store.after_commit(lambda: self.hook.darwin_generation_finished(
                    run=self.run, generation=generation))

    def _submit_generate(self, steps: Session, attempt: Attempt, memory: list[str] | None, *,
                         skip_trees: AbstractSet[str] | None = None, operator_stats: dict[str, tuple[int, int]] | None = None,
                         history: int | None = None) -> "Future[tuple[Generated, Evaluation | None]]":
        """Submit an attempt whose ``running`` mark is durable (or gated until it is); the skip
        trees and operator statistics are the run's now unless given (frozen by a pipeline), the
        parent's siblings those of generations before ``history`` (default: the attempt's)."""
        parent = self.archive.get(attempt.parent_id)
        memory = self._memory(attempt) if memory is None else memory
        self.store.after_commit(lambda: self.hook.darwin_attempt_started(run=self.run, attempt=attempt))
        skip = self.skips_duplicates(steps)
        job = GenerateJob(**self.run_fields(), attempt=attempt, parent=parent,
                          parent_files=self.codebook.files(parent.id), memory=memory,
                          evaluate=not steps.gate.reviews,
                          skip_trees=skip_trees if skip_trees is not None else self.contents.known() if skip else frozenset(),
                          operator_stats=operator_stats if operator_stats is not None
                          else self.operator_stats.before(attempt.generation),
                          siblings=self.siblings.before(parent.id, attempt.generation if history is None else history),
                          inspirations=inspirations.build(attempt.metadata.get("inspirations") or [], parent,
                                                          self.archive, self.codebook, self.config.inspirations,
                                                          self.inspiration_texts))
        return steps.executor.submit(run_generate_job, job)

    def skips_duplicates(self, steps: Session) -> bool:
        """A job skips a child whose code was evaluated already (not when a review gate decides)."""
        return self.config.evaluation.skip_duplicates and not steps.gate.reviews

    def run_fields(self) -> dict[str, Any]:
        """The :class:`~darwin_core.attempt.RunJob` fields of this run's jobs (a job of an
        in-process executor reuses its worker's working copy)."""
        in_process = self.session is not None and getattr(self.session.executor, "in_process", False)
        return {"run_id": self.pointer.run_id, "config_data": self.pointer.config,
                "config_source": self.pointer.config_source, "run_dir": str(self.run_dir),
                "reuse_copy": bool(in_process)}


def first_completed(futures: Iterable[Future[Any]]) -> list[Future[Any]]:
    """The done futures once one is (``wait(..., FIRST_COMPLETED)``); one future is waited for
    on its own condition, without the waiter ``wait`` installs on every future (per attempt at
    one worker)."""
    pending = list(futures)
    if len(pending) == 1:
        try:
            pending[0].exception()  # blocks until done; its outcome is read by the caller
        except CancelledError:
            pass
        return pending
    return list(wait(pending, return_when=FIRST_COMPLETED)[0])
