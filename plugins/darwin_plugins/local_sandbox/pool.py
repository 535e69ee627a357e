"""The warm servers of one ``local`` sandbox, pooled per :class:`~.warm.Profile`: idle servers
kept, spoiled ones discarded and replaced in the background (see :mod:`.warm`)."""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable

from darwin_hookspecs import ExecRequest, ExecResult, SandboxError

from .spawner import Spawner
from .warm import NeedsCold, Profile, WarmServer, profile_of

if TYPE_CHECKING:
    from .sandbox import LocalSandbox


class WarmPool:
    """Idle servers per profile; replacements warmed. A profile keeps up to ``idle`` idle
    servers, or as many as it had in use at once if more (``n`` concurrent runs find ``n``
    servers warm, instead of starting the missing ones on every round)."""

    def __init__(self, owner: "LocalSandbox", idle: int) -> None:
        self._owner, self.idle_max = weakref.ref(owner), idle
        self.spawner = Spawner()
        self._lock = threading.RLock()
        self._idle: dict[Profile, list[WarmServer]] = {}
        self._busy: dict[Profile, int] = {}
        self._peak: dict[Profile, int] = {}
        self._closed = False
        self._workers: list[threading.Thread] = []
        self.created = 0
        self.discarded = 0

    def run(self, request: ExecRequest, cold: Callable[[ExecRequest], ExecResult]) -> ExecResult:
        """Serve ``request`` from a warm server (``cold`` when it cannot be)."""
        profile = profile_of(request)
        server = self._acquire(profile)
        try:
            result, healthy = server.run(self._sandbox(), request)
        except NeedsCold:
            self._release(server)
            return cold(request)
        except BaseException:
            self._discard(server)
            raise
        if healthy:
            self._release(server)
        else:
            self._discard(server)
        return result

    def _acquire(self, profile: Profile) -> WarmServer:
        with self._lock:
            if self._closed:
                raise SandboxError("local sandbox is closed; fix: create a new one")
            busy = self._busy[profile] = self._busy.get(profile, 0) + 1
            self._peak[profile] = max(self._peak.get(profile, 0), busy)
            idle = self._idle.get(profile, [])
            while idle:
                server = idle.pop()
                if server.alive():
                    return server
                self._background(server.destroy)
        try:
            return self._new(profile)
        except BaseException:
            self._done(profile)
            raise

    def _done(self, profile: Profile) -> None:
        with self._lock:
            self._busy[profile] = max(self._busy.get(profile, 0) - 1, 0)

    def _sandbox(self) -> "LocalSandbox":
        owner = self._owner()
        if owner is None or self._closed:
            raise SandboxError("local sandbox is closed; fix: create a new one")
        return owner

    def _new(self, profile: Profile) -> WarmServer:
        server = WarmServer(self._sandbox(), profile, self.spawner)
        with self._lock:
            self.created += 1
        return server

    def _release(self, server: WarmServer, busy: bool = True) -> None:
        with self._lock:
            if busy:
                self._done(server.profile)
            idle = self._idle.setdefault(server.profile, [])
            if not self._closed and len(idle) < max(self.idle_max, self._peak.get(server.profile, 0)):
                idle.append(server)
                return
        server.destroy()

    def _discard(self, server: WarmServer) -> None:
        with self._lock:
            self._done(server.profile)
            self.discarded += 1
            closed = self._closed
        self._background(server.destroy)
        if not closed:
            self._background(self._warm, server.profile)

    def _warm(self, profile: Profile) -> None:
        try:
            server = self._new(profile)
        except Exception:  # noqa: BLE001 - the next run reports the problem
            return
        self._release(server, busy=False)

    def _background(self, fn: Any, *args: Any) -> None:
        worker = threading.Thread(target=fn, args=args, daemon=True)
        with self._lock:
            self._workers = [w for w in self._workers if w.is_alive()]
            self._workers.append(worker)
        worker.start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            servers = [s for idle in self._idle.values() for s in idle]
            self._idle.clear()
        for worker in list(self._workers):
            worker.join(timeout=60)
        with self._lock:  # replacements warmed while closing
            servers += [s for idle in self._idle.values() for s in idle]
            self._idle.clear()
        for server in servers:
            server.destroy()
        self.spawner.close()
