"""The container supervisor's working-copy records (it avoids importing tarfile), converted
to a tar stream that :func:`darwin_plugins.sandbox_common.transfer.unpack_into` checks member by
member on the way back.
"""

from __future__ import annotations

import io
import os
import struct
import tarfile
from pathlib import Path


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
