"""``RunStore.batch()``: the writes of one unit of work in one backend batch.

On ``file://`` the batch is one SQLite transaction: one durable commit, all or nothing. The
writes are routed to the backend's batch as they are made (so blob keys and versions are known
at once) and committed when the outermost block exits, also when the block raised (the record
step writes in an order where any prefix is recoverable, as it did write by write). If the
commit fails with a conflict or a transient error, the writes are replayed one by one: a
create marked ``keep`` that finds a record (written by a crashed pass) keeps the stored one,
and a write that already landed (a batch that is not atomic: MongoDB, S3) is recognised by its
content. Callbacks registered with :meth:`StoreBatch.after_commit` run once it is durable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, ContextManager

from darwin_hookspecs import ConflictError, StorageUnavailableError, open_batch

Keep = Callable[[dict[str, Any]], None]
"""Called with the stored record when a create finds one already there."""

TRANSIENT = (StorageUnavailableError, OSError, ConnectionError, TimeoutError)
RETRYABLE = (ConflictError, *TRANSIENT)


@dataclass
class _Write:
    collection: str | None  # None: a blob
    key: str
    value: Any
    if_version: str | None
    version: str
    keep: Keep | None


class StoreBatch:
    """The open batch of a :class:`~darwin_core.store.RunStore` (one at a time)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._cm: ContextManager[Any] | None = None
        self._backend: Any = None
        self._writes: list[_Write] = []
        self._blobs: dict[str, bytes] = {}
        self._after: list[Callable[[], None]] = []
        self._direct = False  # after a transient failure mid-block: write by write, with retries
        self._broken = False

    def _call(self, direct: Callable[[], str], batched: Callable[[], str]) -> str:
        if self._direct:
            return direct()
        try:
            return batched()
        except TRANSIENT:  # a backend batch writing at once (S3 records) met an outage
            self._degrade()
            return direct()

    def _degrade(self) -> None:
        """Drop the backend batch and replay its writes one by one (each retried)."""
        cm, self._cm, self._backend, self._direct = self._cm, None, None, True
        if cm is not None:
            try:
                cm.__exit__(StorageUnavailableError, StorageUnavailableError("outage"), None)
            except Exception:  # noqa: BLE001 - the writes are replayed below
                pass
        self._broken = True
        self._replay()
        self._broken = False

    def _open(self) -> Any:
        if self._backend is None:
            self._cm = open_batch(self.store.storage)
            self._backend = self._cm.__enter__()
        return self._backend

    def put_blob(self, payload: bytes) -> str:
        key = self._call(lambda: self.store.put_blob_payload(payload), lambda: self._open().put_blob(payload))
        self._writes.append(_Write(None, key, payload, None, key, None))
        self._blobs[key] = payload
        return key

    def blob(self, key: str) -> bytes | None:
        """The payload of a blob written in this batch (not readable from the store before the
        commit), else ``None``."""
        return self._blobs.get(key)

    def put_record(self, collection: str, key: str, value: dict[str, Any], if_version: str | None,
                   keep: Keep | None) -> str:
        try:
            version = self._call(
                lambda: self.store.put_now(collection, key, value, if_version),
                lambda: self._open().put_record(collection, key, value, if_version=if_version))
        except ConflictError:  # a batch writing at once (no batch() of its own, S3) fails at once
            if keep is None or if_version is not None:
                raise
            stored, version = self.store.get(collection, key)
            keep(stored)
            return version
        self._writes.append(_Write(collection, key, value, if_version, version, keep))
        return version

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after.append(callback)

    def commit(self) -> None:
        """Commit (one durable commit on ``file://``), or replay write by write; then run the
        callbacks."""
        if self._cm is not None:
            cm, self._cm = self._cm, None
            try:
                cm.__exit__(None, None, None)
            except RETRYABLE:
                self._broken = True
                self._replay()
                self._broken = False
        if self._broken:
            return  # a replay failed: the block's error is reported, observers hear nothing
        for callback in self._after:
            callback()

    def _replay(self) -> None:
        replayed: dict[tuple[str, str], tuple[str, str]] = {}  # batch version -> stored version
        for write in self._writes:
            if write.collection is None:
                self.store.put_blob_payload(write.value)
                continue
            where = (write.collection, write.key)
            if_version = write.if_version
            if where in replayed and replayed[where][0] == if_version:
                if_version = replayed[where][1]
            try:
                version = self.store.put_now(write.collection, write.key, write.value, if_version)
            except ConflictError:
                stored, version = self.store.get(write.collection, write.key)
                if _canonical(stored) != _canonical(write.value):
                    if write.keep is None or write.if_version is not None:
                        raise
                    write.keep(stored)
            replayed[where] = (write.version, version)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
