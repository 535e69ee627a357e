"""What the run store writes per attempt, encoded the cheap way: a record's text (pydantic_core)
and a diff's or log's blob (a zlib window fitted to its size) read back exactly, and a file's
blob keeps the key earlier runs gave the same content (manifests compare keys)."""

from __future__ import annotations

import json
import math
import zlib
from pathlib import Path

import pytest

from darwin_core.blob_payload import ZLIB_MAGIC, blob_payload, fitted
from darwin_core.record_text import dumps, encoded
from darwin_core.store import RunStore
from darwin_plugins.file_storage import FileStorage

VALUE = {"b": [1, {"x": 2.5, "é": None}], "a": "text\u2028", "n": {"z": True, "y": []},
         "t": (1, 2), "small": 1e-5, "big": 2**70, "nan": float("nan"), "inf": float("-inf")}


def test_a_record_text_reads_back_as_the_value() -> None:
    text = dumps(VALUE)
    back = json.loads(text)
    assert math.isnan(back.pop("nan"))  # NaN, as json.dumps writes it
    assert back == {k: (list(v) if isinstance(v, tuple) else v) for k, v in VALUE.items() if k != "nan"}
    assert encoded(VALUE).text == text and encoded(VALUE) == VALUE


def test_what_pydantic_core_cannot_encode_falls_back_to_json() -> None:
    surrogate = {"log": "bad byte \udcff"}  # surrogateescape'd output: no UTF-8 for it
    assert dumps(surrogate) == json.dumps(surrogate, separators=(",", ":"), sort_keys=True)
    with pytest.raises(TypeError):
        dumps({"x": object()})


@pytest.mark.parametrize("size", [0, 64, 65, 300, 5_000, 70_000])
def test_blob_payloads_read_back_and_files_keep_their_bytes(size: int) -> None:
    data = bytes((i * 7) % 251 for i in range(size))
    shared, other = blob_payload(data), blob_payload(data, shared=False)
    if size <= 64:
        assert shared == other == data
        return
    assert shared == ZLIB_MAGIC + zlib.compress(data, 6)  # a file's key as before
    assert other == ZLIB_MAGIC + fitted(data)
    assert zlib.decompress(other[len(ZLIB_MAGIC):]) == data
    assert len(other) <= len(shared) + 8


def test_the_store_reads_back_every_kind_of_blob(tmp_path: Path) -> None:
    storage = FileStorage(tmp_path / "store")
    try:
        store = RunStore(storage)
        cases = [b"tiny", ZLIB_MAGIC + b"looks compressed", b"d" * 500, b"\0binary" * 300]
        keys = [(store.put_blob(data), store.put_blob(data, shared=False), data) for data in cases]
        fresh = RunStore(storage)  # no cache: read from the store
        for shared_key, other_key, data in keys:
            assert fresh.get_blob(shared_key) == data and fresh.get_blob(other_key) == data
            assert store.get_blob(shared_key) == data
    finally:
        storage.close()
