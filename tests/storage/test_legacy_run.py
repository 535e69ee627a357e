"""A run recorded in the earlier directory-of-files format keeps opening: ``darwin status``,
``archive`` and ``resume`` work on it (the store is migrated on first open), nothing changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from darwin_plugins.file_storage import FileStorage
from darwin_plugins.file_storage.legacy import LegacyFileStorage
from support import quick_config


def _to_legacy(store_dir: Path) -> int:
    """Rewrite a store in the format Darwin wrote before the SQLite store (same record bytes,
    hence the same versions); return the number of records."""
    new = FileStorage(store_dir, must_exist=True)
    records = [(c, k, v) for c in new.collections() for k, v, _ in new.scan(c)]
    blobs = [new.get_blob(key) for key in new.iter_blob_keys()]
    new.close()
    for path in store_dir.iterdir():
        path.unlink()
    old = LegacyFileStorage(store_dir)
    for data in blobs:
        old.put_blob(data)
    for collection, key, value in records:
        old.put_record(collection, key, value)
    return len(records)


def test_a_run_in_the_old_format_opens_and_resumes(quickstart: Path, darwin_app: Callable[..., Any]) -> None:
    config = quick_config(quickstart, generations=1, children_per_generation=2)
    run_dir = quickstart / "run"
    assert darwin_app("run", str(config), "--run-dir", str(run_dir), "-q").returncode == 0
    archive = json.loads(darwin_app("archive", str(run_dir), "--json").stdout)
    n = _to_legacy(run_dir / "store")
    assert (run_dir / "store" / "records" / "variants").is_dir() and n > 5

    status = darwin_app("status", str(run_dir), "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["status"] == "completed"
    assert json.loads(darwin_app("archive", str(run_dir), "--json").stdout) == archive
    assert not (run_dir / "store" / "records").exists()  # migrated into the SQLite file

    resumed = darwin_app("resume", str(run_dir), "-q", "--set", "run.generations=2")
    assert resumed.returncode == 0, resumed.stderr
    after = json.loads(darwin_app("archive", str(run_dir), "--json").stdout)
    assert after[: len(archive)] == archive  # the old variants, unchanged
    assert len(after) == len(archive) + 2  # and the second generation's children
