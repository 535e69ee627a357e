"""Moving a working copy out of a sandbox as tar, safely (shared by every sandbox).

What comes back was written by untrusted code: members are checked with the ``data`` filter
(no absolute paths, no ``..``, no links leaving the tree, no devices), extracted into a fresh
sibling directory and only then swapped in, so a broken or hostile archive never leaves the
working copy half-written and never touches anything outside it.
"""

from __future__ import annotations

import copy
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import BinaryIO

HAS_FILTERS = hasattr(tarfile, "data_filter")
"""Extraction filters exist from Python 3.10.12 / 3.11.4 (Debian 12 ships 3.11.2)."""
_TRUSTED: dict[str, str] = {"filter": "fully_trusted"} if HAS_FILTERS else {}


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
                safe = _data_filter(member, str(staging))
                if safe is None:
                    continue
                tar.extract(safe, staging, set_attrs=True, **_TRUSTED)
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


def _data_filter(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """``tarfile.data_filter`` (``None`` for a member it refuses), or the same checks where
    the interpreter predates it."""
    if HAS_FILTERS:
        try:
            return tarfile.data_filter(member, dest)
        except tarfile.FilterError:  # type: ignore[attr-defined]
            return None
    return _data_filter_fallback(member, dest)


def _inside(path: str, dest: str) -> bool:
    return os.path.commonpath([os.path.realpath(path), dest]) == dest


def _data_filter_fallback(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """The ``data`` filter's rules: leading ``/`` stripped, no escaping names, no links leaving ``dest``,
    only files, directories and links; no setuid/setgid/sticky or group/other write bits;
    owned by whoever extracts."""
    dest = os.path.realpath(dest)
    name = member.name.lstrip("/")
    if not name or not _inside(os.path.join(dest, name), dest):
        return None
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        return None
    if member.issym():
        target = os.path.join(dest, os.path.dirname(name), member.linkname)
        if os.path.isabs(member.linkname) or not _inside(target, dest):
            return None
    if member.islnk() and (os.path.isabs(member.linkname) or
                           not _inside(os.path.join(dest, member.linkname), dest)):
        return None
    safe = copy.copy(member)
    safe.name = name
    mode = member.mode & 0o755
    if member.isfile() or member.islnk():
        mode |= 0o600
        if not mode & 0o100:
            mode &= ~0o011
    elif member.isdir():
        mode |= 0o700
    safe.mode = mode
    safe.uid, safe.gid, safe.uname, safe.gname = os.getuid(), os.getgid(), "", ""
    return safe
