"""Warm start: a new run seeded with the best variants of an earlier run (and its plugins'
``state_*`` collections) begins from the earlier run's best score."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from darwin_core.config import load_config
from darwin_core.engine import Engine
from darwin_core.plugins import PluginManager
from darwin_core.rundir import open_storage
from darwin_core.store import RunStore
from darwin_hookspecs import hookimpl
from support import quick_config


class AttemptCounter:
    """A real plugin keeping state across runs by the ``state_*`` convention."""

    def __init__(self) -> None:
        self.storage: Any = None
        self.seen_before = 0
        self.count = 0

    @hookimpl
    def darwin_run_started(self, run: Any, resumed: bool, services: dict[str, Any]) -> None:
        self.storage = services["storage"]
        try:
            self.seen_before = self.storage.get_record("state_counter", "count")[0]["attempts"]
        except KeyError:  # NotFoundError is a KeyError
            self.seen_before = 0

    @hookimpl
    def darwin_attempt_finished(self, run: Any, attempt: Any, child: Any) -> None:
        self.count += 1

    @hookimpl
    def darwin_run_finished(self, run: Any, summary: Any) -> None:
        total = {"attempts": self.seen_before + self.count}
        try:
            _, version = self.storage.get_record("state_counter", "count")
            self.storage.put_record("state_counter", "count", total, if_version=version)
        except KeyError:
            self.storage.put_record("state_counter", "count", total)


def test_warm_start_begins_from_the_earlier_best(
    quickstart: Path, darwin_app: Callable[..., Any], storage_url: Callable[..., Any],
    plugin_manager: PluginManager,
) -> None:
    earlier_dir = quickstart / "earlier"
    counter = AttemptCounter()
    # greedy until the first improvement (the seeds must differ from the root)
    earlier_config = quick_config(quickstart, generations=8, children_per_generation=4,
                                  selection__name="best", stop_at_score=0.6)
    earlier = Engine.create(load_config(earlier_config), earlier_dir, extra_plugins=[counter])
    summary = earlier.run_loop()
    assert summary.status == "completed" and summary.best_score > summary.initial_score
    top = sorted((v for v in earlier.archive.variants() if v.status == "accepted"), key=lambda v: (-v.score, v.id))[:2]
    finished = sum(a.status == "finished" for a in earlier.attempts.values())
    assert counter.count == finished > 0

    # the new run lives on MongoDB; the earlier one is read from its run directory
    url, _ = storage_url("mongodb", "warm")
    config = quick_config(quickstart, generations=1, children_per_generation=2, name="warm", storage__url=url)
    new_dir = quickstart / "warm"
    done = darwin_app("run", str(config), "--run-dir", str(new_dir), "-q",
                      "--warm-start", str(earlier_dir), "--warm-start-k", "2")
    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r for r in json.loads(darwin_app("archive", str(new_dir), "--json").stdout)}
    seeds = [rows["v0000w000"], rows["v0000w001"]]
    assert [s["status"] for s in seeds] == ["accepted", "accepted"]
    assert [s["score"] for s in seeds] == [v.score for v in top]  # re-evaluated: same benchmark, same scores
    assert all(s["parent_id"] == "v0000root" and s["generation"] == 0 for s in seeds)
    assert all(s["evaluated"] == rows["v0000root"]["evaluated"] > 0 for s in seeds)  # on every task
    status = json.loads(darwin_app("status", str(new_dir), "--json").stdout)
    assert status["best_score"] >= summary.best_score > status["initial_score"]

    storage = open_storage(plugin_manager, url, {})
    store = RunStore(storage)
    # the seeds' code is the earlier variants' code, rebuilt from blobs copied into the new store
    from darwin_core.snapshots import CodeBook

    book = CodeBook(store)
    for variant in store.load_variants():
        book.add(variant)
    for index, variant in enumerate(top):
        assert book.files(f"v0000w{index:03d}") == earlier.codebook.files(variant.id)
    # the plugin's state came along, under the state_* convention
    assert storage.get_record("state_counter", "count")[0] == {"attempts": finished}
    assert store.get("warm_start", "spec")[0]["source_run_id"] == summary.run_id
    storage.close()


def test_warm_start_from_nothing_is_a_clear_error(
    quickstart: Path, darwin_app: Callable[..., Any], storage_url: Callable[..., Any]
) -> None:
    empty_url, _ = storage_url("file", "empty")
    config = quick_config(quickstart)
    done = darwin_app("run", str(config), "--run-dir", str(quickstart / "r"), "-q", "--warm-start", empty_url)
    assert done.returncode == 2 and "holds no run" in done.stderr, done.stderr
    assert not (quickstart / "r" / "run.json").exists()


KILL_AFTER_FIRST_SEED = """
import os, signal, sys
from pathlib import Path
from darwin_core.config import load_config
from darwin_core.engine import Engine
from darwin_core.warmstart import open_warm_start
from darwin_hookspecs import hookimpl

class KillAfterFirstSeed:
    @hookimpl
    def darwin_variant_accepted(self, run, variant):
        if variant.id == "v0000w000":  # recorded; the second seed is not
            os.kill(os.getpid(), signal.SIGKILL)

config, run_dir, earlier = sys.argv[1:4]
engine = Engine.create(load_config(Path(config)), Path(run_dir), warm_start=open_warm_start(earlier, 2, []),
                       extra_plugins=[KillAfterFirstSeed()])
engine.run_loop()
"""


def test_a_warm_start_killed_while_seeding_resumes_without_losing_or_redoing_a_seed(
    quickstart: Path, darwin_app: Callable[..., Any],
) -> None:
    import subprocess
    import sys

    earlier_dir = quickstart / "earlier"
    earlier = Engine.create(load_config(quick_config(quickstart, generations=3, children_per_generation=2)), earlier_dir)
    earlier.run_loop()
    top = sorted((v for v in earlier.archive.variants() if v.status == "accepted"), key=lambda v: (-v.score, v.id))[:2]

    config = quick_config(quickstart, generations=1, children_per_generation=2, name="warm")
    new_dir = quickstart / "warm"
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_FIRST_SEED, str(config), str(new_dir), str(earlier_dir)],
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr
    rows = {r["id"]: r for r in json.loads(darwin_app("archive", str(new_dir), "--json").stdout)}
    assert "v0000w000" in rows and "v0000w001" not in rows  # killed between the two seeds
    first = _stored_seed(new_dir)

    resumed = darwin_app("resume", str(new_dir), "-q")
    assert resumed.returncode == 0, resumed.stderr
    rows = {r["id"]: r for r in json.loads(darwin_app("archive", str(new_dir), "--json").stdout)}
    seeds = sorted(i for i in rows if i.startswith("v0000w"))
    assert seeds == ["v0000w000", "v0000w001"]  # each seed once
    assert [rows[s]["score"] for s in seeds] == [v.score for v in top]
    assert _stored_seed(new_dir) == first  # the recorded seed was not redone
    status = json.loads(darwin_app("status", str(new_dir), "--json").stdout)
    assert status["status"] == "completed" and status["attempts"] == 2


def _stored_seed(run_dir: Path) -> tuple[dict[str, Any], str]:
    """The first seed's record and version, as stored."""
    from darwin_plugins.file_storage import FileStorage

    storage = FileStorage(run_dir / "store", must_exist=True)
    try:
        return storage.get_record("variants", "v0000w000")
    finally:
        storage.close()
