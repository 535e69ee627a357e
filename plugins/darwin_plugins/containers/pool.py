"""A bounded pool of warm containers, per :class:`Profile`.

At most ``size`` containers are alive (busy or idle) at once; a caller that finds none idle for
its profile creates one if there is room (evicting an idle container of another profile if
needed) or waits. A container handed back unhealthy (timed out, OOM-killed, supervisor killed,
leftovers it could not remove) is destroyed in the background and a replacement is warmed.
``size = 0`` means no pooling: every run gets a fresh container that is removed afterwards.
"""

from __future__ import annotations

import threading
from typing import Callable

from .engine_client import Container, Profile


class ContainerPool:
    def __init__(self, size: int, create: Callable[[Profile], Container],
                 destroy: Callable[[str], None]) -> None:
        self.size = size
        self._create, self._destroy = create, destroy
        self._cond = threading.Condition(threading.RLock())
        self._idle: dict[Profile, list[Container]] = {}
        self._live = 0  # busy + idle + being created
        self._closed = False
        self._workers: list[threading.Thread] = []
        self.created = 0
        self.discarded = 0

    # ----------------------------------------------------------------- use

    def acquire(self, profile: Profile) -> Container:
        if self.size == 0:
            return self._new(profile, counted=False)
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("container pool is closed")
                idle = self._idle.get(profile)
                if idle:
                    return idle.pop()
                if self._live < self.size:
                    self._live += 1
                    break
                victim = self._any_idle()
                if victim is not None:
                    self._background(self._destroy, victim.id)
                    break  # the victim's slot is ours
                self._cond.wait(timeout=1.0)
        try:
            return self._new(profile, counted=True)
        except BaseException:
            with self._cond:
                self._live -= 1
                self._cond.notify()
            raise

    def release(self, container: Container, healthy: bool) -> None:
        container.runs += 1
        if self.size == 0:
            self._destroy(container.id)
            return
        with self._cond:
            if healthy and not self._closed:
                self._idle.setdefault(container.profile, []).append(container)
                self._cond.notify()
                return
            self.discarded += 1
            self._live -= 1
            self._cond.notify()
        self._background(self._destroy, container.id)
        if not self._closed:
            self._background(self._warm, container.profile)

    def close(self) -> list[str]:
        """Stop handing out containers; returns the idle ones (the caller removes them)."""
        with self._cond:
            self._closed = True
            ids = [c.id for idle in self._idle.values() for c in idle]
            self._idle.clear()
            self._cond.notify_all()
        while True:
            with self._cond:
                workers = [w for w in self._workers if w.is_alive()]
            if not workers:
                return ids
            for worker in workers:
                worker.join(timeout=60)

    # ------------------------------------------------------------- helpers

    def _new(self, profile: Profile, counted: bool) -> Container:
        container = self._create(profile)
        with self._cond:
            self.created += 1
        return container

    def _warm(self, profile: Profile) -> None:
        with self._cond:
            if self._closed or self._live >= self.size:
                return
            self._live += 1
        try:
            container = self._create(profile)
        except Exception:  # noqa: BLE001 - the next acquire will report the problem
            with self._cond:
                self._live -= 1
                self._cond.notify()
            return
        with self._cond:
            self.created += 1
            if self._closed:
                self._live -= 1
                self._background(self._destroy, container.id)
                return
            self._idle.setdefault(profile, []).append(container)
            self._cond.notify()

    def _any_idle(self) -> Container | None:
        for idle in self._idle.values():
            if idle:
                return idle.pop(0)
        return None

    def _background(self, fn: Callable[..., None], *args: object) -> None:
        worker = threading.Thread(target=fn, args=args, daemon=True)
        with self._cond:
            self._workers = [w for w in self._workers if w.is_alive()]
            self._workers.append(worker)
            worker.start()
