"""Finding and killing what an orchestrator that died (kill -9) left behind.

Every sandbox names what it creates after its orchestrator: the local sandbox's cgroups and
staged copies are ``<prefix><pid>-<random>``, containers carry an owner label
``host:pid:start-time``. At the next start, whatever belongs to a process that is gone is
killed and removed.
"""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path
from typing import Iterable


def start_time(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot), ``"?"`` if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def pid_alive(pid: int, started: str | None = None) -> bool:
    """Whether ``pid`` runs (and, given ``started``, is still the process that started then)."""
    if started is None:
        return Path(f"/proc/{pid}").exists()
    return start_time(pid) == started


def owner_label() -> str:
    """This orchestrator, as ``host:pid:start-time``."""
    return f"{socket.gethostname()}:{os.getpid()}:{start_time(os.getpid())}"


def owner_alive(label: str) -> bool:
    """Whether the orchestrator named by an owner label still runs (other hosts: assume so)."""
    try:
        host, pid, started = label.rsplit(":", 2)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True
    return pid.isdigit() and pid_alive(int(pid), started)


def orphaned(paths: Iterable[Path], prefix: str) -> list[Path]:
    """The ``paths`` named ``<prefix><pid>-...`` whose process ``pid`` is gone."""
    found = []
    for path in paths:
        pid = path.name[len(prefix):].split("-")[0]
        if path.name.startswith(prefix) and pid.isdigit() and not pid_alive(int(pid)):
            found.append(path)
    return found


def kill_pids(pids: Iterable[int]) -> None:
    """SIGKILL each of ``pids``, ignoring those already gone or not ours."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
