"""The optional parts of the Storage contract, with default implementations.

Call them through :func:`open_batch`, :func:`acquire_lease` and :func:`list_keys`: they use the
backend's own ``batch()``, ``acquire_lease()`` and ``keys()`` when it has them (the built-in
backends do), the defaults below otherwise, so a backend written against the five-method
protocol keeps working. :class:`StorageDefaults` is a mixin with the same defaults.

* **Batches**: ``with storage.batch() as b: b.put_blob(...); b.put_record(...)`` groups the
  writes of one unit of work (an attempt). A backend that can commits them together (``file://``:
  one SQLite transaction, all or nothing, one fsync); the default writes each one at once.
* **The writer lease**: one writer per run. ``storage.acquire_lease(owner=..., ttl_s=...)``
  returns a :class:`Lease` or raises :class:`~darwin_hookspecs.errors.LeaseHeldError` naming the
  holder (host, pid, since). A lease whose holder stopped renewing it is taken over once
  ``expires_at`` has passed. The default keeps the lease in a :class:`LeaseCell`, one small
  document updated by conditional writes only, so two acquirers can never both win.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, ContextManager, Iterator, Protocol, Sequence

from .errors import ConflictError, LeaseHeldError, LeaseLostError, NotFoundError, StorageError


class Batch:
    """Writes of one unit of work. The default (this class) writes through at once; a backend's
    batch may defer them to the end of the ``with`` block, where a conflict then raises."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage

    def put_blob(self, data: bytes) -> str:
        return self.storage.put_blob(data)

    def put_record(self, collection: str, key: str, value: dict[str, Any], *,
                   if_version: str | None = None) -> str:
        return self.storage.put_record(collection, key, value, if_version=if_version)


@contextlib.contextmanager
def write_through_batch(storage: Any) -> Iterator[Batch]:
    yield Batch(storage)


# ------------------------------------------------------------------------- lease


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a run's writer lease."""

    owner: str
    host: str
    pid: int
    since: float
    expires_at: float
    token: str

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.since))
        what = f" ({self.owner})" if self.owner else ""
        return f"pid {self.pid} on host {self.host}{what} since {when}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LeaseHolder":
        return cls(owner=str(data.get("owner", "")), host=str(data["host"]), pid=int(data["pid"]),
                   since=float(data["since"]), expires_at=float(data["expires_at"]),
                   token=str(data["token"]))

    @classmethod
    def here(cls, owner: str, ttl_s: float) -> "LeaseHolder":
        now = time.time()
        return cls(owner=owner, host=socket.gethostname(), pid=os.getpid(), since=now,
                   expires_at=now + ttl_s, token=secrets.token_hex(8))


def held_error(url: str, holder: LeaseHolder | None, crash_note: str | None = None) -> LeaseHeldError:
    """The error for a second writer: who holds the lease, and when it frees up."""
    who = holder.describe() if holder else "another process"
    if crash_note is None:
        crash_note = "if it crashed, its lease expires" + (
            time.strftime(" at %H:%M:%S UTC", time.gmtime(holder.expires_at)) if holder else "")
    return LeaseHeldError(f"the run in {url} is being written by {who}; only one writer per run; "
                          f"fix: wait for it to finish or stop it ({crash_note}), then retry", holder)


class LeaseCell(Protocol):
    """One small document holding the lease, updated by conditional writes only."""

    def read(self) -> tuple[dict[str, Any], str] | None: ...

    def create(self, value: dict[str, Any]) -> str:
        """Create-only; ``ConflictError`` if it exists."""
        ...

    def replace(self, value: dict[str, Any], version: str) -> str:
        """Replace if still at ``version``; ``ConflictError``/``NotFoundError`` otherwise."""
        ...


class RecordCell:
    """A lease cell in the run's records (collection ``lease``, key ``writer``): the default for
    any backend with conditional record writes."""

    def __init__(self, storage: Any, collection: str = "lease", key: str = "writer") -> None:
        self.storage, self.collection, self.key = storage, collection, key

    def read(self) -> tuple[dict[str, Any], str] | None:
        try:
            return self.storage.get_record(self.collection, self.key)
        except NotFoundError:
            return None

    def create(self, value: dict[str, Any]) -> str:
        return self.storage.put_record(self.collection, self.key, value)

    def replace(self, value: dict[str, Any], version: str) -> str:
        return self.storage.put_record(self.collection, self.key, value, if_version=version)


class Lease:
    """A held writer lease. ``renew()`` extends it (``LeaseLostError`` if it was taken over),
    ``keep_alive()`` renews it from a daemon thread, ``check()`` raises if that thread lost it,
    ``release()`` gives it up. A context manager (releases on exit)."""

    expires = True
    """False for a lease the OS holds until its holder exits (``file://``): it never expires
    under a live holder, and frees at once when the holder dies."""

    def __init__(self, url: str, holder: LeaseHolder, ttl_s: float) -> None:
        self.url, self.holder, self.ttl_s = url, holder, ttl_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: StorageError | None = None
        self.released = False

    # backends override these two
    def _renew(self) -> LeaseHolder:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError

    def renew(self) -> None:
        if self.released:
            raise LeaseLostError(f"the writer lease on {self.url} was released")
        self.holder = self._renew()

    def keep_alive(self, interval_s: float | None = None) -> "Lease":
        """Renew every ``interval_s`` (default a third of the ttl) until released."""
        every = interval_s or max(self.ttl_s / 3, 0.05)

        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    self.renew()
                except LeaseLostError as exc:
                    self._failure = exc
                    return
                except (StorageError, OSError):
                    continue  # transient: try again; the ttl leaves room for two misses

        self._thread = threading.Thread(target=loop, name="darwin-lease", daemon=True)
        self._thread.start()
        return self

    def check(self) -> None:
        """Raise ``LeaseLostError`` if the keep-alive thread found the lease taken over."""
        if self._failure is not None:
            raise self._failure

    def release(self) -> None:
        if self.released:
            return
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self.released = True
        self._release()

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class CellLease(Lease):
    """A lease kept in a :class:`LeaseCell` (MongoDB document, S3 object, a record)."""

    def __init__(self, url: str, cell: LeaseCell, holder: LeaseHolder, version: str, ttl_s: float) -> None:
        super().__init__(url, holder, ttl_s)
        self.cell, self.version = cell, version
        self._lock = threading.Lock()

    @classmethod
    def acquire(cls, url: str, cell: LeaseCell, owner: str, ttl_s: float) -> "CellLease":
        mine = LeaseHolder.here(owner, ttl_s)
        for _ in range(20):
            try:
                return cls(url, cell, mine, cell.create(mine.to_dict()), ttl_s)
            except ConflictError:
                pass
            found = cell.read()
            if found is None:
                continue  # released between our create and read: try again
            value, version = found
            current = _holder_or_none(value)
            if current is not None and current.expires_at > time.time():
                raise held_error(url, current)
            try:  # expired or released: take it over, unless someone else just did
                return cls(url, cell, mine, cell.replace(mine.to_dict(), version), ttl_s)
            except (ConflictError, NotFoundError):
                continue
        raise held_error(url, None)

    def _renew(self) -> LeaseHolder:
        with self._lock:
            renewed = LeaseHolder(**{**self.holder.to_dict(), "expires_at": time.time() + self.ttl_s})
            try:
                self.version = self.cell.replace(renewed.to_dict(), self.version)
            except (ConflictError, NotFoundError):
                found = self.cell.read()
                other = _holder_or_none(found[0]) if found else None
                raise LeaseLostError(
                    f"the writer lease on {self.url} was taken over by "
                    f"{other.describe() if other else 'another process'} after it expired; "
                    "fix: stop this process (its work since the last renewal may be redone)"
                ) from None
            return renewed

    def _release(self) -> None:
        with self._lock, contextlib.suppress(ConflictError, NotFoundError):
            self.cell.replace({"released": True, "token": self.holder.token}, self.version)


def _holder_or_none(value: dict[str, Any]) -> LeaseHolder | None:
    if value.get("released"):
        return None
    try:
        return LeaseHolder.from_dict(value)
    except (KeyError, TypeError, ValueError):
        return None  # unreadable: treat as free (a conditional replace still decides)


def release_all(leases: list[Lease]) -> None:
    """Release every lease a store handle gave out (its ``close``); errors are not raised (the
    lease then expires by itself)."""
    for lease in leases:
        with contextlib.suppress(Exception):
            lease.release()
    leases.clear()


# --------------------------------------------------------------- entry points


def open_batch(storage: Any) -> ContextManager[Batch]:
    """``with open_batch(storage) as b:`` the writes of one unit of work (see the module doc)."""
    method = getattr(storage, "batch", None)
    return method() if callable(method) else write_through_batch(storage)


def acquire_lease(storage: Any, owner: str = "", ttl_s: float = 60.0) -> Lease:
    """Take the run's writer lease or raise ``LeaseHeldError`` naming the holder."""
    method = getattr(storage, "acquire_lease", None)
    if callable(method):
        return method(owner=owner, ttl_s=ttl_s)
    return CellLease.acquire(storage.url, RecordCell(storage), owner, ttl_s)


def list_keys(storage: Any, collection: str) -> list[str]:
    """A collection's keys, sorted, without decoding its records where the backend can."""
    method = getattr(storage, "keys", None)
    if callable(method):
        return list(method(collection))
    return sorted(key for key, _, _ in storage.scan(collection))


class StorageDefaults:
    """Mixin for backends: the defaults of the optional methods, to override where better."""

    url: str

    def batch(self) -> ContextManager[Batch]:
        return write_through_batch(self)

    def acquire_lease(self, owner: str = "", ttl_s: float = 60.0) -> Lease:
        return CellLease.acquire(self.url, RecordCell(self), owner, ttl_s)

    def keys(self, collection: str) -> list[str]:
        return sorted(key for key, _, _ in self.scan(collection))  # type: ignore[attr-defined]

    def project(self, collection: str, paths: Sequence[str]) -> Iterator[tuple[str, list[Any], str]]:
        """A few fields of every record (:mod:`darwin_hookspecs.projection`)."""
        from .projection import scan_projected

        return scan_projected(self, collection, paths)
