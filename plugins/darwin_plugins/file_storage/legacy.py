"""The directory-of-files format of ``file://`` stores written before the SQLite journal.

Kept to migrate such stores on open (:mod:`.migrate`), to build one in tests, and as the
baseline of ``benchmarks/bench_storage.py``. Layout: ``records/<collection>/<key>.json`` and
``blobs/<2 hex>/<sha256>``. Every write goes to a temporary file that is fsynced, then renamed
(replace) or hard-linked (create-only) into place, and the directory is fsynced. Conditional
replaces hold a per-record ``flock``. About 3 fsyncs and one file per write.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from darwin_hookspecs import ConflictError, NotFoundError
from darwin_hookspecs.storage_codec import blob_key, decode_record

from .paths import check_key


def _version(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


class LegacyFileStorage:
    """A run stored as a directory of files (the format before the SQLite journal)."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.url = root.as_uri()
        self.fsync = fsync
        self._known_dirs: set[Path] = set()
        (root / "records").mkdir(parents=True, exist_ok=True)
        (root / "blobs").mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ helpers

    def _write_tmp(self, directory: Path, data: bytes) -> Path:
        if directory not in self._known_dirs:
            directory.mkdir(parents=True, exist_ok=True)
            self._known_dirs.add(directory)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                if self.fsync:
                    fh.flush()
                    os.fsync(fh.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return Path(tmp)

    def _sync_dir(self, directory: Path) -> None:
        if not self.fsync:
            return
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _record_path(self, collection: str, key: str) -> Path:
        check_key(collection)
        check_key(key)
        return self.root / "records" / collection / f"{key}.json"

    # -------------------------------------------------------------------- blobs

    def put_blob(self, data: bytes) -> str:
        key = blob_key(data)
        path = self.root / "blobs" / key[:2] / key
        if path.exists():
            return key
        tmp = self._write_tmp(path.parent, data)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        self._sync_dir(path.parent)
        return key

    def get_blob(self, key: str) -> bytes:
        check_key(key)
        try:
            return (self.root / "blobs" / key[:2] / key).read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"blob {key} not found in {self.url}") from None

    def has_blob(self, key: str) -> bool:
        return (self.root / "blobs" / key[:2] / key).exists()

    def iter_blob_keys(self) -> Iterator[str]:
        for sub in sorted((self.root / "blobs").iterdir()):
            for path in sorted(sub.iterdir()):
                if not path.name.startswith(".tmp-"):
                    yield path.name

    # ------------------------------------------------------------------ records

    def put_record(
        self, collection: str, key: str, value: dict[str, Any], *, if_version: str | None = None
    ) -> str:
        path = self._record_path(collection, key)
        data = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        tmp = self._write_tmp(path.parent, data)
        try:
            if if_version is None:
                try:
                    os.link(tmp, path)  # atomic create-only
                except FileExistsError:
                    raise ConflictError(f"record {collection}/{key} already exists") from None
            else:
                with self._lock(path):
                    current = self._read(path, collection, key)[1]
                    if current != if_version:
                        raise ConflictError(
                            f"record {collection}/{key} changed since it was read "
                            f"(version {current}, expected {if_version})"
                        )
                    os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self._sync_dir(path.parent)
        return _version(data)

    @contextlib.contextmanager
    def _lock(self, path: Path) -> Iterator[None]:
        lock_path = path.parent / f".{path.name}.lock"
        with open(lock_path, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _read(self, path: Path, collection: str, key: str) -> tuple[dict[str, Any], str]:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"record {collection}/{key} not found in {self.url}") from None
        return decode_record(data, f"{collection}/{key}", str(path)), _version(data)

    def get_record(self, collection: str, key: str) -> tuple[dict[str, Any], str]:
        return self._read(self._record_path(collection, key), collection, key)

    def scan(self, collection: str) -> Iterator[tuple[str, dict[str, Any], str]]:
        check_key(collection)
        directory = self.root / "records" / collection
        if not directory.is_dir():
            return
        for path in sorted(directory.glob("*.json")):
            key = path.name[: -len(".json")]
            value, version = self._read(path, collection, key)
            yield key, value, version

    def collections(self) -> list[str]:
        return sorted(p.name for p in (self.root / "records").iterdir() if p.is_dir())

    def close(self) -> None:
        pass
