"""The ``file://`` store: one SQLite file, group commit, atomic batches, legacy stores opened."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from darwin_hookspecs import ConflictError, CorruptRecordError, StorageError
from darwin_plugins.file_storage import FileStorage
from darwin_plugins.file_storage.legacy import LegacyFileStorage


def test_files_per_run_are_bounded(tmp_path: Path) -> None:
    store = FileStorage(tmp_path / "store")
    for i in range(300):
        blob = store.put_blob(f"code {i}".encode())
        store.put_record("variants", f"v{i:04d}", {"i": i, "code": blob})
    store.acquire_lease().release()
    store.close()
    names = sorted(p.name for p in (tmp_path / "store").iterdir())
    assert len(names) <= 5, names  # darwin.sqlite3 (+ -wal, -shm), lock, lease.json


def test_concurrent_writers_share_commits(tmp_path: Path) -> None:
    store = FileStorage(tmp_path / "store")
    barrier = threading.Barrier(8)

    def writer(t: int) -> None:
        barrier.wait()
        for n in range(40):
            store.put_record("attempts", f"t{t}n{n:02d}", {"t": t, "n": n})

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(list(store.scan("attempts"))) == 320
    assert store.commits < 320 * 0.75, store.commits  # several writes per fsync
    store.close()


def test_a_commit_window_gathers_writers_arriving_together(tmp_path: Path) -> None:
    store = FileStorage(tmp_path / "store", window_s=0.2)
    barrier = threading.Barrier(6)

    def writer(t: int) -> None:
        barrier.wait()
        store.put_record("attempts", f"t{t}", {"t": t})

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.keys("attempts")) == 6
    assert store.commits <= 2, store.commits  # one leader waited 0.2 s for the others
    store.close()


def test_a_batch_is_one_commit_and_all_or_nothing(tmp_path: Path) -> None:
    store = FileStorage(tmp_path / "store")
    taken = store.put_record("variants", "v1", {"n": 1})
    before = store.commits
    with store.batch() as batch:
        blob = batch.put_blob(b"diff")
        batch.put_record("attempts", "a1", {"status": "running"})
        batch.put_record("variants", "v2", {"patch": blob})
        assert not store.has_blob(blob)  # nothing visible before the block ends
    assert store.commits == before + 1
    assert store.get_blob(blob) == b"diff" and store.get_record("variants", "v2")[0] == {"patch": blob}
    with pytest.raises(ConflictError, match="variants/v1"):
        with store.batch() as batch:
            batch.put_blob(b"never stored")
            batch.put_record("attempts", "a2", {"status": "running"})
            batch.put_record("variants", "v1", {"n": 2})  # create-only on an existing key
    assert not store.has_blob(hashlib.sha256(b"never stored").hexdigest())
    assert [k for k, _, _ in store.scan("attempts")] == ["a1"]
    assert store.get_record("variants", "v1") == ({"n": 1}, taken)
    with pytest.raises(RuntimeError):  # an exception in the block stores nothing
        with store.batch() as batch:
            batch.put_record("attempts", "a3", {})
            raise RuntimeError("attempt failed")
    assert [k for k, _, _ in store.scan("attempts")] == ["a1"]
    store.close()


def test_a_missing_store_is_an_error_when_it_must_exist(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as info:
        FileStorage(tmp_path / "moved-away", must_exist=True)
    assert info.value.exit_code == 4 and str(tmp_path / "moved-away") in str(info.value)
    assert "fix:" in str(info.value)
    assert not (tmp_path / "moved-away").exists()  # no empty store made in its place
    FileStorage(tmp_path / "new").close()
    FileStorage(tmp_path / "new", must_exist=True).close()


def test_a_damaged_database_file_is_named(tmp_path: Path) -> None:
    store = FileStorage(tmp_path / "store")
    store.put_record("c", "k", {"n": 1})
    store.close()
    (tmp_path / "store" / "darwin.sqlite3-wal").unlink(missing_ok=True)
    (tmp_path / "store" / "darwin.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(CorruptRecordError) as info:
        FileStorage(tmp_path / "store").get_record("c", "k")
    assert "darwin.sqlite3" in str(info.value) and "fix:" in str(info.value)


# ------------------------------------------------------------------- legacy stores


def _legacy_store(root: Path) -> dict[str, object]:
    """A store in the directory-of-files format (the code of commit 3a87ebb), with a replaced
    record, a corrupt one and blobs; return what it holds."""
    old = LegacyFileStorage(root)
    v1 = old.put_record("run", "run", {"status": "running"})
    v2 = old.put_record("run", "run", {"status": "completed"}, if_version=v1)
    variants = {f"v{i:04d}": old.put_record("variants", f"v{i:04d}", {"i": i, "score": i / 10})
                for i in range(30)}
    blobs = [old.put_blob(bytes([i]) * (100 * i)) for i in range(10)]
    old.put_record("variants", "broken", {"i": -1})
    (root / "records" / "variants" / "broken.json").write_bytes(b'{"i": ')
    return {"run": v2, "variants": variants, "blobs": blobs}


def test_a_legacy_store_is_migrated_on_open(tmp_path: Path) -> None:
    root = tmp_path / "store"
    held = _legacy_store(root)
    assert sum(1 for p in root.rglob("*") if p.is_file()) > 40
    store = FileStorage(root, must_exist=True)  # an old run's store exists, in the old format
    assert store.get_record("run", "run") == ({"status": "completed"}, held["run"])
    for key, version in held["variants"].items():  # type: ignore[union-attr]
        assert store.get_record("variants", key) == ({"i": int(key[1:]), "score": int(key[1:]) / 10}, version)
    assert sorted(store.iter_blob_keys()) == sorted(set(held["blobs"]))  # type: ignore[arg-type]
    assert store.get_blob(held["blobs"][3]) == bytes([3]) * 300  # type: ignore[index]
    with pytest.raises(CorruptRecordError, match="variants/broken"):  # still corrupt, still named
        store.get_record("variants", "broken")
    # the old versions stay valid for conditional replaces
    store.put_record("run", "run", {"status": "resumed"}, if_version=held["run"])  # type: ignore[arg-type]
    assert not (root / "records").exists() and not (root / "blobs").exists()
    assert len(list(root.iterdir())) <= 5
    store.close()
    again = FileStorage(root)
    assert again.get_record("run", "run")[0] == {"status": "resumed"}
    again.close()


def test_an_interrupted_migration_is_finished_on_the_next_open(tmp_path: Path) -> None:
    root = tmp_path / "store"
    held = _legacy_store(root)
    FileStorage(root).close()
    LegacyFileStorage(root)  # as if the crash came before the old files were removed
    (root / "records" / "run").mkdir(parents=True)
    (root / "records" / "run" / "run.json").write_bytes(b'{"status":"running"}')  # stale copy
    store = FileStorage(root)
    assert store.get_record("run", "run") == ({"status": "completed"}, held["run"])  # kept, not reverted
    assert not (root / "records").exists()
    assert store.get_record("variants", "v0029")[0] == {"i": 29, "score": 2.9}
    store.close()
