"""Moving a working copy out of a sandbox as tar, safely (shared by every sandbox).

What comes back was written by untrusted code: members are checked with the ``data`` filter
(no absolute paths, no ``..``, no links leaving the tree, no devices), extracted into a fresh
sibling directory and only then swapped in, so a broken or hostile archive never leaves the
working copy half-written and never touches anything outside it.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import BinaryIO


def pack(workdir: Path) -> bytes:
    """A tar of ``workdir``'s contents (symlinks kept as links, never followed)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(os.listdir(workdir)):
            tar.add(os.path.join(workdir, entry), arcname=entry, recursive=True,
                    filter=_portable)
    return buffer.getvalue()


def _portable(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    if not (info.isfile() or info.isdir() or info.issym()):
        return None
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if info.isdir():
        info.mode |= 0o700
    return info


def unpack_into(workdir: Path, stream: BinaryIO) -> int:
    """Replace ``workdir``'s contents with the tar read from ``stream``; returns members kept.

    Raises :class:`tarfile.TarError` (or ``OSError``) without touching ``workdir`` when the
    archive cannot be read."""
    workdir = Path(workdir)
    staging = Path(tempfile.mkdtemp(prefix=f".{workdir.name}.out-", dir=workdir.parent))
    try:
        kept = 0
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                try:
                    safe = tarfile.data_filter(member, str(staging))
                except tarfile.FilterError:
                    continue
                if safe is None:
                    continue
                tar.extract(safe, staging, set_attrs=True, filter="fully_trusted")
                kept += 1
        _replace_contents(workdir, staging)
        return kept
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _replace_contents(workdir: Path, staging: Path) -> None:
    for entry in os.listdir(workdir):
        path = workdir / entry
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    for entry in os.listdir(staging):
        os.rename(staging / entry, workdir / entry)
