"""Fault injection through the real CLI (issue 15): a disk that fills up mid-run and a store
that turns read-only are infrastructure errors (exit 4 naming the path, the attempt left for
retry, never a child's verdict); SIGKILL at random moments and two racing resumes leave the
run's records consistent."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from darwin_core.reader import open_run

from support import quick_config


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB tmpfs (we run as root in the suite's container)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "darwin_core", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _no_infra_verdicts(run_dir: Path) -> None:
    """No child was judged on the machine's failure; every finished attempt has its child."""
    view = open_run(run_dir)
    for variant in view.variants:
        reason = str(variant.metadata) + str(getattr(variant, "error", ""))
        assert "No space left" not in reason and "Read-only" not in reason, variant.id
    ids = {v.id for v in view.variants}
    for attempt in view.attempts:
        if attempt.status == "finished":
            assert "v" + attempt.id[1:] in ids, attempt.id


def test_a_full_disk_stops_the_run_with_exit_4_and_resume_continues(
        quickstart: Path, small_disk: Path, darwin_cli) -> None:
    config = quick_config(quickstart, generations=10000)
    run_dir = small_disk / "run"
    proc = _spawn("run", str(config), "--run-dir", str(run_dir), "-q")
    deadline = time.monotonic() + 60
    while len(open_run(run_dir).variants if (run_dir / "run.json").exists() else []) < 3:
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    filler = small_disk / "filler"
    with open(filler, "wb") as fh:  # fill the disk to the last byte
        try:
            while True:
                fh.write(b"\0" * (1 << 16))
                fh.flush()
        except OSError:
            pass
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 4, err
    assert "No space left on device" in err or "no space left" in err.lower(), err
    assert "darwin resume" in err
    filler.unlink()
    _no_infra_verdicts(run_dir)
    resumed = darwin_cli("resume", str(run_dir), "-q", "--set", "run.generations=1", "--set", "run.max_attempts=1")
    assert resumed.returncode == 0, resumed.stderr
    _no_infra_verdicts(run_dir)


def test_a_read_only_store_is_exit_4_at_once_not_an_outage(quickstart: Path, small_disk: Path, darwin_cli) -> None:
    config = quick_config(quickstart, generations=1, storage__retry_for_s=60)
    run_dir = small_disk / "run"
    assert darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q").returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    started = time.monotonic()
    result = darwin_cli("resume", str(run_dir), "-q", "--set", "run.generations=2")
    assert result.returncode == 4, result.stderr
    assert str(run_dir) in result.stderr and "unexpected error" not in result.stderr
    assert time.monotonic() - started < 30  # not retried as an unreachable store for retry_for_s
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert darwin_cli("resume", str(run_dir), "-q", "--set", "run.generations=2").returncode == 0


def test_sigkill_at_random_moments_then_resume_keeps_the_records_consistent(quickstart: Path, darwin_cli) -> None:
    """Kills at random moments (start-up, mid-attempt, mid-write), each followed by a resume that
    is killed in turn; a final resume completes, and every attempt slot is recorded once."""
    config = quick_config(quickstart, generations=8, children_per_generation=3, selection__name="random")
    run_dir = quickstart / "run"
    rng = random.Random(15)
    kills = 0
    proc = _spawn("run", str(config), "--run-dir", str(run_dir), "-q")
    for _ in range(6):
        time.sleep(rng.uniform(0.3, 1.5))
        if proc.poll() is not None:
            break
        proc.kill()
        proc.wait()
        kills += 1
        if not (run_dir / "run.json").exists():
            proc = _spawn("run", str(config), "--run-dir", str(run_dir), "-q")
            continue
        proc = _spawn("resume", str(run_dir), "-q")
    proc.communicate(timeout=300)
    final = darwin_cli("resume", str(run_dir), "-q")
    assert final.returncode == 0, final.stderr
    assert kills >= 3
    view = open_run(run_dir)
    assert view.run.status == "completed"
    slots: dict[tuple[int, int], list[str]] = {}
    for attempt in view.attempts:
        slots.setdefault((attempt.generation, attempt.index), []).append(attempt.status)
    for slot, statuses in slots.items():  # one finished attempt per slot, retries only after an interrupt
        assert statuses.count("finished") + statuses.count("skipped") <= 1, (slot, statuses)
    assert not any(a.status in ("running", "planned") for a in view.attempts)
    assert len({v.id for v in view.variants}) == len(view.variants)
    verify = darwin_cli("verify", str(run_dir))
    assert verify.returncode == 0, verify.stderr


def test_two_racing_resumes_one_wins_the_other_names_it(quickstart: Path, darwin_cli) -> None:
    config = quick_config(quickstart, generations=1)
    run_dir = quickstart / "run"
    assert darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q").returncode == 0
    procs = [_spawn("resume", str(run_dir), "-q", "--set", "run.generations=3") for _ in range(2)]
    outcomes = sorted((p.wait(timeout=300), p.communicate()[1]) for p in procs)
    assert [code for code, _ in outcomes] in ([0, 0], [0, 4]), outcomes
    if outcomes[1][0] == 4:
        assert "only one writer per run" in outcomes[1][1]
    view = open_run(run_dir)
    assert view.run.status == "completed"
    assert not any(a.id.endswith("r1") for a in view.attempts)  # no slot done twice
    shutil.rmtree(run_dir / "scratch", ignore_errors=True)
