"""Conformance tests for batches, blob verification, whole-store checks and the writer lease (mixed into
:class:`darwin_plugins.storage_conformance.StorageConformance`; see that module for use)."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from typing import Callable

import pytest

from darwin_hookspecs import (
    ConflictError,
    CorruptBlobError,
    CorruptRecordError,
    LeaseHeldError,
    LeaseLostError,
    Storage,
)
from darwin_hookspecs.storage_api import acquire_lease, list_keys, open_batch
from darwin_hookspecs.storage_verify import verify_storage

StorageFactory = Callable[[str], Storage]
BlobSwapper = Callable[[Storage, str, str], None]
Corrupter = Callable[[Storage, str, str], None]


class BatchBlobLeaseConformance:
    """Batches, verified blobs, one writer per run."""

    # ----------------------------------------------------------------- batches

    def test_batch_writes_are_all_stored(self, storage: Storage) -> None:
        with open_batch(storage) as batch:
            blob = batch.put_blob(b"patch bytes")
            v1 = batch.put_record("attempts", "a1", {"status": "finished", "patch": blob})
            v2 = batch.put_record("variants", "v1", {"attempt": "a1"})
        assert storage.get_blob(blob) == b"patch bytes"
        assert storage.get_record("attempts", "a1") == ({"status": "finished", "patch": blob}, v1)
        assert storage.get_record("variants", "v1") == ({"attempt": "a1"}, v2)
        with open_batch(storage) as batch:
            v3 = batch.put_record("attempts", "a1", {"status": "done"}, if_version=v1)
        assert storage.get_record("attempts", "a1") == ({"status": "done"}, v3)

    def test_batch_conflict_raises_and_keeps_the_stored_record(self, storage: Storage) -> None:
        first = storage.put_record("c", "taken", {"n": 1})
        with pytest.raises(ConflictError):  # at the write (write-through) or at the end (atomic)
            with open_batch(storage) as batch:
                batch.put_record("c", "taken", {"n": 2})
        assert storage.get_record("c", "taken") == ({"n": 1}, first)

    # ---------------------------------------------------------- verified blobs

    def test_blob_replaced_by_another_valid_blob_fails_on_read(
        self, storage: Storage, darwin_storage_blob_swapper: BlobSwapper | None
    ) -> None:
        if darwin_storage_blob_swapper is None:
            pytest.skip("override darwin_storage_blob_swapper to check blob verification")
        parent = storage.put_blob(b"print('the parent')\n")
        other = storage.put_blob(b"print('another variant')\n")
        darwin_storage_blob_swapper(storage, parent, other)
        with pytest.raises(CorruptBlobError) as info:
            storage.get_blob(parent)
        assert isinstance(info.value, CorruptRecordError)  # the exit-4 path of corrupt records
        assert parent in str(info.value) and "hash" in str(info.value)
        assert storage.get_blob(other) == b"print('another variant')\n"
        assert hashlib.sha256(storage.get_blob(other)).hexdigest() == other

    def test_verify_reports_every_corrupt_record_and_blob(
        self, storage: Storage, darwin_storage_corrupter: Corrupter | None,
        darwin_storage_blob_swapper: BlobSwapper | None,
    ) -> None:
        if darwin_storage_corrupter is None or darwin_storage_blob_swapper is None:
            pytest.skip("override darwin_storage_corrupter and darwin_storage_blob_swapper")
        good, damaged = storage.put_blob(b"good code"), storage.put_blob(b"parent code")
        absent = hashlib.sha256(b"never stored").hexdigest()
        for key, refs in [("v1", [good]), ("v2", [damaged]), ("v3", [absent]), ("v4", [good])]:
            storage.put_record("variants", key, {"refs": refs})
        storage.put_record("run", "run", {"status": "completed"})
        assert verify_storage(storage, references=lambda c, k, v: v.get("refs", [])).ok is False
        clean = storage.put_blob(b"unrelated")
        darwin_storage_corrupter(storage, "variants", "v4")
        darwin_storage_blob_swapper(storage, damaged, clean)
        report = verify_storage(storage, references=lambda c, k, v: v.get("refs", []))
        assert sorted((p.kind, p.name) for p in report.problems) == sorted(
            [("record", "variants/v4"), ("blob", damaged), ("missing blob", absent)])
        assert (report.records, report.blobs) == (4, 2)
        assert "variants/v4" in report.summary() and "fix:" in report.summary()
        assert list_keys(storage, "variants") == ["v1", "v2", "v3", "v4"]

    # -------------------------------------------------------------------- lease

    def test_lease_is_exclusive_and_names_its_holder(
        self, darwin_storage_factory: StorageFactory, storage_namespace: str
    ) -> None:
        a, b = darwin_storage_factory(storage_namespace), darwin_storage_factory(storage_namespace)
        try:
            lease = acquire_lease(a, owner="darwin run", ttl_s=30)
            assert (lease.holder.host, lease.holder.pid) == (socket.gethostname(), os.getpid())
            with pytest.raises(LeaseHeldError) as info:
                acquire_lease(b, owner="darwin resume", ttl_s=30)
            message = str(info.value)
            assert f"pid {os.getpid()}" in message and socket.gethostname() in message
            assert "since" in message and "fix:" in message
            assert info.value.holder is not None and info.value.holder.pid == os.getpid()
            lease.renew()
            lease.release()
            with acquire_lease(b, owner="darwin resume", ttl_s=30) as again:  # free once released
                assert again.holder.owner == "darwin resume"
                with pytest.raises(LeaseHeldError):
                    acquire_lease(a, ttl_s=30)
            acquire_lease(a, ttl_s=30).release()
        finally:
            a.close()
            b.close()

    def test_closing_the_store_releases_its_lease(
        self, darwin_storage_factory: StorageFactory, storage_namespace: str
    ) -> None:
        a, b = darwin_storage_factory(storage_namespace), darwin_storage_factory(storage_namespace)
        try:
            acquire_lease(a, owner="finished run", ttl_s=30)
            a.close()
            acquire_lease(b, ttl_s=30).release()
        finally:
            b.close()

    def test_lease_racing_acquirers_exactly_one_wins(
        self, darwin_storage_factory: StorageFactory, storage_namespace: str
    ) -> None:
        from .storage_conformance import _race

        handles = [darwin_storage_factory(storage_namespace) for _ in range(5)]
        try:
            results = _race(5, lambda i: acquire_lease(handles[i], owner=f"w{i}", ttl_s=30))
            won = [r for r in results if not isinstance(r, Exception)]
            assert len(won) == 1, results
            assert all(isinstance(r, LeaseHeldError) for r in results if r not in won), results
            won[0].release()
        finally:
            for h in handles:
                h.close()

    def test_expired_lease_is_taken_over_and_the_old_holder_learns_it(
        self, darwin_storage_factory: StorageFactory, storage_namespace: str
    ) -> None:
        a, b = darwin_storage_factory(storage_namespace), darwin_storage_factory(storage_namespace)
        try:
            stale = acquire_lease(a, owner="stalled", ttl_s=1.0)
            if not getattr(stale, "expires", True):
                stale.release()
                pytest.skip("this backend's lease is held until its holder exits (OS lock)")
            with pytest.raises(LeaseHeldError):
                acquire_lease(b, ttl_s=1.0)
            time.sleep(1.3)  # the holder stalled past its ttl without renewing
            taken = acquire_lease(b, owner="new", ttl_s=30)
            with pytest.raises(LeaseLostError):
                stale.renew()
            stale.release()  # harmless: does not free the new holder's lease
            with pytest.raises(LeaseHeldError):
                acquire_lease(a, ttl_s=30)
            taken.release()
        finally:
            a.close()
            b.close()

    def test_keep_alive_keeps_a_short_lease(
        self, darwin_storage_factory: StorageFactory, storage_namespace: str
    ) -> None:
        a, b = darwin_storage_factory(storage_namespace), darwin_storage_factory(storage_namespace)
        try:
            lease = acquire_lease(a, ttl_s=1.5).keep_alive(0.3)
            time.sleep(2.0)
            lease.check()
            with pytest.raises(LeaseHeldError):
                acquire_lease(b, ttl_s=1.5)
            lease.release()
            acquire_lease(b, ttl_s=1.5).release()
        finally:
            a.close()
            b.close()

