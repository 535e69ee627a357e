"""Typed persistence of a run on any :class:`~darwin_hookspecs.Storage` backend.

Collections: ``run`` (one record, key ``run``), ``variants``, ``attempts``, ``generations``
(the plan of each generation), plus any plugin's own. Blobs (file contents, diffs, logs) are
zlib-compressed and content-addressed, so identical files are stored once.

Transient storage failures are retried with backoff within a bound; past it the run stops with
:class:`~darwin_hookspecs.StorageUnavailableError` and everything already written stays intact.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import zlib
from collections import OrderedDict
from operator import attrgetter
from typing import Any, Callable, Iterator, TypeVar

from darwin_hookspecs import (
    Attempt,
    ConflictError,
    CorruptRecordError,
    NotFoundError,
    RunInfo,
    Storage,
    StorageError,
    StorageUnavailableError,
    Variant,
    to_dict,
)

from darwin_hookspecs.projection import project

from . import infra
from .gc_pause import paused_gc
from .blob_payload import ZLIB_MAGIC as _ZLIB_MAGIC, blob_payload
from .plan_records import planned_attempts
from .record_text import encoded
from .store_batch import Keep, StoreBatch
from .summary import ATTEMPT_PATHS, ENDED, PATHS, TALLY_PATHS, AttemptSummary, VariantSummary, tally, tally_of

T = TypeVar("T")

_CACHE_BYTES = 64 * 1024 * 1024
_CACHE_ITEM_MAX = 4 * 1024 * 1024
_BULK = 64
"""Past this many variants to decode at once, one scan beats one read per variant."""


class RunStore:
    """A run's records and blobs. Not thread-safe: the orchestrator is the only writer."""

    def __init__(
        self,
        storage: Storage,
        *,
        run_id: str = "",
        hook: Any = None,
        retry_for_s: float = 60.0,
    ) -> None:
        self.storage = storage
        self.run_id = run_id
        self.hook = hook
        self.retry_for_s = retry_for_s
        self._versions: dict[tuple[str, str], str] = {}
        # blobs are content-addressed, hence immutable: a small cache saves re-reading parents
        self._blob_cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_bytes = 0
        self._cache_lock = threading.Lock()
        self._batch: StoreBatch | None = None
        self.unstored: set[str] = set()
        """Attempts planned but with no record of their own yet (:mod:`darwin_core.plan_records`)."""

    # ------------------------------------------------------------------ batches

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """The block's writes go to one backend batch, committed when the outermost block
        exits (:mod:`darwin_core.store_batch`); a nested block joins the open one."""
        if self._batch is not None:
            yield
            return
        batch = self._batch = StoreBatch(self)
        try:
            yield
        except BaseException:
            self._batch = None
            try:
                batch.commit()  # the writes so far, as write by write they would have landed
            except Exception:  # noqa: BLE001 - the block's own error is the one to report
                pass
            raise
        self._batch = None
        batch.commit()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the open batch is committed (at once outside a batch)."""
        if self._batch is None:
            callback()
        else:
            self._batch.after_commit(callback)

    # ----------------------------------------------------------------- plumbing

    def _retry(self, what: str, fn: Callable[[], T], on_retry: Callable[[], None] | None = None) -> T:
        """Call ``fn``; retry transient failures (``OSError``, ``ConnectionError``,
        ``TimeoutError`` and a backend's :class:`StorageUnavailableError`) with backoff until
        ``retry_for_s`` has passed, then raise :class:`StorageUnavailableError`."""
        deadline = time.monotonic() + self.retry_for_s
        delay = 0.2
        while True:
            try:
                return fn()
            except StorageUnavailableError as exc:
                failure: Exception = exc
            except (StorageError, KeyError):
                raise
            except (OSError, ConnectionError, TimeoutError) as exc:
                if (error := infra.as_error(exc)) is not None:  # a full/read-only disk is no outage
                    raise error from exc
                failure = exc
            if time.monotonic() + delay > deadline:
                raise StorageUnavailableError(
                    f"storage {self.storage.url} unreachable while {what}: {failure}; "
                    "everything recorded so far is intact; fix: bring the store back, "
                    "then `darwin resume`"
                ) from failure
            if on_retry is not None:
                on_retry()
            time.sleep(delay)
            delay = min(delay * 2, 5.0)

    def put(self, collection: str, key: str, value: dict[str, Any], *, create: bool,
            keep: Keep | None = None, remember: bool = True) -> str:
        """Write a record: ``create`` (fails if it exists; with ``keep``, the stored record is
        handed to it instead) or replace the version we last saw (``remember = False``: a record
        written once, whose version is not kept in memory; a later replace reads it first)."""
        started = time.time()
        if self.hook is not None:  # encoded once: the backend's text and the hook's size
            value = encoded(value)
        if_version = None if create else self._versions.get((collection, key))
        if not create and if_version is None:
            _, if_version = self.get(collection, key)
        if self._batch is not None:
            version = self._batch.put_record(collection, key, value, if_version, keep)
        else:
            try:
                version = self.put_now(collection, key, value, if_version)
            except ConflictError:
                if keep is None or not create:
                    raise
                stored, version = self.get(collection, key)
                keep(stored)
        if remember:
            self._versions[(collection, key)] = version
        else:
            self._versions.pop((collection, key), None)
        if self.hook is not None:
            nbytes = len(value.text)  # type: ignore[attr-defined]
            self.hook.darwin_record_written(
                run_id=self.run_id, collection=collection, key=key, nbytes=nbytes,
                started_at=started, duration_s=time.time() - started,
            )
        return version

    def put_now(self, collection: str, key: str, value: dict[str, Any], if_version: str | None) -> str:
        """One conditional write, outside any batch, retried across outages."""
        retried: list[bool] = []
        try:
            version = self._retry(
                f"writing {collection}/{key}",
                lambda: self.storage.put_record(collection, key, value, if_version=if_version),
                on_retry=lambda: retried.append(True),
            )
        except ConflictError:
            # a write whose reply was lost to an outage may have landed: if the stored record
            # is exactly ours, the retry succeeded (writes stay idempotent across outages)
            if not retried:
                raise
            stored, version = self._retry(
                f"reading {collection}/{key}", lambda: self.storage.get_record(collection, key)
            )
            if _canonical(stored) != _canonical(value):
                raise
        self._versions[(collection, key)] = version
        return version

    def get(self, collection: str, key: str, *, remember: bool = True) -> tuple[dict[str, Any], str]:
        value, version = self._retry(
            f"reading {collection}/{key}", lambda: self.storage.get_record(collection, key)
        )
        if remember:
            self._versions[(collection, key)] = version
        return value, version

    def scan(self, collection: str, *, remember: bool = True) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every record of ``collection`` (``remember = False``: their versions not kept)."""
        items = self._retry(f"reading {collection}", lambda: list(self.storage.scan(collection)))
        for key, value, version in items:
            if remember:
                self._versions[(collection, key)] = version
            yield key, value

    def put_blob(self, data: bytes, *, shared: bool = True) -> str:
        """Store ``data``; its key. ``shared = False``: a blob whose key no other is compared
        with (a diff, a log), compressed with a window fitted to its size (same ratio, a
        fraction of zlib's set-up for small data; a file's blob keeps ``zlib.compress``'s bytes,
        hence its key, as manifests compare keys)."""
        payload = blob_payload(data, shared=shared)
        key = self._batch.put_blob(payload) if self._batch is not None else self.put_blob_payload(payload)
        if shared:  # a file: read back soon (duplicate digests, the next checkout), not from the store
            self._cache(key, data)
        return key

    def put_blob_payload(self, payload: bytes) -> str:
        """Store an already encoded blob at once."""
        return self._retry("writing a blob", lambda: self.storage.put_blob(payload))

    def copy_blob(self, source: Storage, key: str) -> None:
        """Copy a blob byte for byte from another run's storage (compressed payloads keep
        their keys), unless it is here already."""
        if not self._retry(f"checking blob {key}", lambda: self.storage.has_blob(key)):
            self._retry("copying a blob", lambda: self.storage.put_blob(source.get_blob(key)))

    def get_blob(self, key: str) -> bytes:
        cached = self._blob_cache.get(key)
        if cached is not None:
            return cached
        data = self._read_blob(key)
        self._cache(key, data)
        return data

    def _cache(self, key: str, data: bytes) -> None:
        if len(data) <= _CACHE_ITEM_MAX:
            with self._cache_lock:
                if key in self._blob_cache:
                    return
                self._blob_cache[key] = data
                self._cache_bytes += len(data)
                while self._cache_bytes > _CACHE_BYTES and self._blob_cache:
                    _, dropped = self._blob_cache.popitem(last=False)
                    self._cache_bytes -= len(dropped)

    def _read_blob(self, key: str) -> bytes:
        batch = self._batch
        payload = batch.blob(key) if batch is not None else None  # written, not yet committed
        if payload is None:
            payload = self._retry(f"reading blob {key}", lambda: self.storage.get_blob(key))
        if payload.startswith(_ZLIB_MAGIC):
            try:
                return zlib.decompress(payload[len(_ZLIB_MAGIC):])
            except zlib.error as exc:
                raise CorruptRecordError(
                    f"blob {key} in {self.storage.url} is corrupt ({exc}); fix: restore it from "
                    "a backup or an export of the run"
                ) from None
        return payload

    # ------------------------------------------------------------------- typed

    def load_run(self) -> RunInfo | None:
        try:
            value, _ = self.get("run", "run")
        except NotFoundError:
            return None
        return RunInfo.from_dict(value)

    def save_run(self, run: RunInfo, *, create: bool = False) -> None:
        self.put("run", "run", to_dict(run), create=create)

    def save_variant(self, variant: Variant, keep: Keep | None = None) -> None:
        """Variants are immutable once written (``keep``: see :meth:`put`); the record carries
        the counts of :func:`~darwin_core.summary.tally` beside the variant's fields."""
        self.put("variants", variant.id, {**to_dict(variant), "summary": tally(variant)}, create=True, keep=keep,
                 remember=False)  # never replaced: no version to keep per variant

    def load_variants(self) -> list[Variant]:
        with paused_gc():
            variants = [self._decode("variants", k, v, Variant.from_dict)
                        for k, v in self.scan("variants", remember=False)]
        return sorted(variants, key=lambda v: v.id)

    def load_variant_summaries(self) -> list[VariantSummary]:
        """Every variant's :class:`~darwin_core.summary.VariantSummary`, in id order, from a
        projected scan (the records are not decoded whole)."""
        rows = self._retry("reading variants", lambda: list(project(self.storage, "variants", PATHS)))
        counts: dict[str, dict[str, Any]] = {}
        if any(values[-1] is None for _, values, _ in rows):  # records written before the counts
            counts = {key: tally_of(values) for key, values, _ in self._retry(
                "reading variants", lambda: list(project(self.storage, "variants", TALLY_PATHS)))}
        summaries, build = [], VariantSummary.from_values  # never replaced: no versions kept
        for key, values, _ in rows:
            try:
                summaries.append(build(key, values, counts.get(key)))
            except _SHAPE_ERRORS as exc:
                raise self._corrupt("variants", key, exc) from None
        return sorted(summaries, key=_ID)

    def prepare_indexes(self) -> None:
        """Ask the backend to keep what opening the run reads (``file://``: an index SQLite
        maintains, so loading summaries parses no record); a writer calls it once."""
        prepare = getattr(self.storage, "prepare_projection", None)
        if prepare is not None:
            self._retry("preparing the store", lambda: prepare("variants", PATHS))
            self._retry("preparing the store", lambda: prepare("attempts", ATTEMPT_PATHS))

    def load_attempt_summaries(self, planned: dict[str, Attempt] | None = None) -> list[AttemptSummary]:
        """Every attempt's :class:`~darwin_core.summary.AttemptSummary`, by generation and index,
        those only planned (held by their generation's record, :mod:`~darwin_core.plan_records`)
        included; ``planned`` receives those whole."""
        rows = self._retry("reading attempts", lambda: list(project(self.storage, "attempts", ATTEMPT_PATHS)))
        attempts, versions, build = [], self._versions, AttemptSummary.from_values
        for key, values, version in rows:
            try:
                attempts.append(summary := build(key, values))
            except _SHAPE_ERRORS as exc:
                raise self._corrupt("attempts", key, exc) from None
            if summary.status not in ENDED:  # an ended attempt is not written again
                versions[("attempts", key)] = version
        for attempt in planned_attempts(self, {a.id for a in attempts}):
            attempts.append(AttemptSummary.of(attempt))
            self.unstored.add(attempt.id)
            if planned is not None:
                planned[attempt.id] = attempt
        return sorted(attempts, key=_PLACE)

    def load_variants_by_id(self, ids: list[str]) -> list[Variant]:
        """The variants of ``ids`` decoded whole (one read each, or one scan for many)."""
        if len(ids) > _BULK:
            wanted = set(ids)
            return [v for v in self.load_variants() if v.id in wanted]
        return [self._decode("variants", i, self.get("variants", i, remember=False)[0], Variant.from_dict)
                for i in ids]

    def save_attempt(self, attempt: Attempt, *, create: bool = False) -> None:
        """Write an attempt's record: created at its first write (a planned attempt is held by
        its generation's record until it starts), then replaced."""
        create = create or attempt.id in self.unstored
        self.put("attempts", attempt.id, to_dict(attempt), create=create, remember=attempt.status not in ENDED)
        self.unstored.discard(attempt.id)

    def load_attempt(self, key: str) -> Attempt:
        """One attempt decoded whole (``NotFoundError`` if it is not stored)."""
        return self._decode("attempts", key, self.get("attempts", key)[0], Attempt.from_dict)

    def load_attempts(self) -> list[Attempt]:
        with paused_gc():
            attempts = [self._decode("attempts", k, v, Attempt.from_dict) for k, v in self.scan("attempts")]
        return sorted(attempts, key=lambda a: (a.generation, a.index, a.id))

    def load_generations(self) -> dict[int, dict[str, Any]]:
        return {int(v["generation"]): v for _, v in self.scan("generations")}

    def save_generation(self, record: dict[str, Any], *, create: bool) -> None:
        self.put("generations", f"{int(record['generation']):06d}", record, create=create)

    def create_or_load(self, collection: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
        """Create a record, or return the stored one if an earlier (crashed) pass made it."""
        kept: list[dict[str, Any]] = []
        self.put(collection, key, value, create=True, keep=kept.append)
        return kept[0] if kept else value

    def _decode(self, collection: str, key: str, value: Any, parse: Callable[[Any], T]) -> T:
        try:
            return parse(value)
        except _SHAPE_ERRORS as exc:
            raise self._corrupt(collection, key, exc) from None

    def _corrupt(self, collection: str, key: str, exc: Exception) -> CorruptRecordError:
        return CorruptRecordError(
            f"record {collection}/{key} in {self.storage.url} does not have the expected "
            f"shape ({type(exc).__name__}: {exc}); fix: restore it from a backup or an export "
            "of the run; nothing was changed"
        )


_SHAPE_ERRORS = (TypeError, KeyError, ValueError, AttributeError)
_ID = attrgetter("id")
_PLACE = attrgetter("generation", "index", "id")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
