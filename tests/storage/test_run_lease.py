"""One writer per run on every backend through the real CLI (issue 15): while `darwin run`
writes, `darwin resume` exits 4 naming it; after a SIGKILL the next resume takes over
(file: at once; MongoDB and S3 once the lease's ttl has passed) and the records stay consistent."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any, Callable

from darwin_core.plugins import PluginManager
from run_records import popen_cli, snapshot, storage_keys, wait_for_variants
from support import quick_config


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
