"""The local sandbox after its orchestrator is killed with SIGKILL mid-run: the next sandbox
kills what the run left (its cgroups hold the processes) and removes the staged copy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from darwin_plugins.local_sandbox import STAGE_ROOT, LocalSandbox, LocalSandboxOptions

from .conftest import marker_processes, wait_gone

ORCHESTRATOR = """
import pathlib, sys
from darwin_hookspecs import ExecRequest
from darwin_plugins.local_sandbox import LocalSandbox, LocalSandboxOptions
sandbox = LocalSandbox(LocalSandboxOptions(isolation="none", warm=sys.argv[3] == "warm"))
print(sandbox.cgroups is not None, flush=True)
sandbox.run(ExecRequest(argv=["python", "-c", "import time; time.sleep(600)", sys.argv[1]],
                        workdir=pathlib.Path(sys.argv[2]), timeout_s=600))
"""


def _sleeping(marker: str) -> list[int]:
    """The run's python (past the sh prologue, which carries the marker too)."""
    found = []
    for pid in marker_processes(marker):
        try:
            if b"time.sleep" in Path(f"/proc/{pid}/cmdline").read_bytes() and \
                    "python" in os.readlink(f"/proc/{pid}/exe"):
                found.append(pid)
        except OSError:
            continue
    return found


@pytest.mark.parametrize("mode", ["cold", "warm"])
def test_leftovers_of_a_killed_orchestrator_are_reaped(tmp_path: Path, mode: str) -> None:
    marker = "darwin-hostile-" + uuid.uuid4().hex[:10]
    proc = subprocess.Popen([sys.executable, "-c", ORCHESTRATOR, marker, str(tmp_path), mode],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "True"  # cgroups in use (root, cgroup v1)
        assert wait_gone(lambda: [] if _sleeping(marker) else [1], 60) == []
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    prefix = f"darwin-local-{proc.pid}-"
    if mode == "cold":
        assert marker_processes(marker), "the run's process outlives its killed orchestrator"
    else:  # the fork server dies with its orchestrator (PR_SET_PDEATHSIG), its child with it
        assert wait_gone(lambda: marker_processes(marker), 10) == []
    assert list(STAGE_ROOT.glob(prefix + "*"))
    sandbox = LocalSandbox(LocalSandboxOptions(isolation="none"))
    assert wait_gone(lambda: marker_processes(marker), 10) == []
    assert not list(STAGE_ROOT.glob(prefix + "*"))
    assert sandbox.cgroups is not None
    assert not [p for parent in sandbox.cgroups.parents.values() for p in parent.glob(prefix + "*")]
