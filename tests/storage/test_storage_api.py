"""A backend with only the required Storage methods still gets batches, a lease and keys
(the defaults of darwin_hookspecs.storage_api), and the plugin manager accepts it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from darwin_core.plugins import PluginManager
from darwin_core.rundir import open_storage
from darwin_hookspecs import LeaseHeldError, acquire_lease, hookimpl, list_keys, open_batch
from darwin_plugins.file_storage import FileStorage


class Minimal:
    """The required members only (delegating to a file store)."""

    def __init__(self, inner: FileStorage) -> None:
        self._inner, self.url = inner, inner.url

    def put_blob(self, data: bytes) -> str:
        return self._inner.put_blob(data)

    def get_blob(self, key: str) -> bytes:
        return self._inner.get_blob(key)

    def has_blob(self, key: str) -> bool:
        return self._inner.has_blob(key)

    def iter_blob_keys(self) -> Any:
        return self._inner.iter_blob_keys()

    def put_record(self, collection: str, key: str, value: dict[str, Any], *, if_version: str | None = None) -> str:
        return self._inner.put_record(collection, key, value, if_version=if_version)

    def get_record(self, collection: str, key: str) -> Any:
        return self._inner.get_record(collection, key)

    def scan(self, collection: str) -> Any:
        return self._inner.scan(collection)

    def collections(self) -> list[str]:
        return self._inner.collections()

    def close(self) -> None:
        self._inner.close()


class MinimalPlugin:
    @hookimpl
    def darwin_register_storage(self, registry: Any) -> None:
        registry.add("minimal", lambda options, context: Minimal(FileStorage(Path(options["url"][len("minimal://"):]))))


def test_a_minimal_backend_gets_the_defaults(tmp_path: Path) -> None:
    manager = PluginManager(extra_plugins=[MinimalPlugin()])
    a = open_storage(manager, f"minimal://{tmp_path}/s", {})
    b = open_storage(manager, f"minimal://{tmp_path}/s", {})
    assert not hasattr(a, "batch") and not hasattr(a, "acquire_lease")
    with open_batch(a) as batch:  # write-through
        blob = batch.put_blob(b"x")
        batch.put_record("variants", "v2", {"blob": blob})
        batch.put_record("variants", "v1", {})
    assert list_keys(a, "variants") == ["v1", "v2"]
    lease = acquire_lease(a, owner="run", ttl_s=30)  # kept in the record lease/writer
    with pytest.raises(LeaseHeldError, match="pid"):
        acquire_lease(b, ttl_s=30)
    lease.release()
    acquire_lease(b, ttl_s=30).release()
    a.close()
    b.close()
