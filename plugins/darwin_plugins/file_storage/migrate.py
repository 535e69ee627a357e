"""Open stores written before the SQLite journal: import the directory of files, then remove it.

The import is one transaction (all or nothing; rows already present are kept, so a repeated or
concurrent import changes nothing). Only after it is committed are ``records/`` and ``blobs/``
deleted; a crash in between re-runs the (idempotent) import on the next open. Record versions
keep their old value (the sha256 prefix of the file's bytes) and bytes are copied unchanged: a
corrupt record stays corrupt and is named on read, a damaged blob fails its hash check on read.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from .database import connect, storage_error
from .legacy import _version


def has_legacy(root: Path) -> bool:
    return (root / "records").is_dir() or (root / "blobs").is_dir()


def _record_rows(root: Path) -> list[tuple[str, str, str, str]]:
    rows = []
    records = root / "records"
    if records.is_dir():
        for directory in sorted(p for p in records.iterdir() if p.is_dir()):
            for path in sorted(directory.glob("*.json")):
                data = path.read_bytes()
                rows.append((directory.name, path.name[: -len(".json")],
                             data.decode("utf-8", errors="replace"), _version(data)))
    return rows


def _blob_rows(root: Path) -> list[tuple[str, bytes]]:
    blobs = root / "blobs"
    if not blobs.is_dir():
        return []
    return [(path.name, path.read_bytes()) for sub in sorted(blobs.iterdir()) if sub.is_dir()
            for path in sorted(sub.iterdir()) if not path.name.startswith(".tmp-")]


def migrate(root: Path, db: Path, *, fsync: bool) -> int:
    """Import a legacy store under ``root`` into ``db``; return the number of rows imported."""
    conn = connect(db, fsync=fsync)
    try:
        records, blobs = _record_rows(root), _blob_rows(root)
        conn.execute("BEGIN IMMEDIATE")
        try:
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO records (collection, key, value, version) "
                             "VALUES (?, ?, ?, ?)", records)
            conn.executemany("INSERT OR IGNORE INTO blobs (key, data) VALUES (?, ?)", blobs)
            conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('migrated_from', ?)",
                         (f"directory of files: {len(records)} records, {len(blobs)} blobs",))
            imported = conn.total_changes - before
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise storage_error(exc, db, f"importing the directory-of-files store {root}") from None
    finally:
        conn.close()
    for name in ("records", "blobs"):
        shutil.rmtree(root / name, ignore_errors=True)
    return imported
