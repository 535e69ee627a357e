"""The storage conformance suite, as a pytest plugin: check any Storage backend with it.

Darwin runs it on ``file://``, ``mongodb://`` and ``s3://`` (``tests/storage``); a third party
checks its own backend the same way. In a ``conftest.py``::

    pytest_plugins = ["darwin_plugins.storage_conformance"]

    @pytest.fixture
    def darwin_storage_factory(tmp_path):
        def make(namespace: str):            # same namespace -> same store, new handle
            return MyStorage(f"my://{tmp_path}/{namespace}")
        return make

and in a test module::

    from darwin_plugins.storage_conformance import StorageConformance

    class TestMyStorage(StorageConformance):
        pass

Optionally override ``darwin_storage_corrupter`` (a callable ``(storage, collection, key)``
that overwrites the stored record with bytes that are not JSON, bypassing the backend) to run the
corrupt-record test, and ``darwin_storage_blob_swapper`` (``(storage, key, other_key)``: put blob
``other_key``'s bytes in place of blob ``key``'s) to run the blob-verification test. Every test
uses fresh namespaces, so the fixtures may share one server. Batches, blob verification and the
writer lease are tested by :mod:`.storage_conformance_lease` (mixed in).
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from typing import Any, Callable, Iterator

import pytest

from darwin_hookspecs import (
    ConflictError,
    CorruptRecordError,
    NotFoundError,
    Storage,
    StorageError,
)

from .storage_conformance_lease import BatchBlobLeaseConformance

StorageFactory = Callable[[str], Storage]
"""``factory(namespace)``: a new handle on the store named ``namespace`` (empty at first use)."""

Corrupter = Callable[[Storage, str, str], None]

RICH_VALUE: dict[str, Any] = {
    "text": "héllo wörld ✓ \u0000 \"quoted\" \\ back",
    "ints": [0, -1, 2**53 + 1, 2**63 - 1, 10**30],
    "floats": [0.1, -2.5e-300, 1.7976931348623157e308, 1e-7],
    "flags": [True, False, None],
    "nested": {"a.b": {"$c": [1, {"d": []}]}, "": "empty key", "snapshot": {"pkg/x.py": None}},
    "empty": {},
}


@pytest.fixture
def darwin_storage_factory() -> StorageFactory:
    """Override: return ``factory(namespace) -> Storage`` for the backend under test."""
    raise pytest.UsageError(
        "the storage conformance suite needs a `darwin_storage_factory` fixture returning "
        "factory(namespace) -> Storage; define it in your conftest.py"
    )


@pytest.fixture
def darwin_storage_corrupter() -> Corrupter | None:
    """Override (optional): ``corrupt(storage, collection, key)`` writes non-JSON bytes in
    place of the record, behind the backend's back."""
    return None


@pytest.fixture
def darwin_storage_blob_swapper() -> Callable[[Storage, str, str], None] | None:
    """Override (optional): ``swap(storage, key, other)`` stores blob ``other``'s bytes under
    ``key``, behind the backend's back."""
    return None


@pytest.fixture
def storage_namespace() -> str:
    return f"conf-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def storage(darwin_storage_factory: StorageFactory, storage_namespace: str) -> Iterator[Storage]:
    """A fresh, empty store of the backend under test."""
    store = darwin_storage_factory(storage_namespace)
    yield store
    store.close()


def _race(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run ``fn(i)`` for ``i < n`` in threads released together; return results or errors."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def work(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


class StorageConformance(BatchBlobLeaseConformance):
    """What every :class:`~darwin_hookspecs.Storage` backend must do. Subclass it."""

    # ---------------------------------------------------------------- identity

    def test_is_a_storage(self, storage: Storage) -> None:
        assert isinstance(storage, Storage)
        assert isinstance(storage.url, str) and storage.url

    # ----------------------------------------------------------------- records

    def test_create_then_read(self, storage: Storage) -> None:
        version = storage.put_record("variants", "v1", {"score": 0.5})
        assert isinstance(version, str) and version
        assert storage.get_record("variants", "v1") == ({"score": 0.5}, version)

    def test_json_round_trips_exactly(self, storage: Storage) -> None:
        storage.put_record("misc", "rich", RICH_VALUE)
        value, _ = storage.get_record("misc", "rich")
        assert value == RICH_VALUE
        assert [type(x) for x in value["ints"]] == [int] * 5
        assert value["floats"] == RICH_VALUE["floats"]

    def test_projection_gives_what_the_records_hold(self, storage: Storage) -> None:
        """``project`` (the backend's, or the default over ``scan``) gives each record's values
        at the paths, ``None`` / ``[]`` where absent, in key order, with current versions;
        asked to keep a projection (``prepare_projection``), a backend still answers right
        after later writes."""
        from darwin_hookspecs.projection import project, project_value

        paths = ["score", "target.task", "tasks.*.passed", "tasks.*", "meta", "absent.*.x"]
        prepare = getattr(storage, "prepare_projection", None)
        if prepare is not None:
            prepare("variants", ["score", "target.task", "meta"])
        records = {"b": {"score": 0.5, "target": {"task": "t1"}, "tasks": {"t1": {"passed": True}, "t2": {}},
                         "meta": {"x": [1, "a", None]}},
                   "a": {"score": 1, "tasks": [{"passed": False}, "text", 3], "meta": None},
                   "c": {"target": "not an object", "tasks": "neither"}}
        versions = {key: storage.put_record("variants", key, value) for key, value in records.items()}
        versions["a"] = storage.put_record("variants", "a", {**records["a"], "score": 2}, if_version=versions["a"])
        records["a"]["score"] = 2
        got = list(project(storage, "variants", paths))
        assert got == [(k, [project_value(records[k], p) for p in paths], versions[k]) for k in sorted(records)]
        assert got[1][1][:4] == [0.5, "t1", [True, None], [{"passed": True}, {}]]
        assert got[0][1][2] == [False, None, None] and type(got[0][1][2][0]) is bool
        assert got[2][1][1:4] == [None, [], []]

    def test_create_only_refuses_an_existing_key(self, storage: Storage) -> None:
        first = storage.put_record("c", "k", {"n": 1})
        with pytest.raises(ConflictError):
            storage.put_record("c", "k", {"n": 2})
        assert storage.get_record("c", "k") == ({"n": 1}, first)

    def test_replace_with_current_version(self, storage: Storage) -> None:
        v1 = storage.put_record("c", "k", {"n": 1})
        v2 = storage.put_record("c", "k", {"n": 2}, if_version=v1)
        assert storage.get_record("c", "k") == ({"n": 2}, v2)
        v3 = storage.put_record("c", "k", {"n": 3}, if_version=v2)
        assert storage.get_record("c", "k") == ({"n": 3}, v3)

    def test_replace_with_stale_version_conflicts(self, storage: Storage) -> None:
        v1 = storage.put_record("c", "k", {"n": 1})
        v2 = storage.put_record("c", "k", {"n": 2}, if_version=v1)
        with pytest.raises(ConflictError):
            storage.put_record("c", "k", {"n": 3}, if_version=v1)
        assert storage.get_record("c", "k") == ({"n": 2}, v2)

    def test_replace_of_missing_record_is_not_found(self, storage: Storage) -> None:
        v1 = storage.put_record("c", "other", {"n": 1})
        with pytest.raises(NotFoundError):
            storage.put_record("c", "absent", {"n": 1}, if_version=v1)
        with pytest.raises(NotFoundError):
            storage.get_record("c", "absent")

    def test_missing_record(self, storage: Storage) -> None:
        with pytest.raises(NotFoundError) as info:
            storage.get_record("nowhere", "nothing")
        assert isinstance(info.value, KeyError)  # callers may catch KeyError too
        assert "nowhere/nothing" in str(info.value)

    def test_invalid_keys_are_refused(self, storage: Storage) -> None:
        for bad in ("a/b", "", ".hidden"):
            with pytest.raises(StorageError):
                storage.put_record("c", bad, {})
            with pytest.raises(StorageError):
                storage.put_record(bad, "k", {})

    def test_scan_and_collections(self, storage: Storage) -> None:
        versions = {f"k{i:03d}": storage.put_record("items", f"k{i:03d}", {"i": i}) for i in range(25)}
        storage.put_record("other", "x", {"o": True})
        scanned = {key: (value, version) for key, value, version in storage.scan("items")}
        assert scanned == {k: ({"i": int(k[1:])}, v) for k, v in versions.items()}
        assert list(storage.scan("never-written")) == []
        assert sorted(storage.collections()) == ["items", "other"]

    def test_scan_sees_latest_versions(self, storage: Storage) -> None:
        v1 = storage.put_record("c", "k", {"n": 1})
        v2 = storage.put_record("c", "k", {"n": 2}, if_version=v1)
        assert list(storage.scan("c")) == [("k", {"n": 2}, v2)]

    # ------------------------------------------------------------------- blobs

    def test_blobs_are_content_addressed(self, storage: Storage) -> None:
        data = bytes(range(256)) * 7
        key = storage.put_blob(data)
        assert key == hashlib.sha256(data).hexdigest()
        assert storage.put_blob(data) == key  # idempotent
        assert storage.has_blob(key)
        assert storage.get_blob(key) == data
        assert list(storage.iter_blob_keys()) == [key]  # stored once

    def test_blob_sizes(self, storage: Storage) -> None:
        blobs = [b"", b"x", b"\x00" * 1000, hashlib.sha256(b"seed").digest() * 100_000]  # 3.2 MB
        keys = [storage.put_blob(b) for b in blobs]
        for key, data in zip(keys, blobs):
            assert storage.get_blob(key) == data
        assert sorted(storage.iter_blob_keys()) == sorted(set(keys))

    def test_missing_blob(self, storage: Storage) -> None:
        absent = hashlib.sha256(b"never stored").hexdigest()
        assert not storage.has_blob(absent)
        with pytest.raises(NotFoundError):
            storage.get_blob(absent)

    # ------------------------------------------------------------- durability

    def test_reopened_store_sees_everything(
        self, darwin_storage_factory: StorageFactory, storage_namespace: str
    ) -> None:
        first = darwin_storage_factory(storage_namespace)
        version = first.put_record("run", "run", {"status": "running"})
        blob = first.put_blob(b"durable")
        first.close()
        again = darwin_storage_factory(storage_namespace)
        try:
            assert again.get_record("run", "run") == ({"status": "running"}, version)
            assert again.get_blob(blob) == b"durable"
            again.put_record("run", "run", {"status": "done"}, if_version=version)
        finally:
            again.close()

    def test_namespaces_are_isolated(self, darwin_storage_factory: StorageFactory) -> None:
        a = darwin_storage_factory(f"iso-{uuid.uuid4().hex[:8]}")
        b = darwin_storage_factory(f"iso-{uuid.uuid4().hex[:8]}")
        try:
            a.put_record("c", "k", {"in": "a"})
            a.put_blob(b"only in a")
            assert list(b.scan("c")) == []
            assert b.collections() == []
            assert list(b.iter_blob_keys()) == []
            b.put_record("c", "k", {"in": "b"})  # no conflict: another store
            assert a.get_record("c", "k")[0] == {"in": "a"}
        finally:
            a.close()
            b.close()

    # ------------------------------------------------------------ concurrency

    def test_racing_creates_exactly_one_wins(
        self, darwin_storage_factory: StorageFactory, storage_namespace: str
    ) -> None:
        writers = [darwin_storage_factory(storage_namespace) for _ in range(6)]
        try:
            results = _race(6, lambda i: writers[i].put_record("race", "key", {"writer": i}))
            winners = [i for i, r in enumerate(results) if isinstance(r, str)]
            assert len(winners) == 1, results
            assert all(isinstance(r, ConflictError) for i, r in enumerate(results) if i not in winners), results
            assert writers[0].get_record("race", "key") == ({"writer": winners[0]}, results[winners[0]])
        finally:
            for w in writers:
                w.close()

    def test_racing_replaces_exactly_one_wins(
        self, darwin_storage_factory: StorageFactory, storage_namespace: str
    ) -> None:
        writers = [darwin_storage_factory(storage_namespace) for _ in range(6)]
        try:
            base = writers[0].put_record("race", "key", {"writer": None})
            results = _race(6, lambda i: writers[i].put_record("race", "key", {"writer": i}, if_version=base))
            winners = [i for i, r in enumerate(results) if isinstance(r, str)]
            assert len(winners) == 1, results
            assert all(isinstance(r, ConflictError) for i, r in enumerate(results) if i not in winners), results
            assert writers[0].get_record("race", "key") == ({"writer": winners[0]}, results[winners[0]])
        finally:
            for w in writers:
                w.close()

    def test_racing_blob_writes_store_one_copy(
        self, darwin_storage_factory: StorageFactory, storage_namespace: str
    ) -> None:
        writers = [darwin_storage_factory(storage_namespace) for _ in range(4)]
        data = b"same bytes " * 50_000
        try:
            results = _race(4, lambda i: writers[i].put_blob(data))
            assert results == [hashlib.sha256(data).hexdigest()] * 4
            assert list(writers[0].iter_blob_keys()) == [results[0]]
            assert writers[1].get_blob(results[0]) == data
        finally:
            for w in writers:
                w.close()

    # --------------------------------------------------------------- corruption

    def test_corrupt_record_is_named_and_left_alone(
        self, storage: Storage, darwin_storage_corrupter: Corrupter | None
    ) -> None:
        if darwin_storage_corrupter is None:
            pytest.skip("override darwin_storage_corrupter to check corrupt-record handling")
        storage.put_record("variants", "good", {"ok": True})
        storage.put_record("variants", "bad", {"ok": True})
        darwin_storage_corrupter(storage, "variants", "bad")
        with pytest.raises(CorruptRecordError) as info:
            storage.get_record("variants", "bad")
        assert "variants/bad" in str(info.value)
        with pytest.raises(CorruptRecordError):
            list(storage.scan("variants"))
        assert storage.get_record("variants", "good")[0] == {"ok": True}
        with pytest.raises(CorruptRecordError):  # still there, still corrupt: nothing "repaired"
            storage.get_record("variants", "bad")
