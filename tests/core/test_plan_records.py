"""The attempt record format: planned attempts held by their generation's record, each attempt's
own record written from its first change of state; runs of the format before (a record per
planned attempt) open and resume the same."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from darwin_core import Engine, config_from_dict
from darwin_core.reader import open_run
from darwin_hookspecs import Proposal, TaskResult, TaskSpec, hookimpl


class _NoOps:
    """A generator writing one file and a benchmark passing every task, all in process;
    ``stop_after`` finished attempts, the run is interrupted (as by Ctrl-C)."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.stop_after, self.finished = stop_after, 0

    @hookimpl
    def darwin_register_generators(self, registry):
        class Touch:
            def propose(self, context):
                return Proposal(changes={"counter.txt": f"{context.attempt_id}\n"}, improvement_type="noop")

        registry.add("noop", lambda o, c: Touch())

    @hookimpl
    def darwin_register_benchmarks(self, registry):
        class Constant:
            mode = "program"

            def tasks(self):
                return [TaskSpec(id=f"t{i}") for i in range(3)]

            def evaluate(self, variant_dir, tasks, sandbox):
                return [TaskResult(t.id, True, 1.0) for t in tasks]

        registry.add("constant", lambda o, c: Constant())

    @hookimpl
    def darwin_attempt_finished(self, run, attempt, child):
        self.finished += 1
        if self.stop_after is not None and self.finished >= self.stop_after:
            raise KeyboardInterrupt


def _config(tmp_path: Path) -> dict:
    program = tmp_path / "program"
    program.mkdir(exist_ok=True)
    (program / "counter.txt").write_text("0\n")
    return {"run": {"name": "fmt", "initial": str(program), "children_per_generation": 4, "generations": 3,
                    "seed": 7},
            "generator": {"name": "noop"}, "benchmark": {"name": "constant"},
            "executor": {"name": "local", "max_workers": 1}, "storage": {"fsync": False}}


def _rows(run_dir: Path, collection: str) -> dict[str, str]:
    conn = sqlite3.connect(run_dir / "store" / "darwin.sqlite3")
    try:
        return dict(conn.execute("SELECT key, value FROM records WHERE collection = ?", (collection,)))
    finally:
        conn.close()


def _to_old_format(run_dir: Path) -> int:
    """Rewrite a run as the format before wrote it: a record per planned attempt, no plan in
    the generation records; the number of attempt records added."""
    import json

    conn = sqlite3.connect(run_dir / "store" / "darwin.sqlite3")
    added = 0
    with conn:
        own = {k for (k,) in conn.execute("SELECT key FROM records WHERE collection = 'attempts'")}
        for key, text in list(conn.execute("SELECT key, value FROM records WHERE collection = 'generations'")):
            record = json.loads(text)
            for entry in record.pop("planned", []):
                if entry["id"] not in own:
                    conn.execute("INSERT INTO records VALUES ('attempts', ?, ?, ?)",
                                 (entry["id"], json.dumps(entry, sort_keys=True), f"old{added}"))
                    added += 1
            conn.execute("UPDATE records SET value = ? WHERE collection = 'generations' AND key = ?",
                         (json.dumps(record, sort_keys=True), key))
    conn.close()
    return added


def _interrupted_run(tmp_path: Path) -> Path:
    run_dir = tmp_path / "run"
    engine = Engine.create(config_from_dict(_config(tmp_path)), run_dir, extra_plugins=[_NoOps(stop_after=6)])
    with pytest.raises(KeyboardInterrupt):
        engine.run_loop()
    return run_dir


def _attempts(run_dir: Path) -> list[tuple]:
    return [(a.id, a.status, a.parent_id, a.seed, a.retry_of, a.child_id) for a in open_run(run_dir).attempts]


def _resume(run_dir: Path) -> None:
    summary = Engine.open(run_dir, extra_plugins=[_NoOps()]).run_loop()
    assert summary.status == "completed"


def test_a_planned_attempt_is_recorded_by_its_generation_until_it_starts(tmp_path: Path) -> None:
    run_dir = _interrupted_run(tmp_path)
    attempts = _attempts(run_dir)
    planned = [a for a in attempts if a[1] == "planned"]
    own = _rows(run_dir, "attempts")
    assert planned, attempts  # the interrupted generation left attempts not started
    assert not any(a[0] in own for a in planned)  # no record of their own: held by the plan
    assert all(a[0] in own for a in attempts if a[1] != "planned")
    done = [r for r in _rows(run_dir, "generations").values() if '"status": "done"' in r or '"status":"done"' in r]
    assert done and not any('"planned"' in r for r in done)  # a generation done keeps no plan


def test_a_run_of_the_old_format_opens_and_resumes_as_the_new_one(tmp_path: Path) -> None:
    new = _interrupted_run(tmp_path)
    old = tmp_path / "old-run"
    shutil.copytree(new, old, ignore=shutil.ignore_patterns("scratch"))  # being cleared behind
    assert _to_old_format(old) > 0  # it had planned attempts, now each with its own record
    assert '"planned"' not in "".join(_rows(old, "generations").values())
    assert _attempts(old) == _attempts(new)  # both formats read the same
    _resume(new)
    _resume(old)
    assert _attempts(old) == _attempts(new)
    statuses = {a[0]: a[1] for a in _attempts(old)}
    retried = {a[4] for a in _attempts(old) if a[4]}
    assert retried and all(s == "finished" or (s == "interrupted" and k in retried) for k, s in statuses.items())
    view_old, view_new = open_run(old), open_run(new)
    assert [(v.id, v.parent_id, v.status, v.score) for v in view_old.variants] == \
           [(v.id, v.parent_id, v.status, v.score) for v in view_new.variants]
    assert len(view_new.variants) == 1 + sum(1 for a in _attempts(new) if a[1] == "finished")
    # once resumed, the old run's generations are done and carry no plan either
    assert all('"planned"' not in r for r in _rows(old, "generations").values())

