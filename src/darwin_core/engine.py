"""The orchestrator: schedules the attempt pipeline and keeps the run durable at every step.

Per generation the attempts are planned (:mod:`~darwin_core.plan`), then each goes through
admit → generate → review → evaluate → judge → record (docs/engine.md shows which module holds
each step). At most ``max_workers`` attempts are in flight, each marked ``running`` before it is
submitted; a child is recorded before its attempt is marked finished. A crash at any point
leaves records from which ``resume`` continues: finished attempts are never redone, planned
ones run, and ones left ``running`` are retried once.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any, Iterable, Union

from darwin_hookspecs import (
    Attempt,
    DarwinError,
    Executor,
    RunInfo,
    RunSummary,
    SelectionStrategy,
    UserError,
    Variant,
)

from . import __version__, admission, inspirations, warmstart
from .attempt import EvaluateJob, GenerateJob, run_evaluate_job, run_generate_job
from .config import DarwinConfig
from .duplicates import ContentIndex
from .evaluate import Evaluation
from .gating import Gate
from .generate import Generated
from .operator_stats import OperatorStats
from .plan import plan, recover
from .plugin_config import configure_plugins, embedded_plugins
from .plugins import PluginManager
from .rundir import read_pointer
from .record import ROOT_ID, Change
from .run import RunHandle
from .runtime import build_runtime, register_runtime, unregister_runtime
from .session import Session, preflight
from .snapshots import TreeIndex, read_tree
from .stopping import StopRules, StopSignal

__all__ = ["Engine", "ROOT_ID"]

Pending = Union[None, tuple[Generated, Change]]
"""What an in-flight future continues: ``None`` for a generate job, the reviewed change for an
evaluate job."""


class Engine:
    """Runs (or resumes) one run, once. Use :meth:`create` or :meth:`open`."""

    def __init__(self, handle: RunHandle) -> None:
        self.handle = handle
        self.config, self.pointer, self.run_dir = handle.config, handle.pointer, handle.run_dir
        self.plugins, self.hook = handle.plugins, handle.plugins.hook
        self.storage, self.store, self.archive = handle.storage, handle.store, handle.archive
        self.codebook, self.trees = handle.codebook, TreeIndex(handle.codebook)
        self.contents, self.operator_stats = ContentIndex(handle.codebook), OperatorStats(handle.codebook)
        self.stops = StopRules(handle)
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
        earlier run (a :class:`~darwin_core.warmstart.WarmStart`). ``entry_points=True`` loads
        every installed plugin (as the CLI does); otherwise the built-ins, ``extra_plugins`` and
        the entry points ``[plugins] enable`` names."""
        if plugins is None:  # the passed plugins register before the registries are collected
            plugins, extra_plugins = embedded_plugins(config, entry_points, extra_plugins), ()
        handle = RunHandle.new(config, run_dir, plugins=plugins, extra_plugins=extra_plugins)
        preflight(handle)
        if warm_start is not None:
            warmstart.prepare(warm_start, handle.store)
        handle.write_pointer()
        return cls(handle)

    @classmethod
    def open(cls, run_dir: Path, *, plugins: PluginManager | None = None,
             extra_plugins: Iterable[Any] = (), entry_points: bool = False) -> "Engine":
        """An existing run (to resume it), its records loaded; plugins as for :meth:`create`."""
        if plugins is None:
            config = read_pointer(Path(run_dir)).load_config()
            plugins, extra_plugins = embedded_plugins(config, entry_points, extra_plugins), ()
        return cls(RunHandle.open(run_dir, plugins=plugins, extra_plugins=extra_plugins))

    # --------------------------------------------------------------------- run

    def run_loop(self) -> RunSummary:
        """Run until a stop condition; always leave the run resumable."""
        resumed = self.handle.run is not None
        run = self.handle.run or RunInfo(
            run_id=self.pointer.run_id, name=self.config.run.name, seed=self.config.run.seed,
            created_at=time.time(), config=self.pointer.config, darwin_version=__version__,
        )
        self.handle.run, run.status = run, "running"
        self.store.prepare_indexes()
        self.store.save_run(run, create=not resumed)
        services = {"storage": self.storage, "config_source": self.config.source, "run_dir": self.run_dir}
        runtime = build_runtime(self.config, run_id=run.run_id, run_dir=self.run_dir, plugins=self.plugins,
                                services=services)
        register_runtime(runtime)
        status, reason = "failed", ""
        steps: Session | None = None
        try:
            steps = self.session = Session.start(self.handle, runtime)
            configure_plugins(self.plugins, self.config, run, self.run_dir)
            self.hook.darwin_run_started(run=run, resumed=resumed, services=services)
            self._ensure_root(steps)
            warmstart.seed_archive(self.handle, steps.recorder, runtime)
            generation = 1
            while True:
                stop = self.stops.between_generations(generation)
                if stop is None:
                    self._run_generation(steps, generation)
                    stop = steps.stop
                if stop is not None:
                    status, reason = stop.status, stop.reason
                    break
                generation += 1
        except KeyboardInterrupt:
            status, reason = "interrupted", "interrupted by the user; `darwin resume` continues"
            raise
        except DarwinError as exc:
            status, reason = "failed", str(exc)
            raise
        finally:
            if steps is not None:
                steps.close(self.plugins, wait=status != "interrupted")
            unregister_runtime(run.run_id)
            runtime.close()
            summary = self._finish(steps, run, status, reason)
        return summary

    def _finish(self, steps: Session | None, run: RunInfo, status: str, reason: str) -> RunSummary:
        run.status = status
        run.metadata["stop_reason"] = reason
        try:
            if steps is not None:
                steps.gate.save()
            self.store.save_run(run)
        except DarwinError:
            pass  # the store is gone: the records already written stand
        summary = self.summary(status, reason)
        self.hook.darwin_run_finished(run=run, summary=summary)
        return summary

    def summary(self, status: str = "", reason: str = "") -> RunSummary:
        variants = self.archive.summaries()
        best = self.archive.summary(self.archive.best_id) if self.archive.best_id else None
        root = variants[0] if variants else None
        return RunSummary(
            run_id=self.pointer.run_id, status=status or (self.run.status if self.run else ""),
            attempts=len(self.attempts), variants=len(variants),
            accepted=sum(v.status == "accepted" for v in variants),
            best_id=best.id if best else None, best_score=best.score if best else 0.0,
            initial_score=root.score if root else 0.0, stop_reason=reason,
            cost_usd=sum(v.cost_usd for v in variants),
        )

    def _ensure_root(self, steps: Session) -> None:
        if ROOT_ID in self.archive:
            return
        files = read_tree(self.config.resolve(self.config.run.initial), self.config.run.ignore)
        if not files:
            raise UserError(f"initial variant {self.config.run.initial} holds no file; fix: [run] initial")
        root = Variant(id=ROOT_ID, parent_id=None, generation=0, status="accepted",
                       snapshot={rel: self.store.put_blob(data) for rel, data in files.items()},
                       generator="initial", improvement_type="initial", description="the initial variant")
        steps.recorder.record_initial(steps.runtime, root, judge=False)

    # ------------------------------------------------------------- scheduling

    def _run_generation(self, steps: Session, generation: int) -> None:
        """Each pass is one store batch (one durable commit on ``file://``): the records of the
        attempts that just finished, then the ``running`` marks of the next ones (the first pass:
        the plan), whose jobs are submitted once the commit is durable."""
        with self.store.batch():
            attempts = recover(self.handle, self.config, generation, plan(self.handle, steps.selector, generation))
            if not attempts:
                steps.stop = StopSignal("nothing left to attempt", "completed")
                return
            self.hook.darwin_generation_started(run=self.run, generation=generation, attempts=attempts)
            queue = deque(a for a in attempts if a.status == "planned")
            in_flight: dict[Future[Any], tuple[Attempt, Pending]] = {}
            starting = self._start(steps, queue, in_flight)
            if not starting:
                self._generation_done(generation, attempts, queue, steps)
        while True:
            for attempt, memory in starting:
                in_flight[self._submit_generate(steps, attempt, memory)] = (attempt, None)
            if not in_flight:
                break
            done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            with self.store.batch():
                for future in done:
                    attempt, pending = in_flight.pop(future)
                    follow_up = self._on_done(steps, attempt, future, pending)
                    if follow_up is not None:
                        in_flight[follow_up[0]] = (attempt, follow_up[1])
                steps.stop = steps.stop or self.stops.while_running()
                starting = self._start(steps, queue, in_flight)
                if not starting and not in_flight:
                    self._generation_done(generation, attempts, queue, steps)

    def _start(self, steps: Session, queue: deque[Attempt],
               in_flight: dict[Future[Any], Any]) -> list[tuple[Attempt, list[str]]]:
        """Admit attempts up to ``max_workers`` in flight, marking each ``running`` (or recording
        its skip) in the open batch; the attempts to submit once it is committed."""
        starting: list[tuple[Attempt, list[str]]] = []
        while queue and len(in_flight) + len(starting) < steps.executor.max_workers and steps.stop is None:
            attempt = queue.popleft()
            if not admission.admit(steps.gate, attempt, self.archive):
                steps.recorder.record_skipped(attempt)
                continue
            parent = self.archive.get(attempt.parent_id)
            memory: list[str] = []
            if attempt.target is not None:
                for hints in self.hook.darwin_memory_retrieve(run=self.run, parent=parent, target=attempt.target):
                    memory.extend(hints or [])
            attempt.status, attempt.started_at = "running", time.time()
            self.store.save_attempt(attempt)
            starting.append((attempt, memory))
        return starting

    def _generation_done(self, generation: int, attempts: list[Attempt], queue: deque[Attempt],
                         steps: Session) -> None:
        if self.handle.generations[generation].get("status") == "done":
            return  # recorded by an earlier pass: a resumed run rewrites nothing
        if steps.stop is None or not queue:
            if all(a.status in ("finished", "interrupted", "abandoned", "skipped") for a in attempts):
                record = {**self.handle.generations[generation], "status": "done"}
                self.store.save_generation(record, create=False)
                self.handle.generations[generation] = record
                self.store.after_commit(lambda: self.hook.darwin_generation_finished(
                    run=self.run, generation=generation))

    def _submit_generate(self, steps: Session, attempt: Attempt,
                         memory: list[str]) -> "Future[tuple[Generated, Evaluation | None]]":
        """Submit an attempt whose ``running`` mark is durable."""
        parent = self.archive.get(attempt.parent_id)
        self.hook.darwin_attempt_started(run=self.run, attempt=attempt)
        skip = self.config.evaluation.skip_duplicates and not steps.gate.reviews
        job = GenerateJob(**self._run_fields(), attempt=attempt, parent=parent,
                          parent_files=self.codebook.files(parent.id), memory=memory,
                          evaluate=not steps.gate.reviews, skip_trees=self.contents.known() if skip else frozenset(),
                          operator_stats=self.operator_stats.before(attempt.generation),
                          inspirations=inspirations.build(attempt.metadata.get("inspirations") or [], parent,
                                                          self.archive, self.codebook, self.config.inspirations))
        return steps.executor.submit(run_generate_job, job)

    def _run_fields(self) -> dict[str, Any]:
        return {"run_id": self.pointer.run_id, "config_data": self.pointer.config,
                "config_source": self.pointer.config_source, "run_dir": str(self.run_dir)}

    def _on_done(self, steps: Session, attempt: Attempt, future: Future[Any],
                 pending: Pending) -> tuple[Future[Evaluation], tuple[Generated, Change]] | None:
        """Carry a finished job on to its next step; the evaluate job to wait for, if any."""
        parent = self.archive.get(attempt.parent_id)
        recorder = steps.recorder
        try:
            result = future.result()
        except Exception as exc:  # noqa: BLE001 - executor/infra failure of one attempt
            error = f"attempt crashed in the executor: {type(exc).__name__}: {exc}"
            result = (Generated(attempt.id, error=error, error_kind="evaluation"), None) if pending is None \
                else Evaluation(error=error, error_kind="evaluation")
        if pending is not None:  # an evaluate job
            generated, change = pending
            recorder.record_child(attempt, parent, generated, change, result)
            return None
        generated, evaluation = result
        if generated.error_kind == "budget":  # not paid for: it runs again after resume
            attempt.status = "planned"
            self.store.save_attempt(attempt)
            steps.stop = StopSignal(generated.error, "stopped")
            return None
        if generated.error_kind == "user":  # bad input (e.g. a refused API key): stop at once, exit 2
            attempt.status = "planned"
            self.store.save_attempt(attempt)
            raise UserError(generated.error)
        change = recorder.store_change(parent.id, generated.changes)
        if generated.error or not generated.changed or generated.proposal is None:
            recorder.record_child(attempt, parent, generated, change, None)
            return None
        duplicate = self.trees.find(change.manifest) if generated.duplicate else None
        if duplicate is not None:  # the job found its code evaluated already (duplicates.py)
            recorder.record_child(attempt, parent, generated, change, None, duplicate_of=duplicate)
            return None
        if not admission.review(steps.gate, attempt, self.archive, generated.proposal, change, self.trees):
            recorder.record_skipped(attempt, generated, change)
            return None
        if evaluation is not None:
            recorder.record_child(attempt, parent, generated, change, evaluation)
            return None
        job = EvaluateJob(**self._run_fields(), attempt=attempt, parent_files=self.codebook.files(parent.id),
                          changes=generated.changes)
        return steps.executor.submit(run_evaluate_job, job), (generated, change)
