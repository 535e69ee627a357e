"""``FileStorage``: a run in one SQLite file (WAL) in a local directory.

Files: ``DIR/darwin.sqlite3`` (+ ``-wal``, ``-shm``), ``DIR/lock`` and ``DIR/lease.json``: five
files per run whatever its size. A record is a row ``(collection, key, JSON text, version)``
with version = sha256 prefix of the JSON; a blob a row ``(sha256, bytes)``, its hash checked on
every read. Every write is committed (durably, ``synchronous=FULL``) before it returns; writes
of concurrent threads share commits (:mod:`.committer`), and ``batch()`` commits one unit of
work's writes in one transaction. SQLite's own locking makes this safe across processes.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from darwin_hookspecs import (
    ConflictError,
    Lease,
    NotFoundError,
    StorageDefaults,
    StorageError,
)
from darwin_hookspecs.projection import scan_projected
from darwin_hookspecs.storage_api import release_all
from darwin_hookspecs.storage_codec import blob_key, checked_blob, decode_record, encode_record

from . import projection
from .committer import GroupCommitter
from .database import DB_NAME, Readers, create_schema, storage_error
from .lease import FileLease
from .migrate import has_legacy, migrate
from .paths import check_key

Apply = Callable[[sqlite3.Connection], Any]


def _version(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _encode(value: dict[str, Any]) -> tuple[str, str]:
    text = encode_record(value)
    return text, _version(text.encode())


def exists(root: Path) -> bool:
    """Whether ``root`` holds a store (either format)."""
    return (root / DB_NAME).is_file() or has_legacy(root)


class FileStorage(StorageDefaults):
    """A run stored in a local directory (see the module docstring).

    :param must_exist: refuse to create a store where there is none (``StorageError``, exit 4),
        for opening an existing run: a missing store must never become an empty one.
    :param window_s: how long a commit leader waits for more writes (0: group only the writes
        that arrived during the previous commit).
    """

    def __init__(self, root: Path, *, fsync: bool = True, must_exist: bool = False,
                 window_s: float = 0.0) -> None:
        self.root = root
        self.url = root.as_uri()
        self.path = root / DB_NAME
        if must_exist and not exists(root):
            raise StorageError(
                f"no Darwin store at {root} (expected {DB_NAME} or records/ and blobs/); fix: "
                "restore the store there or point the run at where it is; an empty store is "
                "never created in place of a missing one"
            )
        try:
            root.mkdir(parents=True, exist_ok=True)
            create_schema(self.path, fsync=fsync)
        except (sqlite3.Error, OSError) as exc:
            raise storage_error(exc, self.path, "opening the store") from None
        if has_legacy(root):
            migrate(root, self.path, fsync=fsync)
        self._committer = GroupCommitter(self.path, fsync=fsync, window_s=window_s)
        self._readers = Readers(self.path, fsync)
        self._leases: list[Lease] = []

    # ------------------------------------------------------------------ helpers

    def _query(self, what: str, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._readers.get().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise storage_error(exc, self.path, what) from None

    def _decode(self, collection: str, key: str, text: str) -> dict[str, Any]:
        return decode_record(text, f"{collection}/{key}", str(self.path))

    @property
    def commits(self) -> int:
        """Transactions this handle committed (several writes may share one)."""
        return self._committer.commits

    # -------------------------------------------------------------------- blobs

    def put_blob(self, data: bytes) -> str:
        key = blob_key(data)
        if not self.has_blob(key):
            self._committer.run(_insert_blob(key, data))
        return key

    def get_blob(self, key: str) -> bytes:
        check_key(key)
        rows = self._query(f"reading blob {key}", "SELECT data FROM blobs WHERE key = ?", (key,))
        if not rows:
            raise NotFoundError(f"blob {key} not found in {self.url}")
        return checked_blob(key, bytes(rows[0][0]), str(self.path))

    def has_blob(self, key: str) -> bool:
        return bool(self._query(f"checking blob {key}", "SELECT 1 FROM blobs WHERE key = ?", (key,)))

    def iter_blob_keys(self) -> Iterator[str]:
        for (key,) in self._query("listing blobs", "SELECT key FROM blobs ORDER BY key"):
            yield key

    # ------------------------------------------------------------------ records

    def put_record(
        self, collection: str, key: str, value: dict[str, Any], *, if_version: str | None = None
    ) -> str:
        apply, version = _put(collection, key, value, if_version, self.url)
        self._committer.run(apply)
        return version

    def get_record(self, collection: str, key: str) -> tuple[dict[str, Any], str]:
        check_key(collection)
        check_key(key)
        rows = self._query(f"reading {collection}/{key}", "SELECT value, version FROM records "
                           "WHERE collection = ? AND key = ?", (collection, key))
        if not rows:
            raise NotFoundError(f"record {collection}/{key} not found in {self.url}")
        return self._decode(collection, key, rows[0][0]), rows[0][1]

    def scan(self, collection: str) -> Iterator[tuple[str, dict[str, Any], str]]:
        check_key(collection)
        rows = self._query(f"reading {collection}", "SELECT key, value, version FROM records "
                           "WHERE collection = ? ORDER BY key", (collection,))
        for key, text, version in rows:
            yield key, self._decode(collection, key, text), version

    def project(self, collection: str, paths: Sequence[str]) -> Iterator[tuple[str, list[Any], str]]:
        """A few fields of every record, picked out in SQL (:mod:`.projection`)."""
        check_key(collection)
        sql, assemble = projection.select(paths, collection)
        try:
            rows = self._readers.get().execute(sql).fetchall()
        except sqlite3.Error as exc:
            if "malformed json" not in str(exc).lower():
                raise storage_error(exc, self.path, f"reading {collection}") from None
            yield from scan_projected(self, collection, paths)  # names the corrupt record
            return
        if any(text is None for _, text, _ in rows):  # a record that is not JSON
            yield from scan_projected(self, collection, paths)  # names it
            return
        decoded = projection.decode_all([text for _, text, _ in rows], assemble)
        for (key, _, version), values in zip(rows, decoded):
            yield key, values, version

    def prepare_projection(self, collection: str, paths: Sequence[str]) -> None:
        """Keep the values of ``paths`` (no ``*``) in an index SQLite maintains on every write, so
        that :meth:`project` reads them without parsing a record (built once, here)."""
        check_key(collection)
        sql = projection.index_sql(collection, paths)
        if sql is not None:
            self._committer.run(lambda conn: conn.execute(sql))

    def keys(self, collection: str) -> list[str]:
        check_key(collection)
        return [k for (k,) in self._query(f"listing {collection}", "SELECT key FROM records WHERE "
                                          "collection = ? ORDER BY key", (collection,))]

    def collections(self) -> list[str]:
        return [c for (c,) in self._query("listing collections",
                                          "SELECT DISTINCT collection FROM records ORDER BY collection")]

    # --------------------------------------------------------- batch and lease

    @contextlib.contextmanager
    def batch(self) -> Iterator["FileBatch"]:
        """Writes of the block are committed together when it exits (all or nothing)."""
        batch = FileBatch(self.url)
        yield batch
        if batch.units:
            self._committer.run(batch.apply)

    def acquire_lease(self, owner: str = "", ttl_s: float = 60.0) -> FileLease:
        """Released by :meth:`close` at the latest."""
        lease = FileLease.acquire(self.root, self.url, owner, ttl_s)
        self._leases.append(lease)
        return lease

    def close(self) -> None:
        release_all(self._leases)
        self._committer.close()
        self._readers.close()


class FileBatch:
    """Deferred writes of :meth:`FileStorage.batch` (reads in the block do not see them)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.units: list[Apply] = []

    def put_blob(self, data: bytes) -> str:
        key = blob_key(data)
        self.units.append(_insert_blob(key, data))
        return key

    def put_record(self, collection: str, key: str, value: dict[str, Any], *,
                   if_version: str | None = None) -> str:
        apply, version = _put(collection, key, value, if_version, self.url)
        self.units.append(apply)
        return version

    def apply(self, conn: sqlite3.Connection) -> None:
        for unit in self.units:
            unit(conn)


def _insert_blob(key: str, data: bytes) -> Apply:
    def apply(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT OR IGNORE INTO blobs (key, data) VALUES (?, ?)", (key, data))

    return apply


def _put(collection: str, key: str, value: dict[str, Any], if_version: str | None,
         url: str) -> tuple[Apply, str]:
    """The unit writing one record conditionally, and the version it will have."""
    check_key(collection)
    check_key(key)
    text, version = _encode(value)

    def apply(conn: sqlite3.Connection) -> str:
        if if_version is None:
            try:
                conn.execute("INSERT INTO records (collection, key, value, version) VALUES (?, ?, ?, ?)",
                             (collection, key, text, version))
            except sqlite3.IntegrityError:
                raise ConflictError(f"record {collection}/{key} already exists in {url}") from None
            return version
        done = conn.execute("UPDATE records SET value = ?, version = ? WHERE collection = ? AND "
                            "key = ? AND version = ?", (text, version, collection, key, if_version))
        if done.rowcount != 1:
            row = conn.execute("SELECT version FROM records WHERE collection = ? AND key = ?",
                               (collection, key)).fetchone()
            if row is None:
                raise NotFoundError(f"record {collection}/{key} not found in {url}")
            raise ConflictError(f"record {collection}/{key} changed since it was read "
                                f"(version {row[0]}, expected {if_version})")
        return version

    return apply, version
