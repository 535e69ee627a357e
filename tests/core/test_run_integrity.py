"""Issue 15, through the real CLI: one writer per run, portable run dirs, a missing store,
orphans, corrupt ledger/blob/record found by `darwin verify` and refused by `resume`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from darwin_core.reader import open_run

from support import quick_config

DB = "store/darwin.sqlite3"


def _run(darwin_cli, quickstart: Path, name: str = "run", **run: object) -> Path:
    config = quick_config(quickstart, generations=1, **run)
    run_dir = quickstart / name
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
    assert result.returncode == 0, result.stderr
    return run_dir


def _sql(run_dir: Path, statement: str, *args: object) -> None:
    with sqlite3.connect(run_dir / DB) as db:
        db.execute(statement, args)


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "darwin_core", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_running(run_dir: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if (run_dir / "run.json").exists() and open_run(run_dir).attempts:
            return
        time.sleep(0.1)
    raise AssertionError("the run never started an attempt")


def test_a_second_writer_is_refused_naming_the_holder_then_takes_over_after_a_kill(
        quickstart: Path, darwin_cli) -> None:
    config = quick_config(quickstart, generations=500)
    run_dir = quickstart / "run"
    first = _spawn("run", str(config), "--run-dir", str(run_dir), "-q")
    try:
        _wait_running(run_dir, first)
        pointer = (run_dir / "run.json").read_bytes()
        second = darwin_cli("resume", str(run_dir), "-q")
        assert second.returncode == 4, second.stderr
        assert f"pid {first.pid} on host {socket.gethostname()} (darwin run) since " in second.stderr
        again = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
        assert again.returncode in (2, 4) and (run_dir / "run.json").read_bytes() == pointer
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        (run_dir / "scratch" / "g0001a000-left").mkdir(parents=True, exist_ok=True)
        resumed = darwin_cli("resume", str(run_dir), "-q", "--set", "run.generations=1")
        assert resumed.returncode == 0, resumed.stderr  # the file lock died with its holder
        assert open_run(run_dir).run.status == "completed"
        assert not any((run_dir / "scratch").iterdir())  # killed attempts' copies removed
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()


def test_two_runs_into_one_dir_leave_the_winners_pointer(quickstart: Path) -> None:
    config = quick_config(quickstart, generations=1)
    run_dir = quickstart / "run"
    procs = [_spawn("run", str(config), "--run-dir", str(run_dir), "-q") for _ in range(2)]
    codes = sorted(p.wait(timeout=300) for p in procs)
    assert codes[0] == 0 and codes[1] in (2, 4), [p.communicate() for p in procs]
    view = open_run(run_dir)
    assert json.loads((run_dir / "run.json").read_text())["run_id"] == view.run.run_id
    assert view.run.status == "completed"


def test_a_moved_run_dir_resumes_in_place_and_a_missing_store_is_exit_4(quickstart: Path, darwin_cli) -> None:
    run_dir = _run(darwin_cli, quickstart)
    before = len(open_run(run_dir).variants)
    moved = quickstart / "moved"
    shutil.copytree(run_dir, moved, symlinks=True)
    shutil.rmtree(run_dir)
    assert json.loads((moved / "run.json").read_text())["store"] == "store"
    result = darwin_cli("resume", str(moved), "-q", "--set", "run.generations=2")
    assert result.returncode == 0, result.stderr
    assert len(open_run(moved).variants) > before and not run_dir.exists()
    shutil.rmtree(moved / "store")
    missing = darwin_cli("resume", str(moved), "-q", "--set", "run.generations=3")
    assert missing.returncode == 4 and str(moved / "store") in missing.stderr, missing.stderr
    assert not (moved / "store").exists()


def test_an_orphan_stops_resume_before_it_writes(quickstart: Path, darwin_cli) -> None:
    run_dir = _run(darwin_cli, quickstart, archive_policy="keep_all")
    child = next(v for v in open_run(run_dir).variants if v.parent_id)
    _sql(run_dir, "DELETE FROM records WHERE collection = 'variants' AND key = ?", child.parent_id)
    dump = sorted(sqlite3.connect(run_dir / DB).execute("SELECT collection, key, version FROM records"))
    result = darwin_cli("resume", str(run_dir), "-q", "--set", "run.generations=2")
    assert result.returncode == 4, result.stderr
    assert f"variants/{child.parent_id}" in result.stderr
    assert sorted(sqlite3.connect(run_dir / DB).execute("SELECT collection, key, version FROM records")) == dump
    verify = darwin_cli("verify", str(run_dir))
    assert verify.returncode == 4 and f"variants/{child.parent_id}" in verify.stderr


def test_verify_finds_a_replaced_blob_and_a_garbled_record(quickstart: Path, darwin_cli) -> None:
    run_dir = _run(darwin_cli, quickstart)
    clean = darwin_cli("verify", str(run_dir))
    assert clean.returncode == 0 and "no problem found" in clean.stdout, clean.stderr
    keys = [k for (k,) in sqlite3.connect(run_dir / DB).execute("SELECT key FROM blobs ORDER BY key")]
    _sql(run_dir, "UPDATE blobs SET data = (SELECT data FROM blobs WHERE key = ?) WHERE key = ?", keys[0], keys[1])
    _sql(run_dir, "UPDATE records SET value = '{not json' WHERE collection = 'attempts'"
         " AND key = (SELECT min(key) FROM records WHERE collection = 'attempts')")
    result = darwin_cli("verify", str(run_dir))
    assert result.returncode == 4, result.stderr
    assert keys[1] in result.stderr and "attempts/" in result.stderr
    resume = darwin_cli("resume", str(run_dir), "-q", "--set", "run.generations=2")
    assert resume.returncode == 4 and "attempts/" in resume.stderr, resume.stderr


def test_a_garbled_ledger_entry_is_exit_4_never_zero_spend(quickstart: Path, darwin_cli) -> None:
    run_dir = _run(darwin_cli, quickstart)
    entry = {"attempt_id": "g0001a000", "role": "mutate", "model": "m", "provider": "p",
             "input_tokens": 900, "output_tokens": 100, "cost_usd": 0.01, "cached": False, "at": 1.0}
    for key, value in [("00000000000000000001-a", entry), ("00000000000000000002-b", {**entry, "input_tokens": "lots"})]:
        _sql(run_dir, "INSERT INTO records VALUES ('llm_ledger', ?, ?, '1')", key, json.dumps(value))
    status = darwin_cli("status", str(run_dir), "--json")
    assert status.returncode == 4 and "llm_ledger/00000000000000000002-b" in status.stderr, status.stdout
    verify = darwin_cli("verify", str(run_dir))
    assert verify.returncode == 4 and "00000000000000000002-b" in verify.stderr
    _sql(run_dir, "DELETE FROM records WHERE key = '00000000000000000002-b'")
    assert json.loads(darwin_cli("status", str(run_dir), "--json").stdout)["tokens_in"] == 900
