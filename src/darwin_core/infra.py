"""Infrastructure errors (a full or read-only disk, the store, the sandbox itself) are never a
child's verdict: they leave the attempt for retry and stop the run resumably (exit 4 storage,
6 sandbox) with a message naming the path and the fix. They are not outages either: retrying
a full or read-only disk only delays the message."""

from __future__ import annotations

import errno

from darwin_hookspecs import DarwinError, SandboxError, StorageError

PERMANENT = {errno.ENOSPC, errno.EROFS, errno.EDQUOT}
"""OS errors that waiting does not cure."""


def permanent(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in PERMANENT


def infrastructure(exc: BaseException) -> bool:
    """Whether ``exc`` is the machine's fault, not the evaluated code's."""
    return permanent(exc) or isinstance(exc, (StorageError, SandboxError))


def as_error(exc: BaseException) -> DarwinError | None:
    """The run-stopping error for an infrastructure failure (``None`` for any other)."""
    if isinstance(exc, (StorageError, SandboxError)):
        return exc
    if not permanent(exc):
        return None
    assert isinstance(exc, OSError)
    path = exc.filename or "the run directory"
    fix = ("free space on the disk holding it" if exc.errno in (errno.ENOSPC, errno.EDQUOT)
           else "make it writable (or move the run dir)")
    return StorageError(f"{path}: {exc.strerror or exc}; the attempt was left for retry and "
                        f"nothing recorded is lost; fix: {fix}, then `darwin resume RUN_DIR`")
