"""A run's standard streams: stdin fed from the request, stdout/stderr read in threads and
bounded (the command never blocks on a full pipe; what exceeds the limit is dropped)."""

from __future__ import annotations

import subprocess
import threading
from typing import Any


class Capture:
    """Reads a pipe in a thread, keeping at most ``limit`` bytes."""

    def __init__(self, pipe: Any, limit: int) -> None:
        self.pipe, self.limit = pipe, limit
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflow = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            chunk = self.pipe.read1(65536)
            if not chunk:
                break
            room = self.limit - self.size
            if room > 0:
                self.chunks.append(chunk[:room])
                self.size += min(room, len(chunk))
            if len(chunk) > room:
                self.overflow = True  # keep draining so the command never blocks on a full pipe
        self.pipe.close()

    def join(self) -> None:
        self.thread.join(timeout=5)

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")


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
