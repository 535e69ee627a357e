"""Start the warm fork servers from one long-lived thread.

A server must die with the orchestrator (bubblewrap's ``--die-with-parent``, the server's own
``PR_SET_PDEATHSIG``), but the kernel's "parent" there is the *thread* that started the
process: a server started from a short-lived thread (a replacement warmed in the background,
a benchmark's worker thread) is killed the moment that thread ends. Every server is therefore
started by this one thread, which lives as long as the pool (a daemon thread, so it never
holds the interpreter's exit; it ends with the process, and its servers with it).
"""

from __future__ import annotations

import queue
import subprocess
import threading
from concurrent.futures import Future
from typing import Any


class Spawner:
    """``popen(...)`` runs ``subprocess.Popen(...)`` in the spawner's thread."""

    def __init__(self, name: str = "darwin-warm-spawner") -> None:
        self._name = name
        self._queue: "queue.SimpleQueue[tuple[tuple[Any, ...], dict[str, Any], Future[Any]] | None]" = \
            queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def popen(self, *args: Any, **kwargs: Any) -> "subprocess.Popen[bytes]":
        future: Future[subprocess.Popen[bytes]] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the warm pool is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
            self._queue.put((args, kwargs, future))
        return future.result()

    def _loop(self) -> None:
        while (item := self._queue.get()) is not None:
            args, kwargs, future = item
            try:
                future.set_result(subprocess.Popen(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)

    def close(self) -> None:
        """Let the thread end (call once the servers it started are gone)."""
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
            self._queue.put(None)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
