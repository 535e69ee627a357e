"""A record encoded once (``storage_codec.encoded``) is stored exactly as the plain dict is."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

from darwin_hookspecs.storage_codec import EncodedRecord, encode_record, encoded
from darwin_plugins.file_storage import FileStorage

VALUE = {"b": [1, {"x": 2.5, "é": None}], "a": "text", "n": {"z": True, "y": []}}


def test_an_encoded_record_carries_the_canonical_text_and_copies_to_a_plain_dict() -> None:
    record = encoded(VALUE)
    assert record == VALUE and record is not VALUE
    assert record.text == json.dumps(VALUE, separators=(",", ":"), sort_keys=True) == encode_record(VALUE)
    assert encode_record(record) == record.text
    # the hook's size (compact, keys unsorted) is the same length: sorting keys moves, never adds
    assert len(record.text) == len(json.dumps(VALUE, separators=(",", ":")))
    for copied in (copy.copy(record), copy.deepcopy(record), pickle.loads(pickle.dumps(record))):
        assert type(copied) is dict and copied == VALUE  # a copy may change: no stale text


def test_file_storage_stores_an_encoded_record_as_the_plain_one(tmp_path: Path) -> None:
    storage = FileStorage(tmp_path / "store")
    try:
        plain = storage.put_record("things", "plain", VALUE)
        once = storage.put_record("things", "once", encoded(VALUE))
        assert plain == once  # the version is the hash of the same text
        value, version = storage.get_record("things", "once")
        assert value == VALUE and type(value) is dict and version == once
        again = encoded({**VALUE, "a": "changed"})
        assert storage.put_record("things", "once", again, if_version=once) != once
        assert storage.get_record("things", "once")[0]["a"] == "changed"
        assert isinstance(again, EncodedRecord)
    finally:
        storage.close()
