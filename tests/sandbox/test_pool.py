"""Container pool behaviour on the real engines: reuse with a clean working directory, discard
and replace after a timeout, an OOM kill or tampering, the bound, labels, reaping after the
orchestrator is killed with SIGKILL, and per-request images."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from darwin_hookspecs import ExecRequest, SandboxError

from .conftest import make_sandbox, wait_gone

ENGINES = ["docker", "podman"]


def workdir(tmp_path: Path, name: str, files: dict[str, str] | None = None) -> Path:
    path = tmp_path / name
    path.mkdir()
    for rel, text in (files or {}).items():
        (path / rel).write_text(text)
    return path


def py(code: str, wd: Path, **kw: Any) -> ExecRequest:
    return ExecRequest(argv=["python", "-c", code], workdir=wd, **{"timeout_s": 60, **kw})


def pool_containers(sandbox: Any) -> list[str]:
    return sandbox.engine.list_ids(**{"darwin.pool": sandbox.pool_id})


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


def test_reuse_gives_a_clean_working_directory(engine: str, tmp_path: Path) -> None:
    sandbox = make_sandbox(engine, pool_size=1)
    try:
        first = workdir(tmp_path, "a", {"mine.txt": "a"})
        result = sandbox.run(py(
            "import os\n"
            "open('/tmp/left-in-tmp', 'w').write('x'); open('/dev/shm/left-in-shm', 'w').write('x')\n"
            "open('made.txt', 'w').write('made')\n"
            "print(os.getuid(), sorted(os.listdir('.')))", first))
        assert result.exit_code == 0, result
        assert result.stdout.split()[0] == "1000"  # non-root
        assert (first / "made.txt").read_text() == "made"
        second = workdir(tmp_path, "b", {"other.txt": "b"})
        result = sandbox.run(py(
            "import os; print(sorted(os.listdir('.')), os.listdir('/tmp'), os.listdir('/dev/shm'))",
            second))
        assert result.exit_code == 0, result
        assert result.stdout.strip() == "['other.txt'] [] []"
        assert sandbox.pool.created == 1 and len(pool_containers(sandbox)) == 1
    finally:
        sandbox.close()
    assert pool_containers(sandbox) == []


@pytest.mark.parametrize("case", ["timeout", "oom", "supervisor_killed"])
def test_bad_runs_discard_and_replace_the_container(engine: str, case: str, tmp_path: Path) -> None:
    sandbox = make_sandbox(engine, pool_size=1)
    try:
        wd = workdir(tmp_path, "w")
        assert sandbox.run(py("print(1)", wd)).exit_code == 0
        first = pool_containers(sandbox)
        request = {
            "timeout": py("import time; time.sleep(60)", wd, timeout_s=1),
            "oom": py("x = bytearray(1 << 30)", wd, memory_mb=128),
            "supervisor_killed": py("import os, signal; os.kill(os.getppid(), signal.SIGKILL)", wd),
        }[case]
        result = sandbox.run(request)
        assert result.killed_reason == {"timeout": "timeout", "oom": "oom",
                                        "supervisor_killed": "signal"}[case], result
        assert sandbox.pool.discarded == 1
        again = sandbox.run(py("print('fresh')", wd))
        assert again.stdout.strip() == "fresh", again
        assert wait_gone(lambda: [c for c in pool_containers(sandbox) if c in first], 30) == []
    finally:
        sandbox.close()


def test_pool_is_bounded_under_concurrency(engine: str, tmp_path: Path) -> None:
    sandbox = make_sandbox(engine, pool_size=2)
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(len(pool_containers(sandbox)))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        results: list[Any] = [None] * 5
        dirs = [workdir(tmp_path, f"w{i}") for i in range(5)]

        def one(i: int) -> None:
            results[i] = sandbox.run(py(f"import time; time.sleep(0.5); print({i})", dirs[i]))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert [r.stdout.strip() for r in results] == [str(i) for i in range(5)]
        assert sandbox.pool.created == 2
    finally:
        stop.set()
        watcher.join()
        sandbox.close()
    assert seen and max(seen) <= 2


def test_containers_are_labelled_and_locked_down(engine: str, tmp_path: Path) -> None:
    sandbox = make_sandbox(engine, run_id="run-label-test", pool_size=1)
    try:
        wd = workdir(tmp_path, "w")
        probe = (
            "import os\n"
            "st = open('/proc/self/status').read()\n"
            "cap = [l.split()[1] for l in st.splitlines() if l.startswith('CapEff')][0]\n"
            "nnp = [l.split()[1] for l in st.splitlines() if l.startswith('NoNewPrivs')][0]\n"
            "ifaces = sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:])\n"
            "try:\n    open('/etc/x', 'w'); ro = False\nexcept OSError:\n    ro = True\n"
            "print(os.getuid(), cap, nnp, ifaces, ro, sorted(os.environ))\n"
        )
        result = sandbox.run(py(probe, wd, env={"ONLY_THIS": "1"}, network=True))
        assert result.exit_code == 0, result
        assert result.stdout.strip() == (
            "1000 0000000000000000 1 ['lo'] True "
            "['HOME', 'LANG', 'ONLY_THIS', 'PATH', 'PYTHONDONTWRITEBYTECODE']")
        [cid] = pool_containers(sandbox)
        labels = sandbox.engine.api.inspect_container(cid)["Config"]["Labels"]
        assert labels["darwin.run"] == "run-label-test"
        assert labels["darwin.sandbox"] == engine
        g = sandbox.guarantees()
        assert g["network_isolated"] and g["non_root_user"] and g["capabilities_dropped"]
    finally:
        sandbox.close()


ORPHAN = """
import sys, time, pathlib
sys.path[:0] = {paths!r}
from conftest import make_sandbox
from darwin_hookspecs import ExecRequest
sandbox = make_sandbox({engine!r}, run_id="orphan-run", pool_size=2)
wd = pathlib.Path({wd!r})
sandbox.run(ExecRequest(argv=["python", "-c", "print(1)"], workdir=wd, timeout_s=60))
print(sandbox.pool_id, flush=True)
time.sleep(600)
"""


def test_containers_of_a_killed_orchestrator_are_reaped_at_next_start(engine: str, tmp_path: Path) -> None:
    wd = workdir(tmp_path, "w")
    here = Path(__file__).parent
    code = ORPHAN.format(paths=[str(here)], engine=engine, wd=str(wd))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            cwd=here)
    try:
        pool_id = proc.stdout.readline().strip()
        assert pool_id, "the orphan orchestrator did not start"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    sandbox = make_sandbox(engine, pool_size=1)
    try:
        assert sandbox.reaped_at_start >= 1
        assert sandbox.engine.list_ids(**{"darwin.pool": pool_id}) == []
    finally:
        sandbox.close()


def test_per_request_image_and_missing_image(engine: str, tmp_path: Path) -> None:
    sandbox = make_sandbox(engine, pool_size=1)
    try:
        wd = workdir(tmp_path, "w", {"test_one.py": "def test_one():\n    assert 1 + 1 == 2\n"})
        result = sandbox.run(ExecRequest(
            argv=["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py"],
            workdir=wd, timeout_s=120, image="darwin-sandbox-pytest:latest"))
        assert "1 passed" in result.stdout, result
        with pytest.raises(SandboxError, match="not found"):
            sandbox.run(py("print(1)", wd, image="darwin-no-such-image:latest"))
    finally:
        sandbox.close()


def test_a_container_that_looks_tampered_with_is_discarded(engine: str, tmp_path: Path) -> None:
    """A process the run's user cannot kill (started here as root through the engine, as if
    something had escaped the supervisor) makes the container unfit for reuse."""
    sandbox = make_sandbox(engine, pool_size=1)
    try:
        wd = workdir(tmp_path, "w")
        assert sandbox.run(py("print(1)", wd)).exit_code == 0
        [cid] = pool_containers(sandbox)
        exec_id = sandbox.engine.api.exec_create(cid, ["sleep", "1000"], user="0:0")["Id"]
        sandbox.engine.api.exec_start(exec_id, detach=True)
        result = sandbox.run(py("print('still served')", wd))
        assert result.stdout.strip() == "still served"
        assert sandbox.pool.discarded == 1
        assert wait_gone(lambda: [c for c in pool_containers(sandbox) if c == cid], 30) == []
        # PID 1 belongs to another uid: the run can neither kill nor trace it
        probe = sandbox.run(py(
            "import os\ntry:\n    os.kill(1, 9)\nexcept OSError as e:\n    print('kill', e.errno)\n"
            "try:\n    open('/proc/1/mem', 'rb')\nexcept OSError as e:\n    print('mem', e.errno)",
            wd))
        assert probe.stdout.split() == ["kill", "1", "mem", "13"], probe
    finally:
        sandbox.close()
