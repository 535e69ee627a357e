"""One writer per run: ``darwin run`` and ``darwin resume`` hold the storage's writer lease
while they write (renewed from a thread, released at the end).

A second writer is refused with :class:`~darwin_hookspecs.LeaseHeldError` (exit 4) naming the
holder (host, pid, since). After a crash the lease frees itself: at once for ``file://`` (the
kernel drops a dead process's lock), once its ttl (``[storage] lease_ttl_s``) has passed for
MongoDB and S3.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from darwin_hookspecs import Lease, UserError

from .rundir import POINTER, RunPointer, pointer_bytes

if TYPE_CHECKING:
    from .run import RunHandle


def hold_writer(handle: "RunHandle", owner: str) -> Lease:
    """Take the run's writer lease and keep it alive until released."""
    ttl = float(handle.config.storage.lease_ttl_s)
    return handle.storage.acquire_lease(owner=owner, ttl_s=ttl).keep_alive()


def create_pointer(run_dir: Path, pointer: RunPointer) -> None:
    """Write ``run.json`` of a new run, refusing if one exists (never overwrite another run's:
    the file is linked in place, which fails when the name is taken)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=".run-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pointer_bytes(pointer))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, run_dir / POINTER)
        except FileExistsError:
            raise already_a_run(run_dir) from None
        dir_fd = os.open(run_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        os.unlink(tmp)


def already_a_run(run_dir: Path) -> UserError:
    return UserError(f"{run_dir} already holds a run; fix: `darwin resume {run_dir}` or choose another --run-dir")



def clean_scratch(run_dir: Path) -> int:
    """Remove the working copies attempts of earlier (killed) sessions left in ``scratch/``;
    only the lease holder calls this, so no live attempt owns one. The number removed."""
    scratch = run_dir / "scratch"
    removed = 0
    for entry in scratch.iterdir() if scratch.is_dir() else ():
        shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
        removed += 1
    return removed


def release(lease: Lease) -> None:
    """Give the lease up, best effort: an unreachable store must not hide the error that stopped
    the run (a lease that cannot be released expires after its ttl)."""
    try:
        lease.release()
    except Exception:  # noqa: BLE001 - any backend's failure to reach its store
        pass
