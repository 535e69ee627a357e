"""The writer lease of a ``file://`` store: an OS lock on ``STORE/lock``, holder in ``lease.json``.

The lock is a POSIX record lock (``lockf``): the kernel drops it when the holding process dies,
however it dies, so a crashed writer's lease is free at once (the ttl only dates ``lease.json``).
POSIX locks are not inherited by forked children (a sandboxed evaluation cannot keep it alive)
but do not exclude threads of one process, so a process-wide table does that.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import threading
import time
from pathlib import Path

from darwin_hookspecs import Lease, LeaseHolder, StorageError
from darwin_hookspecs.storage_api import held_error

LOCK_NAME = "lock"
INFO_NAME = "lease.json"
_HELD: dict[Path, "FileLease"] = {}
_HELD_LOCK = threading.Lock()
_CRASH_NOTE = "a writer that crashed releases it at once"


def _read_holder(path: Path) -> LeaseHolder | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return None if data.get("released") else LeaseHolder.from_dict(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_info(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


class FileLease(Lease):
    """A held ``file://`` writer lease (see the module docstring)."""

    expires = False

    def __init__(self, url: str, lock_path: Path, fd: int, holder: LeaseHolder, ttl_s: float) -> None:
        super().__init__(url, holder, ttl_s)
        self.lock_path, self._fd = lock_path, fd
        self._info = lock_path.with_name(INFO_NAME)

    @classmethod
    def acquire(cls, root: Path, url: str, owner: str, ttl_s: float) -> "FileLease":
        lock_path = (root / LOCK_NAME).resolve()
        info = lock_path.with_name(INFO_NAME)
        with _HELD_LOCK:
            held = _HELD.get(lock_path)
            if held is not None:
                raise held_error(url, held.holder, _CRASH_NOTE)
            try:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise StorageError(f"cannot open the lock file {lock_path} ({exc}); fix: make the "
                                   "store directory writable") from None
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)  # this process holds no lock on the file (checked above): safe
                if exc.errno in (errno.EACCES, errno.EAGAIN):
                    raise held_error(url, _read_holder(info), _CRASH_NOTE) from None
                raise StorageError(f"cannot lock {lock_path} ({exc})") from None
            holder = LeaseHolder.here(owner, ttl_s)
            _write_info(info, holder.to_dict())
            lease = cls(url, lock_path, fd, holder, ttl_s)
            _HELD[lock_path] = lease
            return lease

    def _renew(self) -> LeaseHolder:
        holder = LeaseHolder(**{**self.holder.to_dict(), "expires_at": time.time() + self.ttl_s})
        _write_info(self._info, holder.to_dict())
        return holder

    def _release(self) -> None:
        with _HELD_LOCK:
            if _HELD.get(self.lock_path) is self:
                del _HELD[self.lock_path]
            try:
                _write_info(self._info, {"released": True, "token": self.holder.token})
            finally:
                os.close(self._fd)  # drops the lock
