"""Warm start: seed a new run with the best variants of an earlier run (``--warm-start RUN``).

Two steps, so that a crash at any point leaves a resumable run:

1. When the run is created (:func:`prepare`), the earlier run is read once: its top-``k``
   accepted, fully evaluated variants (by score, ties by id) are chosen, the blobs of their code
   are copied into the new run's store, the earlier run's plugin state collections are copied
   (the ``state_*`` convention, see :data:`STATE_PREFIXES`), and the plan is recorded as
   ``warm_start/spec``. From then on the earlier run is not needed (resume works without it).
2. After the new run's root is evaluated (:func:`seed_archive`), each seed becomes a variant
   ``v0000wNNN`` of generation 0, child of the root, **re-evaluated** on the new run's benchmark
   by the same evaluate and record steps as the root (:meth:`~darwin_core.record.Recorder.record_initial`):
   scores of another run (maybe another benchmark, sandbox or task set) are not trusted. A seed
   that does not run at all is recorded ``invalid``; the others are ``accepted`` parents.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from darwin_hookspecs import ConflictError, NotFoundError, Objective, Storage, UserError, Variant

from .plugins import PluginManager
from .record import ROOT_ID, Recorder
from .run import RunHandle, open_run_storage, parse_options
from .runtime import Runtime
from .snapshots import CodeBook
from .store import RunStore

SPEC = ("warm_start", "spec")
SEED_PREFIX = "v0000w"
STATE_PREFIXES = ("state_", "plugin_")
"""Collections holding plugin state (memory, predictor, replay buffers...) that a warm start
carries over: a plugin saves its state in a collection named ``state_<plugin>`` of the run's
storage (``services["storage"]`` in ``darwin_run_started``) and loads it from there when a run
starts, resumed or not. ``plugin_*`` is accepted too."""
STATE_NAMES = ("predictor", "replay", "memory")
"""Older, unprefixed names that are carried over as well."""


def is_state_collection(name: str) -> bool:
    return name.startswith(STATE_PREFIXES) or name in STATE_NAMES


@dataclass
class WarmStart:
    """A warm start requested for a new run: the earlier run's store and how many seeds."""

    source: Storage
    k: int = 5
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)


def open_source(ref: str, k: int, options: dict[str, Any], plugins: PluginManager) -> WarmStart:
    """Open the earlier run (a run directory or a storage URL); fail now if it is unusable."""
    if k < 1:
        raise UserError(f"--warm-start-k must be at least 1 (got {k})")
    source = open_run_storage(ref, options, plugins)
    if RunStore(source.storage).load_run() is None:
        source.storage.close()
        raise UserError(f"{ref} holds no run to warm-start from; fix: pass a run directory or the "
                        "storage URL of an earlier run")
    return WarmStart(source=source.storage, k=k, description=ref, options=options)


def choose_seeds(variants: list[Variant], k: int, last_stage: int | None = None,
                 objective: Objective | None = None) -> list[Variant]:
    """The ``k`` best accepted variants evaluated on every stage (ties: earlier id first),
    best in the earlier run's objective direction."""
    objective = objective or Objective()
    top_stage = max((v.stage_reached for v in variants), default=-1) if last_stage is None else last_stage
    ranked = [v for v in variants if v.status == "accepted" and v.stage_reached >= top_stage]
    return sorted(ranked, key=lambda v: (-objective.utility(v.score), v.id))[:k]


def prepare(warm: WarmStart, store: RunStore) -> dict[str, Any]:
    """Copy what the new run needs from the earlier one and record the plan (step 1)."""
    if store.load_run() is not None:
        raise UserError(f"{store.storage.url} already holds a run; fix: warm-start a new run")
    source = RunStore(warm.source)
    earlier = source.load_run()
    assert earlier is not None
    variants = source.load_variants()
    codebook = CodeBook(source)
    for variant in variants:
        codebook.add(variant)
    seeds = []
    for variant in choose_seeds(variants, warm.k, objective=Objective.from_dict(earlier.metadata.get("objective"))):
        manifest = codebook.manifest(variant.id)
        for key in sorted(set(manifest.values())):
            store.copy_blob(warm.source, key)
        seeds.append({"source_id": variant.id, "source_score": variant.score, "manifest": manifest,
                      "description": variant.description})
    copied = []
    for collection in warm.source.collections():
        if not is_state_collection(collection):
            continue
        for key, value, _ in warm.source.scan(collection):
            try:
                store.put(collection, key, value, create=True)
            except ConflictError:  # left by a start that failed before the run existed
                store.put(collection, key, value, create=False)
        copied.append(collection)
    spec = {"source": warm.description, "source_url": warm.source.url, "source_run_id": earlier.run_id,
            "k": warm.k, "seeds": seeds, "state_collections": copied, "created_at": time.time()}
    try:
        store.put(*SPEC, spec, create=True)
    except ConflictError:
        store.put(*SPEC, spec, create=False)
    warm.source.close()  # not needed any more: everything the run needs is in its own store
    return spec


def seed_archive(handle: RunHandle, recorder: Recorder, runtime: Runtime) -> list[Variant]:
    """Add the recorded seeds to the archive, re-evaluated and recorded by the same steps as
    the initial variant (step 2); resumable, idempotent."""
    try:
        spec, _ = handle.store.get(*SPEC)
    except NotFoundError:
        return []
    added: list[Variant] = []
    root_manifest = handle.codebook.manifest(ROOT_ID)
    for index, seed in enumerate(spec["seeds"]):
        variant_id = f"{SEED_PREFIX}{index:03d}"
        if variant_id in handle.archive:
            continue
        manifest: dict[str, str] = seed["manifest"]
        snapshot: dict[str, str | None] = {rel: key for rel, key in manifest.items() if root_manifest.get(rel) != key}
        snapshot.update({rel: None for rel in root_manifest if rel not in manifest})
        seed_variant = Variant(
            id=variant_id, parent_id=ROOT_ID, generation=0, status="accepted", snapshot=snapshot,
            generator="warm_start", improvement_type="warm_start",
            description=f"warm start from {spec['source_run_id']}/{seed['source_id']} "
                        f"(score there {seed['source_score']:.4f})",
            metadata={"warm_start": {"source": spec["source"], "run_id": spec["source_run_id"],
                                     "variant_id": seed["source_id"], "score": seed["source_score"]}},
        )
        added.append(recorder.record_initial(runtime, seed_variant, judge=True))
    return added


def open_warm_start(ref: str, k: int, option_pairs: list[str]) -> WarmStart:
    """``darwin run --warm-start REF --warm-start-k K --warm-start-option KEY=VALUE``."""
    return open_source(ref, k, parse_options(option_pairs), PluginManager())
