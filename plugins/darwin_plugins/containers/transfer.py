"""Moving a working copy into and out of a sandbox as tar, safely.

What comes back was written by untrusted code: members are checked with the ``data`` filter
(no absolute paths, no ``..``, no links leaving the tree, no devices), extracted into a fresh
sibling directory and only then swapped in, so a broken or hostile archive never leaves the
working copy half-written and never touches anything outside it.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
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


# ---------------------------------------------------------------- supervisor records
# The in-container supervisor speaks a minimal record format (it avoids importing tarfile):
# kind (1 byte: d, f, l; E ends) + path length (2) + path + mode (4) + data length (8) + data.

RECORD_HEAD = struct.Struct(">IQ")


def pack_records(workdir: Path) -> bytes:
    """The working copy (trusted: the orchestrator's) as supervisor records."""
    parts: list[bytes] = []

    def record(kind: bytes, rel: str, mode: int, data: bytes) -> None:
        name = os.fsencode(rel)
        parts.append(kind + struct.pack(">H", len(name)) + name
                     + RECORD_HEAD.pack(mode, len(data)) + data)

    def walk(rel: str) -> None:
        folder = os.path.join(workdir, rel) if rel else str(workdir)
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            sub = os.path.join(rel, entry.name) if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            if entry.is_symlink():
                record(b"l", sub, 0o777, os.fsencode(os.readlink(entry.path)))
            elif entry.is_dir(follow_symlinks=False):
                record(b"d", sub, (st.st_mode & 0o7777) | 0o700, b"")
                walk(sub)
            elif entry.is_file(follow_symlinks=False):
                with open(entry.path, "rb") as fh:
                    record(b"f", sub, st.st_mode & 0o7777, fh.read())

    walk("")
    parts.append(b"E")
    return b"".join(parts)


def records_to_tar(data: bytes) -> io.BytesIO:
    """Convert records written by untrusted code into a tar stream for :func:`unpack_into`
    (which filters every member). Raises ``tarfile.TarError`` when the data is malformed."""
    buffer = io.BytesIO()
    view = memoryview(data)
    pos = 0
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        while True:
            if pos >= len(view):
                raise tarfile.TarError("working copy records end without a terminator")
            kind = bytes(view[pos:pos + 1])
            pos += 1
            if kind == b"E":
                break
            if kind not in (b"d", b"f", b"l") or pos + 2 > len(view):
                raise tarfile.TarError(f"bad working copy record {kind!r}")
            (size,) = struct.unpack(">H", view[pos:pos + 2])
            pos += 2
            name = os.fsdecode(bytes(view[pos:pos + size]))
            pos += size
            if pos + RECORD_HEAD.size > len(view):
                raise tarfile.TarError("truncated working copy record")
            mode, length = RECORD_HEAD.unpack(view[pos:pos + RECORD_HEAD.size])
            pos += RECORD_HEAD.size
            if pos + length > len(view):
                raise tarfile.TarError("truncated working copy record")
            payload = view[pos:pos + length]
            pos += length
            info = tarfile.TarInfo(name)
            info.mode = mode & 0o7777
            if kind == b"d":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == b"l":
                info.type = tarfile.SYMTYPE
                info.linkname = os.fsdecode(bytes(payload))
                tar.addfile(info)
            else:
                info.size = length
                tar.addfile(info, io.BytesIO(payload))
    buffer.seek(0)
    return buffer
