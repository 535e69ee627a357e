"""The SQLite file of a ``file://`` store: connections, schema, and errors named for users.

WAL journal; ``synchronous=FULL`` makes every commit durable (one fsync of the WAL) before it
returns. Writes go through :class:`~.committer.GroupCommitter` (one writer connection per
store handle); each reading thread has its own connection (WAL readers never block the writer).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from darwin_hookspecs import CorruptRecordError, StorageError, StorageUnavailableError

DB_NAME = "darwin.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    collection TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, version TEXT NOT NULL,
    PRIMARY KEY (collection, key));
CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
BUSY_TIMEOUT_S = 60.0


def connect(path: Path, *, fsync: bool) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, durable commits."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA synchronous={'FULL' if fsync else 'OFF'}")
    return conn


def create_schema(path: Path, *, fsync: bool) -> None:
    conn = connect(path, fsync=fsync)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StorageError(f"{path}: SQLite refused WAL mode ({mode}); fix: put the store on a "
                               "local file system (not a network share)")
        conn.executescript(SCHEMA)
    finally:
        conn.close()


def storage_error(exc: BaseException, path: Path, what: str) -> Exception:
    """The user-facing error for a SQLite failure while ``what``."""
    text = str(exc)
    lower = text.lower()
    if isinstance(exc, StorageError):
        return exc
    if "locked" in lower or "busy" in lower:
        return StorageUnavailableError(f"{path} stayed locked by another process for "
                                       f"{BUSY_TIMEOUT_S:g}s while {what} ({text})")
    if "full" in lower:
        return StorageError(f"no space left on the disk holding {path} while {what}; fix: free "
                            "space, then `darwin resume` (everything committed is intact)")
    if "readonly" in lower or "read-only" in lower or "unable to open" in lower:
        return StorageError(f"{path} cannot be written while {what} ({text}); fix: make the store "
                            "directory writable (or point [storage] url elsewhere)")
    if "malformed" in lower or "not a database" in lower:
        return CorruptRecordError(f"{path} is damaged ({text}) while {what}; fix: restore the "
                                  "store directory from a backup or an export of the run")
    return StorageError(f"{path}: SQLite failed while {what} ({type(exc).__name__}: {text})")


class Readers:
    """One read connection per thread, all closed together."""

    def __init__(self, path: Path, fsync: bool) -> None:
        self.path, self.fsync = path, fsync
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, fsync=self.fsync)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
