"""Deleting directories behind the caller's back: a run's copies are removed on one background
thread, so the run's result is handed back without waiting for ``rmtree``; :meth:`Trash.drain`
waits until everything put in is gone (a sandbox's ``close``). What a killed process left is
reaped like any other leftover. Shared by the sandboxes (their used staged copies) and the
engine (attempts' scratch directories), so it lives in the contract package both may import."""

from __future__ import annotations

import queue
import shutil
import threading
from pathlib import Path

BACKLOG = 64
"""More pending deletions than this and ``put`` deletes in the caller (deletion keeps up)."""


class Trash:
    def __init__(self, name: str = "darwin-trash") -> None:
        self._name = name
        self._queue: "queue.Queue[Path]" = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, path: Path) -> None:
        """Delete ``path`` (a directory nobody uses any more) soon."""
        if self._queue.qsize() >= BACKLOG:
            shutil.rmtree(path, ignore_errors=True)
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        self._queue.put(path)

    def discard(self, path: Path, *, deferred: bool) -> None:
        """Delete ``path`` behind the caller (``deferred``: a run's scratch holds it, so what a
        kill leaves goes with the scratch at the next start) or now."""
        if deferred:
            self.put(path)
        else:
            shutil.rmtree(path, ignore_errors=True)

    def _run(self) -> None:
        while True:
            path = self._queue.get()
            try:
                shutil.rmtree(path, ignore_errors=True)
            finally:
                self._queue.task_done()

    def drain(self) -> None:
        """Return once every directory put in so far is deleted."""
        self._queue.join()
