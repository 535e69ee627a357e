"""Group commit: writes arriving while a commit is in flight share the next one.

Each write is a *unit* (a function run inside the transaction, under its own savepoint, so a
conflicting unit is undone alone). The first thread to find no commit in progress becomes the
leader: it takes every queued unit, runs them in one ``BEGIN IMMEDIATE`` ... ``COMMIT`` (one
fsync), hands each result back and steps down; a waiting thread leads the next group. No thread
waits for a timer: under one writer a commit is one write; under N concurrent writers the
groups grow to N. ``window_s`` optionally lets a leader wait for more units first.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable

from darwin_hookspecs import StorageError

from .database import connect, storage_error

Apply = Callable[[sqlite3.Connection], Any]


class _Unit:
    __slots__ = ("apply", "result", "error", "done")

    def __init__(self, apply: Apply) -> None:
        self.apply = apply
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False


class GroupCommitter:
    """Serialises a store handle's writes into shared transactions."""

    def __init__(self, path: Path, *, fsync: bool, window_s: float = 0.0) -> None:
        self.path, self.fsync, self.window_s = path, fsync, window_s
        self._cond = threading.Condition()
        self._queue: list[_Unit] = []
        self._leading = False
        self._conn: sqlite3.Connection | None = None
        self.commits = 0
        """Transactions committed (for benchmarks and tests)."""
        self.units = 0
        """Units applied."""

    def run(self, apply: Apply) -> Any:
        """Run ``apply(conn)`` in a transaction shared with concurrent callers; return its result
        once committed (durable), or raise its error (nothing of it stored)."""
        unit = _Unit(apply)
        with self._cond:
            self._queue.append(unit)
            while self._leading and not unit.done:
                self._cond.wait()
            lead = not unit.done
            if lead:
                self._leading = True
        if lead:
            try:
                if self.window_s:
                    time.sleep(self.window_s)
                with self._cond:
                    group, self._queue = self._queue, []
                self._commit(group)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
        if unit.error is not None:
            raise unit.error
        return unit.result

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.path, fsync=self.fsync)
        return self._conn

    def _commit(self, group: list[_Unit]) -> None:
        try:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
        except (sqlite3.Error, OSError) as exc:
            self._fail(group, storage_error(exc, self.path, "starting a write"))
            return
        alone = len(group) == 1  # no savepoint needed: a failure rolls the transaction back
        try:
            for unit in group:
                if not alone:
                    conn.execute("SAVEPOINT unit")
                try:
                    unit.result = unit.apply(conn)
                except Exception as exc:  # noqa: BLE001 - handed to the unit's caller
                    conn.execute("ROLLBACK" if alone else "ROLLBACK TO unit")
                    unit.error = storage_error(exc, self.path, "writing") if isinstance(exc, sqlite3.Error) else exc
                    if alone:
                        unit.done = True
                        return
                if not alone:
                    conn.execute("RELEASE unit")
            conn.execute("COMMIT")
            self.commits += 1
            self.units += len(group)
        except BaseException as exc:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            error = storage_error(exc, self.path, "committing") if isinstance(exc, sqlite3.Error) else exc
            for unit in group:
                if unit.error is None or not isinstance(unit.error, StorageError):
                    unit.error = error
                unit.result = None
            if not isinstance(exc, Exception):
                self._fail(group, StorageError(f"{self.path}: write interrupted"))
                raise
        for unit in group:
            unit.done = True

    def _fail(self, group: list[_Unit], error: BaseException) -> None:
        for unit in group:
            if unit.error is None:
                unit.error = error
            unit.done = True

    def close(self) -> None:
        with self._cond:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
