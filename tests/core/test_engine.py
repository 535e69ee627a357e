"""The loop end to end on the quickstart program: recording, determinism, resume, errors."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from darwin_core import Engine, load_config
from darwin_core.reader import open_run
from darwin_hookspecs import ExecRequest, TaskResult, TaskSpec, hookimpl

from support import quick_config


def archive_rows(run_dir: Path) -> list[dict]:
    view = open_run(run_dir)
    return [
        {"id": v.id, "parent": v.parent_id, "status": v.status, "score": round(v.score, 6),
         "type": v.improvement_type, "snapshot": v.snapshot}
        for v in view.variants
    ]


def test_run_records_every_attempt_and_never_regresses_best(quickstart: Path) -> None:
    config = quick_config(quickstart, generations=3, children_per_generation=3)
    engine = Engine.create(load_config(config), quickstart / "run")
    summary = engine.run_loop()
    view = open_run(quickstart / "run")
    assert summary.status == "completed"
    assert summary.attempts == 9 and len(view.attempts) == 9
    assert all(a.status == "finished" and a.child_id for a in view.attempts)
    assert len(view.variants) == 10  # the root and one child per attempt
    root = view.archive.get("v0000root")
    assert len(root.task_results) == 16  # the root is evaluated on every task
    assert 0.5 < root.score < 0.6  # 9 of 16 tests pass initially
    assert summary.best_score >= root.score
    best = view.archive.best
    assert best is not None and best.score == max(
        v.score for v in view.variants if v.status == "accepted" and v.stage_reached == view.archive.last_stage
    )
    for variant in view.variants[1:]:
        assert variant.patch_ref and variant.target is not None
        assert variant.target.kind in ("failing_task", "explore")
        assert variant.target.task_id in root.failing_tasks or variant.target.kind == "explore"
        patch = view.store.get_blob(variant.patch_ref).decode()
        assert patch.startswith("diff --git a/textstats.py")


def test_same_seed_gives_the_same_archive(tmp_path: Path, quickstart: Path) -> None:
    config = quick_config(quickstart, generations=2, children_per_generation=3)
    Engine.create(load_config(config), tmp_path / "a").run_loop()
    Engine.create(load_config(config), tmp_path / "b").run_loop()
    assert archive_rows(tmp_path / "a") == archive_rows(tmp_path / "b")


def test_stage_threshold_stops_weak_children_early(quickstart: Path) -> None:
    text = quick_config(quickstart, generations=2, children_per_generation=4).read_text()
    text += "[[evaluation.stages]]\ntasks = 3\nthreshold = 1.0\n[[evaluation.stages]]\ntasks = \"all\"\n"
    (quickstart / "darwin.toml").write_text(text)
    Engine.create(load_config(quickstart / "darwin.toml"), quickstart / "run").run_loop()
    children = open_run(quickstart / "run").variants[1:]
    early = [v for v in children if v.stage_reached == 0]
    full = [v for v in children if v.stage_reached == 1]
    assert early, "a child failing its targeted task cannot clear a threshold of 1.0"
    assert all(len(v.task_results) == 3 for v in early)
    assert all(len(v.task_results) == 16 for v in full)
    # partial evaluations never look better than they are: unevaluated tasks count as 0
    assert all(v.score <= 3 / 16 for v in early)


def test_quickstart_with_stop_at_score_repairs_the_program(quickstart: Path, darwin_cli) -> None:
    config = quick_config(quickstart, generations=40, children_per_generation=4, stop_at_score=1.0,
                          selection__name="best")
    result = darwin_cli("run", str(config), "--run-dir", str(quickstart / "run"), "-q")
    assert result.returncode == 0, result.stderr
    rows = json.loads(darwin_cli("archive", str(quickstart / "run"), "--json").stdout)
    assert {"id", "parent_id", "generation", "status", "score"} <= set(rows[0])
    best = max(r["score"] for r in rows)
    assert best == 1.0, f"best {best} after {len(rows)} variants"
    status = json.loads(darwin_cli("status", str(quickstart / "run"), "--json").stdout)
    assert status["status"] == "completed" and status["best_score"] == 1.0


class _Boom:
    """A benchmark plugin that crashes on every child (the root is evaluated by another)."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def darwin_register_benchmarks(self, registry):
        outer = self

        class Crashing:
            mode = "program"

            def tasks(self):
                return [TaskSpec(id="t1"), TaskSpec(id="t2")]

            def evaluate(self, variant_dir, tasks, sandbox):
                outer.calls += 1
                if outer.calls > 1:
                    raise RuntimeError("benchmark exploded")
                run = sandbox.run(ExecRequest(argv=["python", "-c", "print(1)"], workdir=variant_dir))
                return [TaskResult(t.id, run.exit_code == 0, 0.5) for t in tasks]

        registry.add("crashing", lambda o, c: Crashing())


def test_crashing_benchmark_is_recorded_and_the_run_goes_on(quickstart: Path) -> None:
    config = quick_config(quickstart, generations=2, children_per_generation=2,
                          benchmark__name="crashing", executor__max_workers=1)
    text = config.read_text().replace('path = "benchmark/tasks.toml"\n', "")
    config.write_text(text)
    engine = Engine.create(load_config(config), quickstart / "run", extra_plugins=[_Boom()])
    summary = engine.run_loop()
    assert summary.status == "completed" and summary.attempts == 4
    children = open_run(quickstart / "run").variants[1:]
    assert len(children) == 4
    assert all(v.status == "error" and "benchmark exploded" in v.reason for v in children)


class _GarbageGenerator:
    @hookimpl
    def darwin_register_generators(self, registry):
        class Garbage:
            def propose(self, context):
                raise ValueError("model returned garbage: '{{{'")

        registry.add("garbage", lambda o, c: Garbage())


def test_generator_failure_is_recorded_as_error(quickstart: Path) -> None:
    config = quick_config(quickstart, generations=1, children_per_generation=2, generator__name="garbage")
    engine = Engine.create(load_config(config), quickstart / "run", extra_plugins=[_GarbageGenerator()])
    assert engine.run_loop().status == "completed"
    children = open_run(quickstart / "run").variants[1:]
    assert [v.status for v in children] == ["error", "error"]
    assert all("garbage" in v.reason for v in children)


# ------------------------------------------------------------------------ kill -9 and resume


def _stored(run_dir: Path, collection: str) -> dict[str, tuple[dict, str]]:
    """``{key: (value, version)}`` of a collection of the run's file store ({} before it exists)."""
    from darwin_hookspecs import StorageError
    from darwin_plugins.file_storage import FileStorage

    try:
        storage = FileStorage(run_dir / "store", must_exist=True)
    except StorageError:
        return {}
    try:
        return {key: (value, version) for key, value, version in storage.scan(collection)}
    finally:
        storage.close()


def test_sigkill_then_resume_loses_nothing_and_redoes_nothing(quickstart: Path, darwin_cli) -> None:
    config = quick_config(quickstart, generations=12, children_per_generation=3)
    run_dir = quickstart / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "darwin_core", "run", str(config), "--run-dir", str(run_dir), "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while len(_stored(run_dir, "variants")) < 8 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(_stored(run_dir, "variants")) >= 8, "the run did not get far enough to be killed mid-way"

    before = _stored(run_dir, "variants")
    attempts_before = {key: value for key, (value, _) in _stored(run_dir, "attempts").items()}
    in_flight = {k for k, a in attempts_before.items() if a["status"] == "running"}

    result = darwin_cli("resume", str(run_dir), "-q")
    assert result.returncode == 0, result.stderr

    after = _stored(run_dir, "variants")
    for name, data in before.items():  # nothing recorded is lost or rewritten (same version)
        assert after[name] == data
    view = open_run(run_dir)
    assert view.run is not None and view.run.status == "completed"
    attempts = {a.id: a for a in view.attempts}
    # every planned attempt ran exactly once: one child per finished attempt, none duplicated
    children = [v for v in view.variants if v.parent_id is not None]
    assert len({v.attempt_id for v in children}) == len(children)
    finished = [a for a in attempts.values() if a.status == "finished"]
    assert {a.child_id for a in finished} == {v.id for v in children}
    # attempts in flight at the kill: their child was recorded, or they were retried once
    for attempt_id in in_flight:
        attempt = attempts[attempt_id]
        if attempt.status == "finished":
            assert f"v{attempt_id[1:]}" in after
        else:
            assert attempt.status == "interrupted"
            retry = attempts[f"{attempt_id}r1"]
            assert retry.retry_of == attempt_id and retry.status == "finished"
            assert retry.metadata["sibling_index"] == attempt.metadata["sibling_index"]
    assert sum(1 for a in attempts.values() if a.retry_of is None) == 36
    # the resumed planner gave every attempt the sibling index the records imply
    counts: dict[str, int] = {}
    for attempt in sorted((a for a in attempts.values() if a.retry_of is None),
                          key=lambda a: (a.generation, a.index)):
        assert attempt.metadata["sibling_index"] == counts.get(attempt.parent_id, 0), attempt.id
        counts[attempt.parent_id] = counts.get(attempt.parent_id, 0) + 1


# ------------------------------------------------------------------------------ bad input


def test_corrupt_record_gives_a_clear_error_and_changes_nothing(quickstart: Path, darwin_cli) -> None:
    config = quick_config(quickstart, generations=1, children_per_generation=2)
    run_dir = quickstart / "run"
    assert darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q").returncode == 0
    db = run_dir / "store" / "darwin.sqlite3"
    with sqlite3.connect(db) as conn:  # damage the record behind the store's back
        conn.execute("UPDATE records SET value = ? WHERE collection = 'variants' AND key = 'v0001a000'",
                     ('{"id": "v0001a000", "truncated',))
    conn.close()
    snapshot = _dump(db)
    for command in (["status", str(run_dir)], ["resume", str(run_dir), "-q"], ["archive", str(run_dir)]):
        result = darwin_cli(*command)
        assert result.returncode == 4, (command, result.stdout, result.stderr)
        assert "variants/v0001a000 is corrupt" in result.stderr
        assert "fix:" in result.stderr and "Traceback" not in result.stderr
    assert snapshot == _dump(db)


def _dump(db: Path) -> list[tuple]:
    """Every row of the store, as stored."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT 'r', collection, key, value, version FROM records UNION ALL "
                            "SELECT 'b', key, '', hex(data), '' FROM blobs ORDER BY 1, 2, 3").fetchall()
    conn.close()
    return rows


def test_bad_config_names_file_key_and_fix(quickstart: Path, darwin_cli) -> None:
    config = quick_config(quickstart, generatons=3)
    result = darwin_cli("run", str(config), "--run-dir", str(quickstart / "run"))
    assert result.returncode == 2
    assert str(config) in result.stderr and "run.generatons" in result.stderr
    assert "allowed keys" in result.stderr and "generations" in result.stderr
    assert not (quickstart / "run" / "run.json").exists()


def test_bad_backend_option_is_named(quickstart: Path, darwin_cli) -> None:
    config = quick_config(quickstart, generator__familes=["comparison"])
    result = darwin_cli("run", str(config), "--run-dir", str(quickstart / "run"))
    assert result.returncode == 2
    assert "[generator].familes" in result.stderr and "allowed keys" in result.stderr


def test_unknown_backend_lists_the_available_ones(quickstart: Path, darwin_cli) -> None:
    config = quick_config(quickstart, sandbox__name="firecracker")
    result = darwin_cli("run", str(config), "--run-dir", str(quickstart / "run"))
    assert result.returncode == 2
    assert "sandbox backend 'firecracker' is not available (plugin may not be installed)" in result.stderr
    assert "local" in result.stderr
    assert not (quickstart / "run" / "run.json").exists()  # nothing half-created to resume


def test_invalid_toml_is_reported(tmp_path: Path, darwin_cli) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[run\nname = 1\n")
    result = darwin_cli("run", str(path))
    assert result.returncode == 2 and "not valid TOML" in result.stderr


def test_resume_of_a_non_run_directory_is_a_clear_error(tmp_path: Path, darwin_cli) -> None:
    result = darwin_cli("resume", str(tmp_path))
    assert result.returncode == 2 and "not a Darwin run directory" in result.stderr


def test_existing_run_dir_is_not_overwritten(quickstart: Path, darwin_cli) -> None:
    config = quick_config(quickstart, generations=1, children_per_generation=1)
    assert darwin_cli("run", str(config), "--run-dir", str(quickstart / "run"), "-q").returncode == 0
    pointer = (quickstart / "run" / "run.json").read_bytes()
    again = darwin_cli("run", str(config), "--run-dir", str(quickstart / "run"), "-q")
    assert again.returncode == 2 and "already holds a run" in again.stderr
    assert (quickstart / "run" / "run.json").read_bytes() == pointer


@pytest.mark.parametrize("policy", ["keep_all", "keep_better"])
def test_archive_policies(quickstart: Path, policy: str) -> None:
    # statement deletions in a uniform order (sharpness 0: not only the failing code's, which the
    # default order tries first): most children regress, so keep_better has something to reject
    config = quick_config(quickstart, generations=3, children_per_generation=3, archive_policy=policy,
                          keep_better_margin=0.0, generator__families=["delete"], generator__sharpness=0)
    Engine.create(load_config(config), quickstart / "run").run_loop()
    view = open_run(quickstart / "run")
    root = view.archive.get("v0000root")
    evaluated = [v for v in view.variants[1:] if v.status in ("accepted", "rejected")]
    if policy == "keep_all":
        assert all(v.status == "accepted" for v in evaluated)
    else:
        assert all((v.status == "accepted") == (v.score >= root.score) for v in evaluated)
        assert any(v.status == "rejected" for v in evaluated)
