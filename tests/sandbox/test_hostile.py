"""One hostile-code suite, run against every sandbox backend (local with bubblewrap, docker,
podman).

Each case runs a hostile program while a harmless "bystander" evaluation runs at the same time
in the same sandbox, then checks: the run ended within its timeout plus a margin with a recorded
reason; the bystander succeeded; no secret (environment variable of the orchestrator, file
outside the working copy) appears in the output; nothing outside the working copy changed; no
process of the program survives; and the sandbox still works afterwards.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from darwin_hookspecs import ExecRequest, ExecResult

from .conftest import MARKER_PREFIX, marker_processes, wait_gone

TIMEOUT_S = 3.0
MARGIN_S = 12.0  # container start-up, copy back, supervisor clean-up on a loaded machine
SECRET = "sk-darwin-secret-" + uuid.uuid4().hex

PRELUDE = """
import os, sys, time, socket, signal, threading
MARKER, SECRET_FILE, CANARY, HOST_IP, PORT, ORCH_PID = sys.argv[1:7]
PORT, ORCH_PID = int(PORT), int(ORCH_PID)
"""

PROGRAMS: dict[str, str] = {
    "fork_bomb": """
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)
""",
    "unbounded_allocation": """
hog = []
while True:
    hog.append(bytearray(32 * 1024 * 1024))
""",
    "spin_all_cores": """
def spin():
    while True:
        pass
for _ in range(8):
    threading.Thread(target=spin, daemon=True).start()
spin()
""",
    "sleep_ignoring_sigterm": """
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
time.sleep(10_000)
""",
    "fill_disk": """
chunk = b"x" * (1 << 20)
n = 0
while True:
    for where in (".", "/tmp", "/dev/shm", os.path.expanduser("~")):
        try:
            with open(os.path.join(where, "fill-%d" % n), "wb") as fh:
                for _ in range(16):
                    fh.write(chunk)
        except OSError:
            time.sleep(0.01)
    n += 1
""",
    "flood_stdout": """
block = b"y" * (1 << 20)
while True:
    sys.stdout.buffer.write(block)
""",
    "network": """
for host in ("127.0.0.1", HOST_IP):
    try:
        socket.create_connection((host, PORT), timeout=2).close()
        print("CONNECTED", host)
    except OSError as exc:
        print("blocked", host, exc)
try:
    socket.getaddrinfo("pypi.org", 443)
    print("CONNECTED dns")
except OSError as exc:
    print("blocked dns", exc)
""",
    "read_env_secrets": """
print(dict(os.environ))
for pid in os.listdir("/proc"):
    if pid.isdigit():
        for name in ("environ", "cmdline"):
            try:
                print(open("/proc/%s/%s" % (pid, name), "rb").read())
            except OSError:
                pass
""",
    "read_outside": """
for path in (SECRET_FILE, "/etc/shadow", "/root/.bash_history", "/proc/%d/environ" % ORCH_PID,
             os.path.dirname(SECRET_FILE)):
    try:
        if os.path.isdir(path):
            print(path, os.listdir(path))
        else:
            print(path, open(path, "rb").read())
    except OSError as exc:
        print("denied", path, exc)
""",
    "write_outside": """
targets = [CANARY, os.path.join(os.path.dirname(CANARY), "planted.txt"), "/etc/planted",
           "/usr/planted", "/tmp/planted-" + MARKER, os.path.join(os.path.dirname(CANARY), "..",
           "planted-" + MARKER)]
for path in targets:
    try:
        with open(path, "w") as fh:
            fh.write("pwned")
        print("WROTE", path)
    except OSError as exc:
        print("denied", path, exc)
try:
    os.remove(CANARY)
    print("REMOVED canary")
except OSError as exc:
    print("denied remove", exc)
""",
    "kill_parent_and_others": """
for pid in (ORCH_PID, os.getppid(), 1):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError as exc:
        print("denied", pid, exc)
try:
    os.kill(-1, signal.SIGKILL)
except OSError as exc:
    print("denied -1", exc)
time.sleep(1)
print("still here")
""",
    "leave_daemon": """
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(10_000)
    os._exit(0)
print("parent returns, daemon left behind")
""",
}

# What each case must end with: a set of acceptable killed_reason values (None: exited).
EXPECTED_REASONS: dict[str, set[str | None]] = {
    "fork_bomb": {"timeout"},
    "unbounded_allocation": {"oom"},
    "spin_all_cores": {"timeout"},
    "sleep_ignoring_sigterm": {"timeout"},
    "fill_disk": {"timeout", "oom"},  # tmpfs pages count against the memory limit
    "flood_stdout": {"output_limit"},
    "network": {None},
    "read_env_secrets": {None},
    "read_outside": {None},
    "write_outside": {None},
    "kill_parent_and_others": {None, "signal"},
    "leave_daemon": {None},
}


@pytest.fixture(scope="module")
def listener() -> Any:
    """A TCP server on all host interfaces; counts connections it receives."""
    server = socket.socket()
    server.bind(("0.0.0.0", 0))
    server.listen(16)
    server.settimeout(0.2)
    state = {"port": server.getsockname()[1], "accepted": 0, "stop": False}

    def serve() -> None:
        while not state["stop"]:
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            state["accepted"] += 1
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield state
    state["stop"] = True
    thread.join(timeout=5)
    server.close()


def host_ip() -> str:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.1", 9))
        return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


def bystander(sandbox: Any, workdir: Path, results: list[ExecResult]) -> None:
    (workdir / "ok.py").write_text("import sys\nprint(sum(range(10)))\n")
    results.append(sandbox.run(ExecRequest(argv=["python", "ok.py"], workdir=workdir,
                                           timeout_s=120)))


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", sorted(PROGRAMS))
def test_hostile(case: str, sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 listener: dict[str, Any]) -> None:
    marker = MARKER_PREFIX + uuid.uuid4().hex[:10]
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    outside = tmp_path / "outside"
    outside.mkdir()
    secret_file = outside / "secret.txt"
    secret_file.write_text(SECRET)
    canary = outside / "canary.txt"
    canary.write_text("canary")
    before = snapshot(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    (work / "hostile.py").write_text(PRELUDE + PROGRAMS[case])
    work.chmod(0o777)
    side = tmp_path / "side"
    side.mkdir()
    side.chmod(0o777)

    side_results: list[ExecResult] = []
    side_thread = threading.Thread(target=bystander, args=(sandbox, side, side_results))
    side_thread.start()
    argv = ["python", "hostile.py", marker, str(secret_file), str(canary), host_ip(),
            str(listener["port"]), str(os.getpid())]
    start = time.monotonic()
    result = sandbox.run(ExecRequest(argv=argv, workdir=work, timeout_s=TIMEOUT_S, memory_mb=256,
                                     pids=64, output_limit_bytes=1 << 20))
    elapsed = time.monotonic() - start
    side_thread.join(timeout=180)

    # ends in time, with a recorded reason
    assert elapsed < TIMEOUT_S + MARGIN_S, (elapsed, result)
    assert result.killed_reason in EXPECTED_REASONS[case], result
    assert result.killed_reason is not None or result.exit_code is not None
    if result.killed_reason == "timeout":
        assert result.timed_out and elapsed >= TIMEOUT_S
    if case == "flood_stdout":
        assert result.truncated and len(result.stdout) <= 1 << 20
    # the other evaluation was not disturbed
    assert side_results and side_results[0].exit_code == 0, side_results
    assert side_results[0].stdout.strip() == "45"
    # no secret readable
    output = result.stdout + result.stderr
    assert SECRET not in output
    if case == "network":
        assert "CONNECTED" not in output and listener["accepted"] == 0, output
    if case == "read_env_secrets":
        assert "hostile.py" in output  # it did look at its own process
    # nothing outside the working copy changed
    assert snapshot(tmp_path / "outside") == {k.removeprefix("outside/"): v for k, v in
                                              before.items() if k.startswith("outside/")}
    assert not list(tmp_path.parent.glob("planted-*"))
    assert not Path("/tmp/planted-" + marker).exists()
    assert not Path("/etc/planted").exists() and not Path("/usr/planted").exists()
    # no process left behind
    assert wait_gone(lambda: marker_processes(marker), 5) == []
    # the sandbox still works
    again = sandbox.run(ExecRequest(argv=["python", "-c", "print('alive')"], workdir=side,
                                    timeout_s=120))
    assert again.exit_code == 0 and again.stdout.strip() == "alive", again


def test_hostile_writes_inside_are_returned(sandbox: Any, tmp_path: Path) -> None:
    """The working copy is the one place a program may write, and its writes come back."""
    work = tmp_path / "work"
    (work / "pkg").mkdir(parents=True)
    (work / "pkg" / "old.txt").write_text("old")
    (work / "gone.txt").write_text("delete me")
    for path in [work, work / "pkg"]:
        path.chmod(0o777)
    for path in work.rglob("*.txt"):
        path.chmod(0o666)
    program = (
        "import os\n"
        "open('pkg/new.txt', 'w').write('new')\n"
        "open('pkg/old.txt', 'a').write('+more')\n"
        "os.remove('gone.txt')\n"
        "os.symlink('/etc/passwd', 'escape')\n"
    )
    result = sandbox.run(ExecRequest(argv=["python", "-c", program], workdir=work, timeout_s=60))
    assert result.exit_code == 0, result
    assert (work / "pkg" / "new.txt").read_text() == "new"
    assert (work / "pkg" / "old.txt").read_text() == "old+more"
    assert not (work / "gone.txt").exists()
    escape = work / "escape"
    # a link that points outside the working copy never becomes a way out on the host
    assert not escape.exists() or (escape.is_symlink() and os.readlink(escape) == "/etc/passwd")
