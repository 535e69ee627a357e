"""Nothing of a warm fork server outlives its sandbox: not its process, not its cgroups, not its
root on ``/dev/shm``, whether the sandbox is closed by a finished run, dropped without
``close()``, or its process exits without closing it. And a server started from a thread that
then ends keeps running (the kernel's parent-death signal follows the starting *thread*)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from pathlib import Path

from darwin_core.config import load_config
from darwin_core.engine import Engine
from darwin_plugins.local_sandbox import STAGE_ROOT, CgroupV1
from support import quick_config

from .conftest import make_sandbox, run_python, wait_gone


def leftovers(pid: int) -> list[str]:
    """Cgroups and ``/dev/shm`` entries the local sandbox of process ``pid`` created."""
    own = f"darwin-local-{pid}-*"
    probe = CgroupV1.available()
    groups = [str(p) for parent in (probe.parents.values() if probe else []) for p in parent.glob(own)]
    return groups + [str(p) for p in STAGE_ROOT.glob(own)]


def servers(sandbox: object) -> list[object]:
    return [s for idle in sandbox.warm._idle.values() for s in idle]  # type: ignore[attr-defined]


def ping(sandbox: object, workdir: Path) -> None:
    result = run_python(sandbox, workdir, "print('ok')")
    assert result.exit_code == 0 and result.stdout.strip() == "ok", result


def test_a_finished_run_leaves_no_warm_server_cgroup_or_stage(quickstart: Path) -> None:
    before = set(leftovers(os.getpid()))
    config = quick_config(quickstart, generations=2, sandbox__isolation="bwrap")
    engine = Engine.create(load_config(config), quickstart / "run")
    summary = engine.run_loop()
    assert summary.status == "completed" and summary.attempts > 0
    assert engine.handle.run.metadata["sandbox_guarantees"]["warm"] is True  # the default, in use
    assert set(leftovers(os.getpid())) - before == set()


def test_a_finished_darwin_run_process_leaves_nothing(quickstart: Path) -> None:
    config = quick_config(quickstart, generations=2, sandbox__isolation="bwrap")
    proc = subprocess.Popen([sys.executable, "-m", "darwin_core", "run", str(config), "--run-dir",
                             str(quickstart / "run"), "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    assert leftovers(proc.pid) == []


def test_a_sandbox_dropped_without_close_is_cleaned(tmp_path: Path) -> None:
    sandbox = make_sandbox("local-warm", run_id="test-dropped")
    ping(sandbox, tmp_path / "w")
    [server] = servers(sandbox)
    root, group, pid = server.root, server.group, server.proc.pid  # type: ignore[attr-defined]
    assert root.exists() and group is not None and all(d.exists() for d in group.dirs.values())
    from . import conftest
    conftest._created.remove(sandbox)  # the session's leak check must not close it for us
    del sandbox, server
    gc.collect()
    assert not root.exists()
    assert not [d for d in group.dirs.values() if d.exists()]
    assert wait_gone(lambda: [pid] if Path(f"/proc/{pid}").exists() and
                     Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z" else []) == []


EXITS_WITHOUT_CLOSE = """
import pathlib, sys
from darwin_hookspecs import ExecRequest
from darwin_plugins.local_sandbox import LocalSandbox, LocalSandboxOptions
sandbox = LocalSandbox(LocalSandboxOptions(isolation="bwrap"))
work = pathlib.Path(sys.argv[1])
work.chmod(0o777)
result = sandbox.run(ExecRequest(argv=["python", "-c", "print('ok')"], workdir=work, timeout_s=60))
print(result.stdout.strip(), len(list(pathlib.Path("/dev/shm").glob("darwin-local-*-warm-*"))) > 0, flush=True)
"""


def test_a_process_that_exits_without_closing_leaves_nothing(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", EXITS_WITHOUT_CLOSE, str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and out.split() == ["ok", "True"], err
    assert leftovers(proc.pid) == []


def test_a_server_warmed_by_a_thread_that_ended_keeps_serving(tmp_path: Path) -> None:
    sandbox = make_sandbox("local-warm", run_id="test-thread")
    try:
        worker = threading.Thread(target=ping, args=(sandbox, tmp_path / "t"))
        worker.start()
        worker.join()
        [server] = servers(sandbox)
        assert server.alive()  # type: ignore[attr-defined]
        created = sandbox.warm.created
        ping(sandbox, tmp_path / "m")
        assert sandbox.warm.created == created  # served by the thread's server, not a new one
    finally:
        sandbox.close()
    assert not server.root.exists()  # type: ignore[attr-defined]
