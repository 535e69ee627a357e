"""The working copy coming back from a sandbox as tar: a hostile archive never writes outside
the working copy, on interpreters with extraction filters and on those before them (Debian 12's
Python 3.11.2, the Darwin image's, has no ``tarfile.data_filter``)."""

from __future__ import annotations

import io
import stat
import tarfile
from pathlib import Path

import pytest

from darwin_plugins.sandbox_common import transfer


def hostile_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", mode: int = 0o644,
                link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.linkname, info.size = kind, mode, link, len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
        add("keep.txt", data=b"ok")
        add("pkg", tarfile.DIRTYPE, mode=0o755)
        add("pkg/mod.py", data=b"x = 1\n", mode=0o4777)            # setuid, world-writable
        add("pkg/link", tarfile.SYMTYPE, link="mod.py")             # a link inside: kept
        add("../escape.txt", data=b"out")
        add("/abs.txt", data=b"in")                                # leading / stripped: kept
        add("up", tarfile.SYMTYPE, link="../../outside")
        add("etc", tarfile.SYMTYPE, link="/etc")
        add("hard", tarfile.LNKTYPE, link="../outside-hard")
        add("dev", tarfile.CHRTYPE)
        add("fifo", tarfile.FIFOTYPE)
    return buffer.getvalue()


@pytest.mark.parametrize("filters", [True, False], ids=["data_filter", "fallback"])
def test_a_hostile_archive_keeps_only_what_is_inside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     filters: bool) -> None:
    if not filters:
        monkeypatch.setattr(transfer, "HAS_FILTERS", False)
        monkeypatch.setattr(transfer, "_TRUSTED", {})
    elif not transfer.HAS_FILTERS:
        pytest.fail("this interpreter has no tarfile.data_filter; run the suite on Python >= 3.11.4")
    work = tmp_path / "box" / "work"
    work.mkdir(parents=True)
    (work / "old.txt").write_text("replaced")
    kept = transfer.unpack_into(work, io.BytesIO(hostile_archive()))
    assert kept == 5
    assert sorted(p.relative_to(work).as_posix() for p in work.rglob("*")) == [
        "abs.txt", "keep.txt", "pkg", "pkg/link", "pkg/mod.py"]
    assert (work / "pkg" / "link").is_symlink() and (work / "pkg" / "link").read_text() == "x = 1\n"
    mode = stat.S_IMODE((work / "pkg" / "mod.py").stat().st_mode)
    assert mode & (stat.S_ISUID | stat.S_IWGRP | stat.S_IWOTH) == 0 and mode & 0o600 == 0o600
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(
        ["box", "work", "abs.txt", "keep.txt", "pkg", "link", "mod.py"])
