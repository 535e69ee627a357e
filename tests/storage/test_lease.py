"""One writer per run: a writer killed with SIGKILL while holding the lease, on every backend.
The second acquirer is refused with the holder named (host, pid, since); once the holder is dead
the lease is taken over (``file://`` at once: the OS dropped its lock; MongoDB and S3 when the
lease's ttl has run out)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any, Callable

import pytest

from darwin_core.plugins import PluginManager
from darwin_core.rundir import open_storage
from darwin_hookspecs import LeaseHeldError, acquire_lease

HOLDER = r"""
import json, sys, time
from darwin_core.plugins import PluginManager
from darwin_core.rundir import open_storage
from darwin_hookspecs import acquire_lease

storage = open_storage(PluginManager(), sys.argv[1], json.loads(sys.argv[2]))
lease = acquire_lease(storage, owner="darwin run", ttl_s=float(sys.argv[3])).keep_alive()
print("held", flush=True)
time.sleep(600)
"""


def test_a_killed_holder_is_named_then_taken_over(
    backend: str, storage_url: Callable[[str, str], tuple[str, dict[str, Any]]],
    plugin_manager: PluginManager,
) -> None:
    url, options = storage_url(backend, "leased")
    ttl = 2.0
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, url, json.dumps(options), str(ttl)],
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    storage = open_storage(plugin_manager, url, options)
    try:
        time.sleep(ttl * 0.75)  # past a renewal: a living holder keeps its lease
        with pytest.raises(LeaseHeldError) as info:
            acquire_lease(storage, owner="darwin resume", ttl_s=30)
        message = str(info.value)
        assert f"pid {proc.pid} on host {socket.gethostname()} (darwin run) since " in message
        assert info.value.holder.pid == proc.pid

        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        killed = time.monotonic()
        while True:
            try:
                lease = acquire_lease(storage, owner="darwin resume", ttl_s=30)
                break
            except LeaseHeldError:
                assert time.monotonic() - killed < ttl + 5, "the dead holder's lease never expired"
                time.sleep(0.1)
        waited = time.monotonic() - killed
        if backend == "file":
            assert waited < 0.5  # the kernel released the dead process's lock
        assert lease.holder.pid == os.getpid()
        lease.release()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        storage.close()
