"""Read a run without running it: the public loader :func:`open_run` (``darwin status``,
``darwin archive``, ``darwin report`` use it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from darwin_hookspecs import Attempt, RunInfo, Variant

from . import ledger
from .archive import Archive
from .gating import learning_status
from .gc_pause import paused_gc
from .holdout import holdout_status, load_records
from .metrics import compute_metrics
from .plugins import PluginManager
from .population import population_summary, read_population
from .run import RunHandle
from .rundir import RunPointer
from .store import RunStore
from .summary import VariantSummary


@dataclass
class RunView:
    """A run, read-only: its variants, attempts and each variant's files."""

    handle: RunHandle
    extra: dict[str, Any] = field(default_factory=dict)
    _holdout: dict[str, dict[str, Any]] | None = field(default=None, repr=False)

    @property
    def pointer(self) -> RunPointer:
        return self.handle.pointer

    @property
    def run(self) -> RunInfo | None:
        return self.handle.run

    @property
    def archive(self) -> Archive:
        return self.handle.archive

    @property
    def store(self) -> RunStore:
        return self.handle.store

    @property
    def variants(self) -> list[Variant]:
        return self.archive.variants()

    @property
    def attempts(self) -> list[Attempt]:
        """Every attempt, by generation and index."""
        return sorted(self.handle.attempts.values(), key=lambda a: (a.generation, a.index, a.id))

    def variant(self, ref: str) -> Variant:
        """A variant by id, unique id prefix, ``best`` or ``root``; a clear error otherwise."""
        return resolve_variant(self.archive, ref)

    def code(self, variant_id: str) -> dict[str, bytes]:
        """The variant's files, ``{relative path: content}`` (rebuilt from its snapshot chain)."""
        return self.handle.files(self.variant(variant_id).id)

    def write_code(self, variant_id: str, dest: Path) -> list[str]:
        """Write the variant's code into ``dest`` (created; existing files are replaced, others
        left alone); return the relative paths written."""
        from .snapshots import write_tree

        files = self.code(variant_id)
        write_tree(files, dest)
        return sorted(files)

    def close(self) -> None:
        self.handle.close()

    @property
    def holdout(self) -> dict[str, dict[str, Any]]:
        """Held-out records by variant id (see :mod:`darwin_core.holdout`)."""
        if self._holdout is None:
            self._holdout = load_records(self.store)
        return self._holdout

    def status_dict(self) -> dict[str, Any]:
        with paused_gc():
            return self._status_dict()

    def _status_dict(self) -> dict[str, Any]:
        variants = self.archive.summaries()  # nothing is decoded whole
        best = self.archive.summary(self.archive.best_id) if self.archive.best_id else None
        root = variants[0] if variants else None
        by_status: dict[str, int] = {}
        for v in variants:
            by_status[v.status] = by_status.get(v.status, 0) + 1
        all_attempts: list[Any] = (list(self.handle.attempts.summaries()) if self.handle.attempts_loaded
                                   else self.store.load_attempt_summaries())
        attempts: dict[str, int] = {}
        for a in all_attempts:
            attempts[a.status] = attempts.get(a.status, 0) + 1
        return {
            "run_id": self.pointer.run_id,
            "status": self.run.status if self.run else "not started",
            "stop_reason": (self.run.metadata.get("stop_reason", "") if self.run else ""),
            "storage": self.pointer.url_in(self.handle.run_dir),
            "sandbox_guarantees": (self.run.metadata.get("sandbox_guarantees") if self.run else None),
            "variants": len(variants),
            "variants_by_status": by_status,
            "attempts": len(all_attempts),
            "attempts_by_status": attempts,
            "generations": max((v.generation for v in variants), default=0),
            "objective": self.archive.objective.describe(),
            "initial_score": root.score if root else None,
            "best_id": best.id if best else None,
            "best_score": best.score if best else None,
            **holdout_status(self.holdout, best.id if best else None),
            **ledger.summarize(self.store.storage),
            **compute_metrics(variants, all_attempts, self.archive.last_stage, self.archive.objective).summary(),
            **learning_status(self.store),
            **population_summary(*read_population(self.handle)),
            **self.extra,
        }


def resolve_variant(archive: Archive, ref: str) -> Variant:
    from darwin_hookspecs import UserError

    ids = archive.ids()
    alias = {"best": archive.best_id, "root": ids[0] if ids else None}
    if ref in alias and alias[ref]:
        return archive.get(alias[ref])
    matches = [i for i in ids if i == ref] or [i for i in ids if i.startswith(ref)]
    if len(matches) == 1:
        return archive.get(matches[0])
    near = ", ".join(matches[:5] or ids[-5:]) or "none"
    what = "is ambiguous" if matches else "is not a variant of this run"
    raise UserError(f"variant {ref!r} {what} (e.g. {near}); fix: pass an id from `darwin archive`, "
                    "or best/root")


def open_run(run_dir: Path | str, plugins: PluginManager | None = None) -> RunView:
    """Open a run directory read-only (``darwin_core.open_run``): it may be finished, running
    elsewhere or crashed; nothing is written. Without ``plugins`` only the built-ins providing
    its storage and selection backends are loaded (:mod:`darwin_core.plugin_subset`).

    >>> view = open_run("runs/demo")                    # doctest: +SKIP
    >>> best = view.archive.best; view.code(best.id)   # doctest: +SKIP
    """
    with paused_gc():  # the plugins' imports and the records: no cyclic garbage made
        return RunView(RunHandle.open(Path(run_dir), plugins=plugins, reader=True))


def variant_row(variant: Variant | VariantSummary) -> dict[str, Any]:
    """The JSON shape of ``darwin archive --json`` (a summary holds all it needs)."""
    if not isinstance(variant, VariantSummary):
        variant = VariantSummary.of(variant)
    return {
        "id": variant.id,
        "parent_id": variant.parent_id,
        "generation": variant.generation,
        "status": variant.status,
        "score": variant.score,
        "metrics": dict(variant.metrics),
        "repeats": dict(variant.repeats),
        "passed": variant.passed,
        "evaluated": variant.evaluated,
        "improvement_type": variant.improvement_type,
        "description": variant.description,
        "target": variant.target_task,
        "reason": variant.reason,
        "cost_usd": variant.cost_usd,
        "patch_ref": variant.patch_ref,
    }
