"""The warm fork server's spare: the child for the next run is forked ahead of it, holds nothing
of earlier runs, takes the next request's limits, and is replaced when it is gone; the tamper
check allows it and nothing else."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import make_sandbox
from .conftest import run_python as run


@pytest.fixture(scope="module")
def warm() -> Any:
    sandbox = make_sandbox("local-warm", run_id="test-warm-spare")
    yield sandbox
    sandbox.close()


def the_server(sandbox: Any) -> Any:
    (servers,) = sandbox.warm._idle.values()
    (server,) = servers
    return server


def spare_of(server: Any) -> int:
    """The host pid of the server's spare (waiting for its fork, which follows the reply)."""
    for _ in range(200):
        extra = set(server.group.pids()) - server.baseline
        if extra:
            (pid,) = extra
            return pid
        time.sleep(0.01)
    raise AssertionError("no spare was forked")


def ns_pid(pid: int) -> int:
    """``pid``'s number in its innermost PID namespace."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("NSpid:"):
            return int(line.split()[-1])
    raise AssertionError(f"no NSpid for {pid}")


def test_the_next_run_is_the_spare_forked_ahead(warm: Any, tmp_path: Path) -> None:
    assert run(warm, tmp_path / "a", "pass").exit_code == 0
    server = the_server(warm)
    spare = spare_of(server)
    stat = Path(f"/proc/{spare}/stat").read_text()
    assert int(stat.rsplit(")", 1)[1].split()[1]) == server.server_pid  # a child of the server
    inside = ns_pid(spare)
    created = warm.warm.created
    result = run(warm, tmp_path / "b", "import os; print(os.getpid())")
    assert result.exit_code == 0 and int(result.stdout) == inside, result
    assert warm.warm.created == created and the_server(warm) is server


def test_a_gone_spare_is_replaced_by_a_fork_at_request_time(warm: Any, tmp_path: Path) -> None:
    assert run(warm, tmp_path / "a", "pass").exit_code == 0
    server = the_server(warm)
    spare = spare_of(server)
    os.kill(spare, signal.SIGKILL)
    for _ in range(200):  # until it is dead (a zombie of the server)
        stat = Path(f"/proc/{spare}/stat")
        if not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            break
        time.sleep(0.01)
    else:
        raise AssertionError(f"the killed spare {spare} never died")
    created, discarded = warm.warm.created, warm.warm.discarded
    result = run(warm, tmp_path / "b", "print('served')")
    assert result.exit_code == 0 and result.stdout.strip() == "served", result
    assert (warm.warm.created, warm.warm.discarded) == (created, discarded)
    assert the_server(warm) is server


def test_each_run_gets_its_own_limits_though_its_child_was_forked_before(warm: Any, tmp_path: Path) -> None:
    code = "import resource; print(*resource.getrlimit(resource.RLIMIT_CPU))"
    for cpu_s in (3, 7, 3):
        result = run(warm, tmp_path / f"c{cpu_s}", code, cpu_s=cpu_s)
        assert result.exit_code == 0 and result.stdout.split() == [str(cpu_s)] * 2, result


def test_a_daemon_left_outside_a_pid_namespace_is_not_taken_for_the_spare(tmp_path: Path) -> None:
    sandbox = make_sandbox("local-warm", run_id="test-warm-spare-none", isolation="none",
                           allow_unisolated=True)
    if sandbox.cgroups is None:
        sandbox.close()
        pytest.fail("needs cgroups (root on a cgroup v1 host) to count a run's leftovers")
    try:
        assert run(sandbox, tmp_path / "a", "pass").exit_code == 0
        discarded = sandbox.warm.discarded
        daemon = ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                  "        time.sleep(30)\n    os._exit(0)\nos.wait()\nprint('left')\n")
        result = run(sandbox, tmp_path / "b", daemon)
        assert result.exit_code == 0 and result.stdout.strip() == "left", result
        assert sandbox.warm.discarded == discarded + 1  # the leftover is seen: server discarded
    finally:
        sandbox.close()
