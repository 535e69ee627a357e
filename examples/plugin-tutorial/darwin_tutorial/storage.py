"""A storage backend: one SQLite file per store, ``tutorial:///path/to/run.db``."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterator

from pydantic import BaseModel, ConfigDict

from darwin_hookspecs import (ConflictError, CorruptBlobError, CorruptRecordError, NotFoundError,
                              StorageDefaults, StorageError, hookimpl)
from darwin_hookspecs.storage_api import release_all

KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
SCHEMA = """CREATE TABLE IF NOT EXISTS records (collection TEXT, key TEXT, value TEXT,
            version INTEGER, PRIMARY KEY (collection, key));
            CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, data BLOB);"""


class SqliteOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    """``tutorial:///absolute/path.db`` (the file is created on first use)."""
    timeout_s: float = 30.0
    """How long a writer waits for another one's lock."""


class SqliteStorage(StorageDefaults):  # inherits batch() and the writer lease (acquire_lease)
    def __init__(self, options: SqliteOptions) -> None:
        self.url = options.url
        path = Path(options.url.split("://", 1)[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=options.timeout_s, check_same_thread=False,
                                   isolation_level=None)  # explicit transactions below
        self._lock = threading.Lock()
        self._leases: list = []  # released by close()
        self._db.executescript(SCHEMA)

    @staticmethod
    def _check(*names: str) -> None:
        for name in names:
            if not KEY.match(name):
                raise StorageError(f"invalid collection or key {name!r}; fix: use letters, digits, _ - .")

    def put_record(self, collection: str, key: str, value: dict[str, Any], *,
                   if_version: str | None = None) -> str:
        self._check(collection, key)
        text = json.dumps(value, allow_nan=False)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # one writer at a time, across processes too
            try:
                row = self._db.execute("SELECT version FROM records WHERE collection=? AND key=?",
                                       (collection, key)).fetchone()
                if if_version is None and row is not None:
                    raise ConflictError(f"{collection}/{key} exists")
                if if_version is not None and row is None:
                    raise NotFoundError(f"{collection}/{key} not found")
                if if_version is not None and str(row[0]) != if_version:
                    raise ConflictError(f"{collection}/{key} changed since version {if_version}")
                version = (row[0] if row else 0) + 1
                self._db.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
                                 (collection, key, text, version))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return str(version)

    def _decode(self, collection: str, key: str, text: str) -> dict[str, Any]:
        try:
            return json.loads(text)
        except ValueError:
            raise CorruptRecordError(f"record {collection}/{key} in {self.url} is not JSON; "
                                     "fix: restore it from a backup") from None

    def get_record(self, collection: str, key: str) -> tuple[dict[str, Any], str]:
        with self._lock:
            row = self._db.execute("SELECT value, version FROM records WHERE collection=? AND key=?",
                                   (collection, key)).fetchone()
        if row is None:
            raise NotFoundError(f"{collection}/{key} not found in {self.url}")
        return self._decode(collection, key, row[0]), str(row[1])

    def scan(self, collection: str) -> Iterator[tuple[str, dict[str, Any], str]]:
        with self._lock:
            rows = self._db.execute("SELECT key, value, version FROM records WHERE collection=? "
                                    "ORDER BY key", (collection,)).fetchall()
        for key, text, version in rows:
            yield key, self._decode(collection, key, text), str(version)

    def keys(self, collection: str) -> list[str]:  # without decoding: a corrupt record is named
        with self._lock:
            return [r[0] for r in self._db.execute(
                "SELECT key FROM records WHERE collection=? ORDER BY key", (collection,))]

    def collections(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT DISTINCT collection FROM records")]

    def put_blob(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO blobs VALUES (?, ?)", (key, data))
        return key

    def get_blob(self, key: str) -> bytes:
        with self._lock:
            row = self._db.execute("SELECT data FROM blobs WHERE key=?", (key,)).fetchone()
        if row is None:
            raise NotFoundError(f"blob {key} not found in {self.url}")
        data = bytes(row[0])
        if hashlib.sha256(data).hexdigest() != key:  # never hand out the wrong code
            raise CorruptBlobError(f"blob {key} in {self.url} does not match its hash; "
                                   "fix: restore it from a backup")
        return data

    def has_blob(self, key: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM blobs WHERE key=?", (key,)).fetchone() is not None

    def iter_blob_keys(self) -> Iterator[str]:
        with self._lock:
            keys = [r[0] for r in self._db.execute("SELECT key FROM blobs")]
        yield from keys

    def acquire_lease(self, owner: str = "", ttl_s: float = 60.0):
        lease = super().acquire_lease(owner, ttl_s)
        self._leases.append(lease)
        return lease

    def close(self) -> None:
        release_all(self._leases)  # a finished run's writer lease is free at once
        with self._lock:
            self._db.close()


@hookimpl
def darwin_register_storage(registry) -> None:
    registry.add("tutorial", lambda options, context: SqliteStorage(options), options=SqliteOptions,
                 description="One SQLite file per store (the tutorial's storage backend).")
