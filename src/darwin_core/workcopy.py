"""Reused working copies: an in-process executor's worker keeps one scratch directory and
brings it to each attempt's parent in place, instead of a fresh ``mkdtemp``, a full write and
an ``rmtree`` per attempt.

Checking a copy out makes its tree byte-equal to the parent's files, whatever the previous
attempt's generator or evaluation left in it: every entry is looked at with ``lstat``; a
regular file (one link, the mode this module creates files with) whose content equals the
parent's is kept (read and compared, never trusted from its metadata); every other entry (a
file the evaluation wrote or changed, a symlink, a FIFO, a directory no parent file lives
under) is removed, and missing or differing files are written anew (unlink, then create:
never through a link). A copy that cannot be cleaned (the evaluation took a permission away)
is discarded for a fresh one. Jobs of other executors (Ray workers) keep a copy per attempt.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import threading
from pathlib import Path

from .snapshots import safe_join, write_tree
from .trash import SCRATCH

TREE = "tree"
"""The name of a copy's tree in its root: the parent, then (changed in place) the child."""


def _umask() -> int:
    """This process's umask (from ``/proc``: setting it to read it would race other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _Modes:
    """The permission bits of the files and directories this process creates (umask applied),
    read once when first needed."""

    _lock = threading.Lock()
    _modes: tuple[int, int] | None = None

    @classmethod
    def get(cls) -> tuple[int, int]:
        with cls._lock:
            if cls._modes is None:
                mask = _umask()
                cls._modes = (0o666 & ~mask, 0o777 & ~mask)
            return cls._modes


class WorkingCopy:
    """One reusable scratch directory: ``root`` holds at most one entry, the tree."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self.root, self.scratch = root, scratch

    def checkout(self, files: dict[str, bytes]) -> Path:
        """The tree (``root/tree``), equal to ``files`` (nothing else in it)."""
        try:
            if self._tree():
                tree = self.root / TREE
                _sync(tree, files)
                return tree
        except OSError:  # something the previous attempt did that cleaning cannot undo
            self._renew()
        tree = self.root / TREE
        write_tree(files, tree)
        return tree

    def _tree(self) -> bool:
        """Whether the previous tree is there (not if the root is gone); any other entry of the
        root is removed."""
        if not os.path.isdir(self.root) or os.path.islink(self.root):
            self._renew()
            return False
        found = False
        with os.scandir(self.root) as entries:
            for entry in entries:
                if entry.name == TREE and entry.is_dir(follow_symlinks=False):
                    found = True
                else:
                    _remove(entry)
        return found

    def _renew(self) -> None:
        """Discard the root (deleted behind the caller) for a fresh, empty one."""
        old = self.root
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="copy-", dir=self.scratch))
        if os.path.lexists(old):
            SCRATCH.put(old)


def _remove(entry: os.DirEntry[str]) -> None:
    if entry.is_dir(follow_symlinks=False):
        shutil.rmtree(entry.path)
    else:
        os.unlink(entry.path)


def _sync(tree: Path, files: dict[str, bytes]) -> None:
    """Make ``tree`` hold exactly ``files`` (raises ``OSError`` when it cannot)."""
    file_mode, dir_mode = _Modes.get()
    dirs = {""}
    for rel in files:
        parts = rel.split("/")
        for i in range(1, len(parts)):
            dirs.add("/".join(parts[:i]))
    kept: set[str] = set()
    pending = [("", str(tree))]
    while pending:
        prefix, path = pending.pop()
        if stat.S_IMODE(os.lstat(path).st_mode) != dir_mode:
            os.chmod(path, dir_mode)
        with os.scandir(path) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    if rel in dirs:
                        pending.append((rel + "/", entry.path))
                    else:
                        shutil.rmtree(entry.path)
                    continue
                data = files.get(rel)
                if data is not None and entry.is_file(follow_symlinks=False) and _refresh(entry, data, file_mode):
                    kept.add(rel)
                else:
                    os.unlink(entry.path)
    for rel, data in files.items():
        if rel not in kept:
            write_file(safe_join(tree, rel), data)


def _refresh(entry: os.DirEntry[str], data: bytes, mode: int) -> bool:
    """Whether a regular file of one link and the usual mode now holds ``data``: kept if it
    did (read and compared), overwritten in place if it has ``data``'s size (no new inode);
    ``False``: it must be replaced."""
    st = entry.stat(follow_symlinks=False)
    if st.st_nlink != 1 or st.st_size != len(data) or stat.S_IMODE(st.st_mode) != mode:
        return False
    fd = os.open(entry.path, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if os.read(fd, len(data) + 1) != data:
            _write_all(fd, data)
        return True
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` at ``path`` (a file of a working copy): in place when it is a regular file
    of one link, the usual mode and ``data``'s size, else as a new file (the old one unlinked, never written
    through a link or a symlink); missing directories are made."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        fd = -1
    except OSError:  # a symlink, a FIFO without a reader, a directory: replaced below
        fd = -2
    if fd >= 0:
        try:
            st = os.fstat(fd)
            if (stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_size == len(data)
                    and stat.S_IMODE(st.st_mode) == _Modes.get()[0]):
                _write_all(fd, data)
                return
        finally:
            os.close(fd)
    if fd != -1:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    """Write ``data`` at the offset 0 of ``fd``."""
    view, done = memoryview(data), 0
    while done < len(data):
        done += os.pwrite(fd, view[done:], done)


class CopyPool:
    """The free working copies of each scratch directory (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: dict[Path, list[WorkingCopy]] = {}

    def take(self, scratch: Path) -> WorkingCopy:
        """A free copy of ``scratch``, or a new empty one."""
        with self._lock:
            free = self._free.setdefault(scratch, [])
            if free:
                return free.pop()
        scratch.mkdir(parents=True, exist_ok=True)
        return WorkingCopy(Path(tempfile.mkdtemp(prefix="copy-", dir=scratch)), scratch)

    def give(self, copy: WorkingCopy) -> None:
        """Return a copy after a job that ended normally (its content is cleaned when next taken)."""
        with self._lock:
            free = self._free.get(copy.scratch)
            if free is not None:
                free.append(copy)
                return
        SCRATCH.put(copy.root)  # its run closed meanwhile

    def close(self, scratch: Path) -> None:
        """Delete the free copies of ``scratch`` (behind the caller: ``SCRATCH.drain`` waits)."""
        with self._lock:
            free = self._free.pop(scratch, [])
        for copy in free:
            SCRATCH.put(copy.root)


COPIES = CopyPool()
"""The in-process executors' working copies (closed with their run's runtime)."""
