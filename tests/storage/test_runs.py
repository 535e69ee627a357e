"""Whole runs on each backend through the real CLI: the quickstart, an unreachable store at
start, the store killed mid-run (then resumed), a brief outage, and a corrupt record."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest

from darwin_core.plugins import PluginManager
from darwin_core.rundir import open_storage
from darwin_core.store import RunStore
from run_records import popen_cli, snapshot, storage_keys, wait_for_variants
from support import quick_config

FINAL = {"finished", "abandoned", "skipped", "interrupted"}


def check_consistent(records: dict[str, dict[str, Any]], planned: int) -> None:
    """Nothing lost or duplicated: every planned attempt settled once, each child recorded once
    and linked both ways."""
    attempts, variants = records["attempts"], records["variants"]
    originals = [a for a in attempts.values() if a.get("retry_of") is None]
    assert len(originals) == planned
    assert all(a["status"] in FINAL for a in attempts.values()), {k: a["status"] for k, a in attempts.items()}
    children = [v for k, v in variants.items() if v.get("parent_id") is not None]
    for child in children:
        assert attempts[child["attempt_id"]]["child_id"] == child["id"]
    linked = [a["child_id"] for a in attempts.values() if a.get("child_id")]
    assert len(linked) == len(set(linked)) == len(children)


# ------------------------------------------------------------------------ quickstart


def test_quickstart_runs_on_each_backend_and_a_corrupt_record_stops_it(
    backend: str, storage_url: Callable[..., Any], quickstart: Path, darwin_cli: Callable[..., Any],
    plugin_manager: PluginManager, darwin_storage_corrupter: Callable[..., None], darwin_app: Callable[..., Any],
) -> None:
    url, options = storage_url(backend, f"qs-{uuid.uuid4().hex[:8]}")
    config = quick_config(quickstart, generations=2, children_per_generation=2, **storage_keys(url, options))
    run_dir = quickstart / "run"
    done = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q", cwd=quickstart)
    assert done.returncode == 0, done.stderr
    assert "completed" in done.stdout
    status = json.loads(darwin_app("status", str(run_dir), "--json").stdout)
    assert status["storage"] == url and status["status"] == "completed"
    assert status["attempts"] == 4 and status["variants"] == 5
    assert status["best_score"] >= status["initial_score"] > 0
    records = snapshot(plugin_manager, url, options)
    check_consistent(records, planned=4)
    if backend != "file":
        assert not (run_dir / "store").exists()  # nothing silently kept on local disk

    # a corrupt record: a clear error naming it, exit 4, and nothing changed
    storage = open_storage(plugin_manager, url, options)
    darwin_storage_corrupter(storage, "variants", "v0001a000")
    untouched = [c for c in records if c != "variants"]
    before = {c: list(storage.scan(c)) for c in untouched}
    done = darwin_app("resume", str(run_dir), "-q")
    assert done.returncode == 4, (done.stdout, done.stderr)
    assert "variants/v0001a000" in done.stderr and "corrupt" in done.stderr
    assert {c: list(storage.scan(c)) for c in untouched} == before
    storage.close()


# ------------------------------------------------------------------ unreachable store


@pytest.mark.parametrize("kind", ["mongodb", "s3"])
def test_unreachable_store_at_start_is_a_clear_error(
    kind: str, quickstart: Path, darwin_app: Callable[..., Any], servers: Any
) -> None:
    port = servers.free_port()  # nothing listens there
    if kind == "mongodb":
        keys = {"storage__url": f"mongodb://127.0.0.1:{port}/db?prefix=x", "storage__timeout_s": 1.0}
    else:
        keys = {"storage__url": "s3://bucket/run", "storage__endpoint_url": f"http://127.0.0.1:{port}",
                "storage__timeout_s": 1.0}
    config = quick_config(quickstart, **keys)
    run_dir = quickstart / "run"
    done = darwin_app("run", str(config), "--run-dir", str(run_dir), "-q")
    assert done.returncode == 4, (done.stdout, done.stderr)
    assert "unreachable" in done.stderr and f"127.0.0.1:{port}" in done.stderr
    assert not (run_dir / "run.json").exists()  # no half-made run to resume
    assert not (run_dir / "store").exists()  # and no silent fallback to local storage


def test_missing_bucket_is_a_clear_error(
    s3_server: Any, quickstart: Path, darwin_app: Callable[..., Any]
) -> None:
    config = quick_config(quickstart, storage__url="s3://no-such-bucket/run",
                          storage__endpoint_url=s3_server.endpoint)
    done = darwin_app("run", str(config), "--run-dir", str(quickstart / "run"), "-q")
    assert done.returncode == 2, done.stderr
    assert "no-such-bucket" in done.stderr and "does not exist" in done.stderr


# ----------------------------------------------------------------------- outages


class _Outage:
    """A dedicated server per backend that the test can take down and bring back."""

    def __init__(self, kind: str, tmp_path: Path, servers: Any) -> None:
        self.kind = kind
        if kind == "mongodb":
            self.mongo = servers.MongoServer(tmp_path / "mongo-data").start()
            self.url, self.options = self.mongo.url(f"out-{uuid.uuid4().hex[:6]}"), {"timeout_s": 1.0}
        else:
            self.s3 = servers.S3Server().start()
            bucket = self.s3.new_bucket()
            self.url, self.options = f"s3://{bucket}/run", {"endpoint_url": self.s3.endpoint, "timeout_s": 1.0}

    def down(self) -> None:
        self.mongo.kill() if self.kind == "mongodb" else self.s3.stop()

    def up(self) -> None:
        self.mongo.start() if self.kind == "mongodb" else self.s3.start()

    def close(self) -> None:
        self.mongo.stop() if self.kind == "mongodb" else self.s3.stop()


@pytest.mark.parametrize("kind", ["mongodb", "s3"])
def test_outages_brief_then_long_then_resume(
    kind: str, tmp_path: Path, quickstart: Path, darwin_app: Callable[..., Any], plugin_manager: PluginManager,
    servers: Any,
) -> None:
    """A brief outage is ridden out (retries within the bound); a long one (the server killed)
    stops the run cleanly with exit 4; once the server is back, `darwin resume` finishes it with
    nothing lost or duplicated."""
    outage = _Outage(kind, tmp_path, servers)
    try:
        config = quick_config(quickstart, generations=5, children_per_generation=2,
                              storage__retry_for_s=10.0, storage__lease_ttl_s=2.0,
                              **storage_keys(outage.url, outage.options))
        run_dir = quickstart / "run"
        proc = popen_cli("run", str(config), "--run-dir", str(run_dir), "-q", cwd=quickstart)
        wait_for_variants(plugin_manager, outage.url, outage.options, 2, proc)
        outage.down()
        time.sleep(1.0)
        outage.up()  # back within the bound: the run goes on
        wait_for_variants(plugin_manager, outage.url, outage.options, 4, proc)
        outage.down()
        stdout, stderr = proc.communicate(timeout=240)
        assert proc.returncode == 4, (stdout, stderr)
        assert "unreachable" in stderr and "darwin resume" in stderr

        outage.up()
        time.sleep(2.5)  # the writer lease the stopped run could not release (store down) expires
        before = snapshot(plugin_manager, outage.url, outage.options)
        assert 4 <= len(before["variants"]) < 11
        done = darwin_app("resume", str(run_dir), "-q")
        assert done.returncode == 0, done.stderr
        after = snapshot(plugin_manager, outage.url, outage.options)
        for key, variant in before["variants"].items():  # nothing recorded was lost or changed
            assert after["variants"][key] == variant
        for key, attempt in before["attempts"].items():
            if attempt["status"] == "finished":
                assert after["attempts"][key] == attempt
        check_consistent(after, planned=10)
        assert after["run"]["run"]["status"] == "completed"
    finally:
        outage.close()


# ------------------------------------------------------------------ lost replies


def test_retried_write_whose_reply_was_lost_is_not_a_conflict(
    storage_url: Callable[..., Any], plugin_manager: PluginManager,
) -> None:
    """A create that landed but whose reply was lost (an outage) is retried: RunStore must
    accept its own record instead of failing with a conflict, and must refuse another's."""
    url, options = storage_url("mongodb", f"lost-{uuid.uuid4().hex[:6]}")
    storage = open_storage(plugin_manager, url, options)

    class LostReply:
        """The real store, whose first put_record reply is lost after the write landed."""

        def __init__(self, inner: Any) -> None:
            self.inner, self.url, self.lost = inner, inner.url, 0

        def put_record(self, *args: Any, **kwargs: Any) -> str:
            version = self.inner.put_record(*args, **kwargs)
            if self.lost == 0:
                self.lost += 1
                raise ConnectionResetError("reply lost")
            return version

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    store = RunStore(LostReply(storage), retry_for_s=5)  # type: ignore[arg-type]
    store.put("variants", "v1", {"id": "v1"}, create=True)
    assert storage.get_record("variants", "v1")[0] == {"id": "v1"}
    storage.put_record("variants", "v2", {"id": "someone else"})
    from darwin_hookspecs import ConflictError

    with pytest.raises(ConflictError):
        RunStore(storage).put("variants", "v2", {"id": "v2"}, create=True)
    storage.close()
