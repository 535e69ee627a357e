"""Issue 15 item 7-8, through the real CLI: every documented exit code a run can end with, and
the sandbox's guarantees (refused without isolation unless waived)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from darwin_core.reader import open_run

from support import REPO, quick_config


def test_help_and_readme_document_every_exit_code(darwin_cli) -> None:
    shown = " ".join(darwin_cli("--help").stdout.split())
    readme = (REPO / "README.md").read_text()
    for code in ("0", "1", "2", "3", "4", "5", "6", "130", "143"):
        assert f" {code} " in shown, code
        assert f"| {code} |" in readme, code


def test_wall_time_budget_stops_a_mutation_run_with_exit_5(quickstart: Path, darwin_cli) -> None:
    config = quick_config(quickstart, generations=10000, budget__wall_time_s=1)
    started = time.monotonic()
    result = darwin_cli("run", str(config), "--run-dir", str(quickstart / "run"), "-q", timeout=120)
    assert result.returncode == 5, result.stderr
    assert time.monotonic() - started < 60
    run = open_run(quickstart / "run").run
    assert run.status == "stopped" and "budget.wall_time_s" in run.metadata["stop_reason"]


def test_sigterm_leaves_the_run_interrupted_with_exit_143(quickstart: Path) -> None:
    config = quick_config(quickstart, generations=10000)
    run_dir = quickstart / "run"
    proc = subprocess.Popen([sys.executable, "-m", "darwin_core", "run", str(config), "--run-dir", str(run_dir),
                             "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not ((run_dir / "run.json").exists() and open_run(run_dir).attempts):
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    run = open_run(run_dir).run
    assert run.status == "interrupted" and "SIGTERM" in run.metadata["stop_reason"]


def test_a_run_failing_at_start_is_not_left_running_and_says_how_to_recover(
        quickstart: Path, darwin_cli, tmp_path: Path) -> None:
    config = quick_config(quickstart, generations=1)
    run_dir = quickstart / "run"
    proc = subprocess.Popen([sys.executable, "-m", "darwin_core", "run", str(config), "--run-dir", str(run_dir),
                             "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (run_dir / "run.json").exists():  # killed before its initial variant is recorded
        assert proc.poll() is None
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    assert not open_run(run_dir).variants
    refused = darwin_cli("resume", str(run_dir), "-q", env={"PATH": _path_without_bwrap(tmp_path)})
    assert refused.returncode == 6, refused.stderr  # the sandbox refuses at start
    assert open_run(run_dir).run.status == "failed"
    (quickstart / "program").rename(quickstart / "moved")
    missing = darwin_cli("resume", str(run_dir), "-q")
    assert missing.returncode == 2, missing.stderr
    assert f"darwin resume {run_dir} --set run.initial=PATH" in " ".join(missing.stderr.split())
    assert open_run(run_dir).run.status == "failed"
    fixed = darwin_cli("resume", str(run_dir), "-q", "--set", f"run.initial={quickstart / 'moved'}")
    assert fixed.returncode == 0, fixed.stderr
    assert open_run(run_dir).run.status == "completed"


def _path_without_bwrap(tmp: Path) -> str:
    """A PATH with every directory of this one, minus bubblewrap (links to everything else)."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        for entry in Path(directory).glob("*") if Path(directory).is_dir() else ():
            target = bin_dir / entry.name
            if entry.name != "bwrap" and not target.exists():
                target.symlink_to(entry)
    assert shutil.which("bwrap", path=str(bin_dir)) is None
    return str(bin_dir)


def test_no_bubblewrap_is_exit_6_unless_waived_and_status_records_the_guarantees(
        quickstart: Path, darwin_cli, tmp_path: Path) -> None:
    env = {"PATH": _path_without_bwrap(tmp_path)}
    config = quick_config(quickstart, generations=1)
    refused = darwin_cli("run", str(config), "--run-dir", str(quickstart / "refused"), "-q", env=env)
    assert refused.returncode == 6, refused.stderr
    assert "apt-get install bubblewrap" in refused.stderr and "allow_unisolated = true" in refused.stderr
    waived = quick_config(quickstart, generations=1, sandbox__allow_unisolated=True)
    result = darwin_cli("run", str(waived), "--run-dir", str(quickstart / "run"), "-q", env=env)
    assert result.returncode == 0, result.stderr
    assert "not guaranteed: " in result.stderr and "network_isolated" in result.stderr.split("not guaranteed:")[1]
    status = json.loads(darwin_cli("status", str(quickstart / "run"), "--json").stdout)
    assert status["sandbox_guarantees"]["network_isolated"] is False
    if shutil.which("bwrap"):
        isolated = darwin_cli("run", str(config), "--run-dir", str(quickstart / "iso"), "-q")
        assert isolated.returncode == 0, isolated.stderr
        assert json.loads(darwin_cli("status", str(quickstart / "iso"), "--json").stdout)[
            "sandbox_guarantees"]["network_isolated"] is True
