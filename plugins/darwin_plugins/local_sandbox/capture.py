"""A run's standard streams: stdin fed from the request, stdout/stderr read (in threads for a
cold run, by the waiting thread's ``select`` for a warm one) and bounded (the command never
blocks on a full pipe; what exceeds the limit is dropped)."""

from __future__ import annotations

import os
import select
import subprocess
import threading
import time
from typing import Any


class Bounded:
    """A stream's output, keeping at most ``limit`` bytes (``overflow`` once more came)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflow = False

    def keep(self, chunk: bytes) -> None:
        room = self.limit - self.size
        if room > 0:
            self.chunks.append(chunk[:room])
            self.size += min(room, len(chunk))
        if len(chunk) > room:
            self.overflow = True  # the reader keeps draining so the command never blocks

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")


class Capture(Bounded):
    """Reads a pipe in a thread, keeping at most ``limit`` bytes."""

    def __init__(self, pipe: Any, limit: int) -> None:
        super().__init__(limit)
        self.pipe = pipe
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            chunk = self.pipe.read1(65536)
            if not chunk:
                break
            self.keep(chunk)
        self.pipe.close()

    def join(self) -> None:
        self.thread.join(timeout=5)


class Drain(Bounded):
    """A pipe read without a thread: its owner calls :meth:`read` when ``select`` finds
    :attr:`fd` readable, and :func:`drain` at the end."""

    def __init__(self, fd: int, limit: int) -> None:
        super().__init__(limit)
        self.fd: int | None = fd

    def read(self) -> None:
        """Read what is there (the fd is readable); close at end of file."""
        assert self.fd is not None
        chunk = os.read(self.fd, 65536)
        if chunk:
            self.keep(chunk)
        else:
            self.close()

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def drain(pipes: list[Drain], timeout_s: float = 5.0) -> None:
    """Read the pipes to their end (at most ``timeout_s``, as :meth:`Capture.join` waits), then
    close them."""
    deadline = time.monotonic() + timeout_s
    while True:
        open_ = [p for p in pipes if p.fd is not None]
        left = deadline - time.monotonic()
        if not open_ or left <= 0:
            break
        ready, _, _ = select.select([p.fd for p in open_], [], [], left)
        for pipe in open_:
            if pipe.fd in ready:
                pipe.read()
    for pipe in pipes:
        pipe.close()


def feed(proc: subprocess.Popen[bytes], data: str) -> None:
    """Write ``data`` to the command's stdin and close it (a command that exits early is fine)."""
    try:
        assert proc.stdin is not None
        proc.stdin.write(data.encode())
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass


def feed_in_background(proc: subprocess.Popen[bytes], data: str) -> None:
    threading.Thread(target=feed, args=(proc, data), daemon=True).start()
