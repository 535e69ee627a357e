"""A prototype ``file://`` engine for comparison only: one append-only journal + in-memory index.

Not shipped. Every write appends an entry (records: a JSON line; blobs: a header line and the
bytes) to ``journal.log``; writes of concurrent threads share one ``fsync`` (the same natural
group commit as the SQLite store); opening a store reads the whole journal to rebuild the index
(the "load" cost). Conditional writes are checked against the index under the append lock. A
real one would also need torn-tail recovery, compaction and cross-process locking, which
SQLite provides.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, Iterator

from darwin_hookspecs import ConflictError, NotFoundError


class JournalStore:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root, self.url = root, root.as_uri()
        self.path = root / "journal.log"
        self._records: dict[tuple[str, str], tuple[str, str]] = {}
        self._blobs: dict[str, tuple[int, int]] = {}
        self._load()
        self._fh = open(self.path, "ab")
        self._lock = threading.Lock()  # the index and the file position
        self._sync = threading.Condition()
        self._written = self._synced = 0  # sequence numbers
        self._syncing = False
        self.commits = 0

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        pos = 0
        while pos < len(data):
            end = data.index(b"\n", pos)
            entry = json.loads(data[pos:end])
            pos = end + 1
            if entry["t"] == "r":
                self._records[(entry["c"], entry["k"])] = (entry["v"], entry["ver"])
            else:
                self._blobs[entry["k"]] = (pos, entry["n"])
                pos += entry["n"]

    def _append(self, chunks: list[bytes]) -> int:
        """Write under the lock (caller holds it); return this write's sequence number."""
        for chunk in chunks:
            self._fh.write(chunk)
        self._fh.flush()
        self._written += 1
        return self._written

    def _durable(self, seq: int) -> None:
        """Group commit: one fsync covers every write appended before it started."""
        with self._sync:
            while self._synced < seq:
                if not self._syncing:
                    self._syncing = True
                    target = self._written
                    self._sync.release()
                    try:
                        os.fsync(self._fh.fileno())
                    finally:
                        self._sync.acquire()
                        self._syncing = False
                    self._synced = max(self._synced, target)
                    self.commits += 1
                    self._sync.notify_all()
                else:
                    self._sync.wait()

    def _record_chunk(self, collection: str, key: str, value: dict[str, Any],
                      if_version: str | None) -> tuple[bytes, str]:
        text = json.dumps(value, separators=(",", ":"), sort_keys=True)
        version = hashlib.sha256(text.encode()).hexdigest()[:16]
        current = self._records.get((collection, key))
        if if_version is None and current is not None:
            raise ConflictError(f"record {collection}/{key} already exists")
        if if_version is not None:
            if current is None:
                raise NotFoundError(f"record {collection}/{key} not found")
            if current[1] != if_version:
                raise ConflictError(f"record {collection}/{key} changed")
        self._records[(collection, key)] = (text, version)
        line = json.dumps({"t": "r", "c": collection, "k": key, "v": text, "ver": version}) + "\n"
        return line.encode(), version

    def put_record(self, collection: str, key: str, value: dict[str, Any], *,
                   if_version: str | None = None) -> str:
        with self._lock:
            chunk, version = self._record_chunk(collection, key, value, if_version)
            seq = self._append([chunk])
        self._durable(seq)
        return version

    def put_blob(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        with self._lock:
            if key in self._blobs:
                return key
            header = (json.dumps({"t": "b", "k": key, "n": len(data)}) + "\n").encode()
            self._blobs[key] = (self._fh.tell() + len(header), len(data))
            seq = self._append([header, data])
        self._durable(seq)
        return key

    def get_blob(self, key: str) -> bytes:
        offset, size = self._blobs[key]
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            return fh.read(size)

    def has_blob(self, key: str) -> bool:
        return key in self._blobs

    def get_record(self, collection: str, key: str) -> tuple[dict[str, Any], str]:
        text, version = self._records[(collection, key)]
        return json.loads(text), version

    def scan(self, collection: str) -> Iterator[tuple[str, dict[str, Any], str]]:
        for (c, key), (text, version) in sorted(self._records.items()):
            if c == collection:
                yield key, json.loads(text), version

    @contextlib.contextmanager
    def batch(self) -> Iterator["_Batch"]:
        """Writes of the block appended together, one fsync (prototype: a conflict midway
        leaves the index ahead of the file; the benchmark has none)."""
        batch = _Batch()
        yield batch
        with self._lock:
            chunks: list[bytes] = []
            for kind, args in batch.ops:
                if kind == "blob":
                    key, data = args
                    if key not in self._blobs:
                        header = (json.dumps({"t": "b", "k": key, "n": len(data)}) + "\n").encode()
                        self._blobs[key] = (self._fh.tell() + sum(map(len, chunks)) + len(header), len(data))
                        chunks += [header, data]
                else:
                    chunks.append(self._record_chunk(*args)[0])
            seq = self._append(chunks)
        self._durable(seq)

    def close(self) -> None:
        self._fh.close()


class _Batch:
    def __init__(self) -> None:
        self.ops: list[tuple[str, tuple[Any, ...]]] = []

    def put_blob(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        self.ops.append(("blob", (key, data)))
        return key

    def put_record(self, collection: str, key: str, value: dict[str, Any], *,
                   if_version: str | None = None) -> str:
        self.ops.append(("record", (collection, key, value, if_version)))
        text = json.dumps(value, separators=(",", ":"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
