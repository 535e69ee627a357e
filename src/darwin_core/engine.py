"""The orchestrator: the DGM loop, durable at every step.

Per generation: parents are selected and attempts planned (and recorded) deterministically from
the seed and the archive; attempts run on the executor, at most ``max_workers`` in flight, each
marked ``running`` before it is submitted; each outcome is recorded (child first, then the
attempt). A crash at any point leaves records from which ``resume`` continues: finished attempts
are never redone, planned ones run, and ones left ``running`` are retried once.
"""

from __future__ import annotations

import random
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from darwin_hookspecs import (
    Attempt,
    BuildContext,
    ConflictError,
    DarwinError,
    RunInfo,
    RunSummary,
    SelectionStrategy,
    Storage,
    TaskResult,
    UserError,
    Variant,
    to_dict,
)

from . import __version__, acceptance, warmstart
from .archive import Archive
from .attempt import AttemptJob, AttemptOutcome, evaluate_staged, run_attempt_job
from .config import DarwinConfig
from .gating import Gate, build_gate
from .memory import attach_memory, detach_memory
from .plugins import PluginManager, validate_options
from .rundir import (
    RunPointer,
    default_run_dir,
    new_run_id,
    open_storage,
    read_pointer,
    storage_url_for,
    write_pointer,
)
from .runtime import Runtime, build_runtime, register_runtime, unregister_runtime
from .patch_features import Patch
from .snapshots import CodeBook, TreeIndex, read_tree, unified_diff
from .store import RunStore
from .targeting import choose_target

ROOT_ID = "v0000root"
INLINE_LOG = 1500


def variant_id_for(attempt_id: str) -> str:
    return "v" + attempt_id[1:]


def derive_seed(*parts: Any) -> int:
    return random.Random(":".join(str(p) for p in parts)).getrandbits(32)


@dataclass
class StopSignal:
    reason: str
    status: str  # "completed" or "stopped"


class Engine:
    """Runs (or resumes) one run. Use :meth:`create` or :meth:`open`."""

    def __init__(
        self,
        config: DarwinConfig,
        pointer: RunPointer,
        run_dir: Path,
        *,
        plugins: PluginManager | None = None,
        extra_plugins: Iterable[Any] = (),
    ) -> None:
        self.config = config
        self.pointer = pointer
        self.run_dir = run_dir
        self.plugins = plugins or PluginManager(disable=config.plugins.disable, extra_plugins=extra_plugins)
        self.hook = self.plugins.hook
        self.storage: Storage = open_storage(
            self.plugins, pointer.storage_url, config.storage.options, run_id=pointer.run_id,
            run_dir=run_dir, config_dir=config.config_dir,
        )
        self.store = RunStore(self.storage, run_id=pointer.run_id, hook=self.hook,
                              retry_for_s=config.storage.retry_for_s)
        self.archive = Archive(last_stage=len(config.evaluation.stages) - 1)
        self.codebook = CodeBook(self.store)
        self.trees = TreeIndex(self.codebook)
        self._stored: dict[str, tuple[dict[str, str | None], dict[str, bytes | None], dict[str, bytes]]] = {}
        """Changes already stored by the after-generation review: attempt id -> (snapshot,
        effective changes, the parent's old content), so recording does not store them again."""
        self.attempts: dict[str, Attempt] = {}
        self.generations: dict[int, dict[str, Any]] = {}
        self.run: RunInfo | None = None
        self.runtime: Runtime | None = None
        self.selector: SelectionStrategy | None = None
        self._stop: StopSignal | None = None
        self.gate = Gate()
        self._started = time.monotonic()

    # ------------------------------------------------------------ construction

    @classmethod
    def create(
        cls, config: DarwinConfig, run_dir: Path | None = None, *, warm_start: Any = None, **kwargs: Any
    ) -> "Engine":
        """A new run in ``run_dir`` (default ``./runs/<name>-<time>``), optionally seeded from an
        earlier run (a :class:`~darwin_core.warmstart.WarmStart`)."""
        run_dir = (run_dir or default_run_dir(config)).resolve()
        if (run_dir / "run.json").exists():
            raise UserError(
                f"{run_dir} already holds a run; fix: `darwin resume {run_dir}` or choose another --run-dir"
            )
        run_id = new_run_id(config.run.name)
        pointer = RunPointer(
            run_id=run_id, storage_url=storage_url_for(config, run_dir, run_id),
            config=config.model_dump(mode="json", exclude={"source"}),
            config_source=str(config.source) if config.source else None, created_at=time.time(),
        )
        engine = cls(config, pointer, run_dir, **kwargs)
        engine._preflight()
        if warm_start is not None:
            warmstart.prepare(warm_start, engine.store)
        write_pointer(run_dir, pointer)
        return engine

    def _preflight(self) -> None:
        """Check every configured backend exists, is installed and accepts its options, before
        anything is recorded: a typo never leaves a half-created run behind."""
        sections = [("generator", self.config.generator), ("sandbox", self.config.sandbox),
                    ("benchmark", self.config.benchmark), ("executor", self.config.executor),
                    ("selection", self.config.selection)]
        if self.config.memory is not None:
            sections.append(("memory", self.config.memory))
        for kind, section in sections:
            spec = self.plugins.spec(kind, section.name)
            spec.check_available()
            validate_options(spec, section.options, self._context(), section=kind)
        if self.config.predictor is not None:  # its section mixes gate and backend keys
            self.plugins.spec("predictor", self.config.predictor.name).check_available()

    @classmethod
    def open(cls, run_dir: Path, **kwargs: Any) -> "Engine":
        """An existing run (to resume it)."""
        run_dir = run_dir.resolve()
        pointer = read_pointer(run_dir)
        return cls(pointer.load_config(), pointer, run_dir, **kwargs)

    # -------------------------------------------------------------------- load

    def _load(self) -> bool:
        """Load the recorded state; return ``True`` when resuming."""
        run = self.store.load_run()
        resumed = run is not None
        if run is None:
            run = RunInfo(
                run_id=self.pointer.run_id, name=self.config.run.name, seed=self.config.run.seed,
                created_at=time.time(), config=self.pointer.config, darwin_version=__version__,
            )
            self.store.save_run(run, create=True)
        elif run.run_id != self.pointer.run_id:
            raise UserError(
                f"storage {self.storage.url} holds run {run.run_id!r}, not {self.pointer.run_id!r}; "
                "fix: give each run its own storage URL (use {run_id} in [storage] url)"
            )
        self.run = run
        for variant in self.store.load_variants():
            self.codebook.add(variant)
            self.archive.add(variant)
        self.attempts = {a.id: a for a in self.store.load_attempts()}
        self.generations = self.store.load_generations()
        return resumed

    # --------------------------------------------------------------------- run

    def run_loop(self) -> RunSummary:
        """Run until a stop condition; always leave the run resumable."""
        resumed = self._load()
        assert self.run is not None
        self.run.status = "running"
        self.store.save_run(self.run)
        context_services = {"storage": self.storage, "config_source": self.config.source}
        self.runtime = build_runtime(self.config, run_id=self.run.run_id, run_dir=self.run_dir,
                                     plugins=self.plugins, services=context_services)
        self.executor = self.plugins.create(
            "executor", self.config.executor.name, self.config.executor.options, self._context(),
        )
        self.selector = self.plugins.create(
            "selection", self.config.selection.name, self.config.selection.options, self._context(),
        )
        self.gate = build_gate(self.config, self.plugins, self._context(), self.store)
        attach_memory(self.plugins, self.config, self._context())
        register_runtime(self.runtime)
        status, reason = "failed", ""
        try:
            self.hook.darwin_run_started(run=self.run, resumed=resumed, services=context_services)
            self._ensure_root()
            warmstart.seed_archive(self)
            generation = 1
            while True:
                stop = self._check_stop(generation)
                if stop:
                    status, reason = stop.status, stop.reason
                    break
                self._run_generation(generation)
                if self._stop:
                    status, reason = self._stop.status, self._stop.reason
                    break
                generation += 1
        except KeyboardInterrupt:
            status, reason = "interrupted", "interrupted by the user; `darwin resume` continues"
            raise
        except DarwinError as exc:
            status, reason = "failed", str(exc)
            raise
        finally:
            self.executor.shutdown(wait=status != "interrupted")
            detach_memory(self.plugins)
            unregister_runtime(self.run.run_id)
            self.runtime.close()
            summary = self._finish(status, reason)
        return summary

    def _context(self) -> BuildContext:
        return BuildContext(run_id=self.pointer.run_id, run_dir=self.run_dir,
                            config_dir=self.config.config_dir, seed=self.config.run.seed,
                            hook=self.hook, services={"storage": self.storage,
                                                      "config_source": self.config.source})

    def _finish(self, status: str, reason: str) -> RunSummary:
        assert self.run is not None
        self.run.status = status
        self.run.metadata["stop_reason"] = reason
        try:
            self.gate.save()
            self.store.save_run(self.run)
        except DarwinError:
            pass  # the store is gone: the records already written stand
        summary = self.summary(status, reason)
        self.hook.darwin_run_finished(run=self.run, summary=summary)
        return summary

    def summary(self, status: str = "", reason: str = "") -> RunSummary:
        variants = self.archive.variants()
        best = self.archive.best
        root = self.archive.root
        return RunSummary(
            run_id=self.pointer.run_id, status=status or (self.run.status if self.run else ""),
            attempts=len(self.attempts), variants=len(variants),
            accepted=sum(v.status == "accepted" for v in variants),
            best_id=best.id if best else None, best_score=best.score if best else 0.0,
            initial_score=root.score if root else 0.0, stop_reason=reason,
            cost_usd=sum(v.cost_usd for v in variants),
        )

    def _check_stop(self, generation: int) -> StopSignal | None:
        """Between generations: the in-flight conditions, plus the generation and attempt caps."""
        cfg = self.config.run
        if stop := self._score_stop():
            return stop
        if generation > cfg.generations and not self._unfinished(generation):
            return StopSignal(f"all {cfg.generations} generations done", "completed")
        if cfg.max_attempts is not None and self._counted_attempts() >= cfg.max_attempts and not self._unfinished(generation):
            return StopSignal(f"max_attempts={cfg.max_attempts} reached", "completed")
        return self._time_stop()

    def _check_running_stop(self) -> StopSignal | None:
        """While attempts run: the conditions that stop submitting new ones."""
        return self._score_stop() or self._time_stop()

    def _score_stop(self) -> StopSignal | None:
        best, target = self.archive.best, self.config.run.stop_at_score
        if target is not None and best is not None and best.score >= target:
            return StopSignal(f"best score {best.score:.4f} reached stop_at_score", "completed")
        return None

    def _time_stop(self) -> StopSignal | None:
        budget = self.config.run.time_budget_s
        if budget is not None and time.monotonic() - self._started > budget:
            return StopSignal(f"time budget of {budget:.0f}s spent", "stopped")
        return None

    def _counted_attempts(self) -> int:
        return sum(1 for a in self.attempts.values() if a.retry_of is None)

    def _unfinished(self, generation: int) -> bool:
        record = self.generations.get(generation)
        return record is not None and record.get("status") != "done"

    # -------------------------------------------------------------------- root

    def _ensure_root(self) -> None:
        if ROOT_ID in self.archive:
            return
        assert self.runtime is not None and self.run is not None
        files = read_tree(self.config.resolve(self.config.run.initial), self.config.run.ignore)
        if not files:
            raise UserError(f"initial variant {self.config.run.initial} holds no file; fix: [run] initial")
        snapshot = {rel: self.store.put_blob(data) for rel, data in files.items()}
        tmp = self.run_dir / "scratch" / "root"
        self.codebook.add(Variant(id=ROOT_ID, parent_id=None, generation=0, status="accepted", snapshot=snapshot))
        self.codebook.materialize(ROOT_ID, tmp)
        t0 = time.perf_counter()
        results, reached = evaluate_staged(self.runtime, tmp, None)
        # the root is always evaluated on everything, whatever the thresholds
        if reached < self.runtime.last_stage:
            seen = {r.task_id for r in results}
            rest = [t for t in self.runtime.tasks if t.id not in seen]
            results += self.runtime.benchmark.evaluate(tmp, rest, self.runtime.sandbox)
        for result in results:
            self.hook.darwin_task_evaluated(run=self.run, attempt=None, result=result)
        root = Variant(
            id=ROOT_ID, parent_id=None, generation=0, status="accepted",
            score=self._score(results), task_results=self._compact(results),
            snapshot=snapshot, generator="initial", improvement_type="initial",
            description="the initial variant", stage_reached=self.runtime.last_stage,
            created_at=time.time(), timings={"evaluation_s": time.perf_counter() - t0},
        )
        self._save_variant(root)

    # ------------------------------------------------------------- generations

    def _plan(self, generation: int) -> list[Attempt]:
        record = self.generations.get(generation)
        if record is not None:
            return [self.attempts[a] for a in record["attempts"] if a in self.attempts]
        assert self.selector is not None
        cfg = self.config.run
        n = cfg.children_per_generation
        if cfg.max_attempts is not None:
            n = min(n, cfg.max_attempts - self._counted_attempts())
        if n <= 0:
            return []
        rng = random.Random(f"{cfg.seed}:select:{generation}")
        parents = self.selector.select(self.archive, n, rng)
        planned: list[Attempt] = []
        for index, parent_id in enumerate(parents):
            parent = self.archive.get(parent_id)
            target = choose_target(parent, random.Random(f"{cfg.seed}:target:{generation}:{index}"))
            attempt = Attempt(
                id=f"g{generation:04d}a{index:03d}", generation=generation, index=index,
                parent_id=parent_id, seed=derive_seed(cfg.seed, generation, index), target=target,
            )
            stored = Attempt.from_dict(self.store.create_or_load("attempts", attempt.id, to_dict(attempt)))
            self.attempts[stored.id] = stored
            planned.append(stored)
        record = {"generation": generation, "attempts": [a.id for a in planned], "status": "running"}
        self.generations[generation] = self.store.create_or_load(
            "generations", f"{generation:06d}", record
        )
        return [self.attempts[a] for a in self.generations[generation]["attempts"]]

    def _recover(self, generation: int, attempts: list[Attempt]) -> list[Attempt]:
        """Settle attempts a crash left ``running``: finish those whose child is recorded,
        retry the others once (as a new attempt)."""
        result: list[Attempt] = []
        for attempt in attempts:
            if attempt.status != "running":
                result.append(attempt)
                continue
            child_id = variant_id_for(attempt.id)
            if child_id in self.archive:
                attempt.status, attempt.child_id = "finished", child_id
                self.store.save_attempt(attempt)
                result.append(attempt)
                continue
            attempt.status = "interrupted"
            retries = int(attempt.metadata.get("retry", 0))
            if retries >= self.config.run.retries_on_interrupt:
                attempt.status = "abandoned"
                attempt.error = "interrupted again after its retry; not retried further"
            self.store.save_attempt(attempt)
            result.append(attempt)
            if attempt.status == "interrupted":
                retry = Attempt(
                    id=f"{attempt.id.split('r')[0]}r{retries + 1}", generation=attempt.generation,
                    index=attempt.index, parent_id=attempt.parent_id, seed=attempt.seed,
                    target=attempt.target, retry_of=attempt.id, metadata={"retry": retries + 1},
                )
                stored = Attempt.from_dict(self.store.create_or_load("attempts", retry.id, to_dict(retry)))
                self.attempts[stored.id] = stored
                record = self.generations[generation]
                if stored.id not in record["attempts"]:
                    record = {**record, "attempts": [*record["attempts"], stored.id]}
                    self.store.save_generation(record, create=False)
                    self.generations[generation] = record
                result.append(stored)
        return result

    def _run_generation(self, generation: int) -> None:
        assert self.run is not None
        attempts = self._recover(generation, self._plan(generation))
        if not attempts:
            self._stop = StopSignal("nothing left to attempt", "completed")
            return
        self.hook.darwin_generation_started(run=self.run, generation=generation, attempts=attempts)
        queue = deque(a for a in attempts if a.status == "planned")
        # a future -> its attempt, and the generation outcome when it is an evaluate phase
        in_flight: dict[Future[AttemptOutcome], tuple[Attempt, AttemptOutcome | None]] = {}
        split = self.gate.reviews
        while queue or in_flight:
            while queue and len(in_flight) < self.executor.max_workers and self._stop is None:
                attempt = queue.popleft()
                if not self._admit(attempt):
                    continue
                in_flight[self._submit(attempt, "generate" if split else "all")] = (attempt, None)
            if not in_flight:
                break
            done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for future in done:
                attempt, generated = in_flight.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # noqa: BLE001 - executor/infra failure of one attempt
                    outcome = AttemptOutcome(attempt_id=attempt.id, error_kind="evaluation",
                                             error=f"attempt crashed in the executor: {type(exc).__name__}: {exc}")
                if generated is not None:
                    outcome = generated.merge_evaluation(outcome)
                elif split and not outcome.error and outcome.changed:
                    if self._review(attempt, outcome):
                        in_flight[self._submit_evaluation(attempt, outcome)] = (attempt, outcome)
                    continue
                self._record(attempt, outcome)
            if self._stop is None:
                stop = self._check_running_stop()
                if stop:
                    self._stop = stop
        if self._stop is None or not queue:
            if all(a.status in ("finished", "interrupted", "abandoned", "skipped") for a in attempts):
                record = {**self.generations[generation], "status": "done"}
                self.store.save_generation(record, create=False)
                self.generations[generation] = record
                self.hook.darwin_generation_finished(run=self.run, generation=generation)

    def _admit(self, attempt: Attempt) -> bool:
        """Ask the gate; a skipped attempt is recorded as such and never paid for."""
        assert self.run is not None
        parent = self.archive.get(attempt.parent_id)
        run_it, decision = self.gate.decide(attempt, parent, self.archive)
        if decision:
            attempt.metadata["gate"] = decision
        if run_it:
            return True
        attempt.status, attempt.finished_at = "skipped", time.time()
        self.store.save_attempt(attempt)
        self.hook.darwin_attempt_finished(run=self.run, attempt=attempt, child=None)
        return False

    def _review(self, attempt: Attempt, outcome: AttemptOutcome) -> bool:
        """After generation: ask the gate whether the change is worth evaluating. A skipped
        change is recorded on its attempt (its diff in a blob) and never evaluated."""
        assert self.run is not None and outcome.proposal is not None
        parent = self.archive.get(attempt.parent_id)
        snapshot, effective = self.codebook.store_changes(parent.id, outcome.changes)
        manifest = self.codebook.manifest(parent.id)
        old = {rel: self.store.get_blob(manifest[rel]) for rel in effective if rel in manifest}
        child_manifest = self._child_manifest(manifest, snapshot)
        patch = Patch(proposal=outcome.proposal, old=old, new=effective,
                      duplicate_of=self.trees.find(child_manifest))
        run_it, decision = self.gate.review(attempt, parent, self.archive, patch)
        attempt.metadata["gate"] = decision
        if run_it:
            self.trees.reserve(child_manifest, variant_id_for(attempt.id))
            self._stored[attempt.id] = (snapshot, effective, old)
            return True
        self.hook.darwin_proposal_generated(
            run=self.run, attempt=attempt, proposal=outcome.proposal,
            started_at=outcome.generation_started, duration_s=outcome.generation_s,
        )
        attempt.metadata["proposal"] = {
            "improvement_type": outcome.proposal.improvement_type,
            "description": outcome.proposal.description[:2000],
            "patch_ref": self.store.put_blob(unified_diff(old, effective).encode()),
            "snapshot": snapshot,
            "cost_usd": sum(u.cost_usd for u in outcome.usage),
            "generation_s": outcome.generation_s,
        }
        attempt.status, attempt.finished_at = "skipped", time.time()
        self.store.save_attempt(attempt)
        self.hook.darwin_attempt_finished(run=self.run, attempt=attempt, child=None)
        return False

    @staticmethod
    def _child_manifest(manifest: dict[str, str], snapshot: dict[str, str | None]) -> dict[str, str]:
        child = dict(manifest)
        for rel, key in snapshot.items():
            if key is None:
                child.pop(rel, None)
            else:
                child[rel] = key
        return child

    def _submit_evaluation(self, attempt: Attempt, generated: AttemptOutcome) -> "Future[AttemptOutcome]":
        parent = self.archive.get(attempt.parent_id)
        job = AttemptJob(
            run_id=self.pointer.run_id, config_data=self.pointer.config,
            config_source=self.pointer.config_source, run_dir=str(self.run_dir),
            attempt=attempt, parent=parent, parent_files=self.codebook.files(parent.id),
            phase="evaluate", changes=generated.changes,
        )
        return self.executor.submit(run_attempt_job, job)

    def _submit(self, attempt: Attempt, phase: str = "all") -> "Future[AttemptOutcome]":
        assert self.run is not None
        parent = self.archive.get(attempt.parent_id)
        memory: list[str] = []
        if attempt.target is not None:
            for hints in self.hook.darwin_memory_retrieve(run=self.run, parent=parent, target=attempt.target):
                memory.extend(hints or [])
        attempt.status = "running"
        attempt.started_at = time.time()
        self.store.save_attempt(attempt)
        self.hook.darwin_attempt_started(run=self.run, attempt=attempt)
        job = AttemptJob(
            run_id=self.pointer.run_id, config_data=self.pointer.config,
            config_source=self.pointer.config_source, run_dir=str(self.run_dir),
            attempt=attempt, parent=parent, parent_files=self.codebook.files(parent.id), memory=memory,
            phase=phase,
        )
        return self.executor.submit(run_attempt_job, job)

    # ------------------------------------------------------------------ record

    def _record(self, attempt: Attempt, outcome: AttemptOutcome) -> None:
        assert self.run is not None
        if outcome.error_kind == "budget":
            attempt.status = "planned"  # not paid for: it runs again after resume
            self.store.save_attempt(attempt)
            self._stop = StopSignal(outcome.error, "stopped")
            return
        if outcome.error_kind == "user":  # bad input (e.g. a refused API key): stop at once, exit 2
            attempt.status = "planned"
            self.store.save_attempt(attempt)
            raise UserError(outcome.error)
        parent = self.archive.get(attempt.parent_id)
        if outcome.proposal is not None:
            self.hook.darwin_proposal_generated(
                run=self.run, attempt=attempt, proposal=outcome.proposal,
                started_at=outcome.generation_started, duration_s=outcome.generation_s,
            )
        for result in outcome.results:
            self.hook.darwin_task_evaluated(run=self.run, attempt=attempt, result=result)
        stored = self._stored.pop(attempt.id, None)
        if stored is not None:
            snapshot, effective, old = stored
        elif outcome.changes:
            snapshot, effective = self.codebook.store_changes(parent.id, outcome.changes)
            manifest = self.codebook.manifest(parent.id)
            old = {rel: self.store.get_blob(manifest[rel]) for rel in effective if rel in manifest}
        else:
            snapshot, effective, old = {}, {}, {}
        patch_ref = self.store.put_blob(unified_diff(old, effective).encode()) if effective else None
        score = self._score(outcome.results)
        status, reason = self._judge(outcome, effective, score, parent)
        proposal = outcome.proposal
        child = Variant(
            id=variant_id_for(attempt.id), parent_id=parent.id, generation=attempt.generation,
            status=status, reason=reason, score=score, task_results=self._compact(outcome.results),
            snapshot=snapshot, patch_ref=patch_ref, generator=self.config.generator.name,
            improvement_type=proposal.improvement_type if proposal else "",
            description=proposal.description if proposal else "", target=attempt.target,
            usage=outcome.usage, cost_usd=sum(u.cost_usd for u in outcome.usage),
            timings={"generation_s": outcome.generation_s, "evaluation_s": outcome.evaluation_s},
            stage_reached=outcome.stage_reached, attempt_id=attempt.id, created_at=time.time(),
            metadata=dict(proposal.metadata) if proposal else {},
        )
        self._save_variant(child)
        attempt.status, attempt.child_id = "finished", child.id
        attempt.finished_at, attempt.error = time.time(), outcome.error[:4000]
        self.store.save_attempt(attempt)
        self.gate.observe(attempt, parent, child, self.archive)
        self.hook.darwin_memory_record(run=self.run, attempt=attempt, parent=parent, child=child)
        self.hook.darwin_attempt_finished(run=self.run, attempt=attempt, child=child)

    def _judge(
        self, outcome: AttemptOutcome, effective: dict[str, bytes | None], score: float, parent: Variant
    ) -> tuple[str, str]:
        if outcome.error:
            return "error", outcome.error.splitlines()[0][:500]
        if not effective:
            return "invalid", "empty proposal: no file changed"
        if not outcome.results:
            return "invalid", "not evaluated"
        if score == 0.0 and all(r.failure_kind in ("crash", "error") for r in outcome.results):
            return "invalid", "does not run: every evaluated task crashed"
        return acceptance.judge(self.config, score, parent, self.archive.root, outcome.results)

    def _save_variant(self, variant: Variant) -> None:
        assert self.run is not None
        try:
            self.store.save_variant(variant)
        except ConflictError:  # recorded by a pass that crashed before finishing the attempt
            value, _ = self.store.get("variants", variant.id)
            variant = Variant.from_dict(value)
        self.codebook.add(variant)
        self.archive.add(variant)
        if variant.id == ROOT_ID:
            return
        if variant.status == "accepted":
            self.hook.darwin_variant_accepted(run=self.run, variant=variant)
        else:
            self.hook.darwin_variant_rejected(run=self.run, variant=variant, reason=variant.reason)

    # ----------------------------------------------------------------- scoring

    def _score(self, results: list[TaskResult]) -> float:
        assert self.runtime is not None
        weights = {t.id: t.weight for t in self.runtime.tasks}
        total = sum(weights.values()) or 1.0
        return sum(weights.get(r.task_id, 0.0) * r.score for r in results) / total

    def _compact(self, results: list[TaskResult]) -> dict[str, TaskResult]:
        """Keep logs and coverage of failing tasks only; long logs go to a blob."""
        compact: dict[str, TaskResult] = {}
        for r in results:
            r = TaskResult(**{**r.__dict__})
            if r.passed:
                r.log, r.coverage = "", None
            elif len(r.log) > INLINE_LOG:
                r.log_ref = self.store.put_blob(r.log.encode())
                r.log = r.log[-INLINE_LOG:]
            compact[r.task_id] = r
        return compact
