"""One writer per run on every backend through the real CLI (issue 15): while `darwin run`
writes, `darwin resume` exits 4 naming it; after a SIGKILL the next resume takes over
(file: at once; MongoDB and S3 once the lease's ttl has passed) and the records stay consistent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from darwin_core.plugins import PluginManager
from darwin_core.rundir import open_storage
from support import quick_config


def storage_keys(url: str, options: dict[str, Any]) -> dict[str, Any]:
    return {"storage__url": url, **{f"storage__{k}": v for k, v in options.items()}}


def snapshot(plugins: PluginManager, url: str, options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    storage = open_storage(plugins, url, options)
    try:
        return {c: {k: v for k, v, _ in storage.scan(c)} for c in storage.collections()}
    finally:
        storage.close()


def popen_cli(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "darwin_core", *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "200"})


def wait_for_variants(plugins: PluginManager, url: str, options: dict[str, Any], n: int,
                      proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            if len(snapshot(plugins, url, options).get("variants", {})) >= n:
                return
        except Exception:  # noqa: BLE001 - the store may not be created yet
            pass
        time.sleep(0.3)
    raise AssertionError(f"fewer than {n} variants recorded within {timeout}s")


def test_a_live_writer_is_named_and_a_killed_one_taken_over(
        backend: str, storage_url: Callable[[str, str], tuple[str, dict[str, Any]]],
        plugin_manager: PluginManager, quickstart: Path, darwin_cli) -> None:
    url, options = storage_url(backend, "runlease")
    ttl = 3.0
    config = quick_config(quickstart, generations=200, storage__lease_ttl_s=ttl, **storage_keys(url, options))
    run_dir = quickstart / "run"
    proc = popen_cli("run", str(config), "--run-dir", str(run_dir), "-q", cwd=quickstart)
    try:
        wait_for_variants(plugin_manager, url, options, 2, proc)
        refused = darwin_cli("resume", str(run_dir), "-q")
        assert refused.returncode == 4, refused.stderr
        assert f"pid {proc.pid} " in refused.stderr and "since" in refused.stderr
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed = time.monotonic()
        resumed = darwin_cli("resume", str(run_dir), "-q", "--set", "run.generations=1")
        while resumed.returncode == 4 and backend != "file" and time.monotonic() - killed < ttl + 20:
            time.sleep(0.5)  # the dead holder's lease has not expired yet
            resumed = darwin_cli("resume", str(run_dir), "-q", "--set", "run.generations=1")
        assert resumed.returncode == 0, resumed.stderr
        records = snapshot(plugin_manager, url, options)
        assert records["run"]["run"]["status"] == "completed"
        attempts = records["attempts"].values()
        linked = [a["child_id"] for a in attempts if a.get("child_id")]
        assert len(linked) == len(set(linked)) == len(records["variants"]) - 1  # each child once
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
