"""The storage conformance suite needs a factory: the same namespace opens the same store."""

import pytest

pytest_plugins = ["darwin_plugins.storage_conformance"]


@pytest.fixture
def darwin_storage_factory(tmp_path):
    from darwin_plugins.testing import build_backend

    from darwin_tutorial import storage

    def make(namespace: str):
        return build_backend("storage", f"tutorial://{tmp_path}/{namespace}.db", plugins=[storage])

    return make


@pytest.fixture
def darwin_storage_corrupter():
    """Overwrite a record's value with bytes that are not JSON, behind the backend's back."""
    import sqlite3

    def corrupt(storage, collection: str, key: str) -> None:
        with sqlite3.connect(storage.url.split("://", 1)[1]) as db:
            db.execute("UPDATE records SET value = '{not json' WHERE collection = ? AND key = ?",
                       (collection, key))

    return corrupt


@pytest.fixture
def darwin_storage_blob_swapper():
    """Put another blob's bytes under a blob's key, behind the backend's back."""
    import sqlite3

    def swap(storage, key: str, other: str) -> None:
        with sqlite3.connect(storage.url.split("://", 1)[1]) as db:
            db.execute("UPDATE blobs SET data = (SELECT data FROM blobs WHERE key = ?) WHERE key = ?",
                       (other, key))

    return swap
