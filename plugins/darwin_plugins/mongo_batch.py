"""``MongoStorage.batch()``: a unit of work's writes in few round trips.

Writes are collected, then sent when the block exits: new single-part blobs in one unordered
``insert_many`` (a duplicate is the same content: ignored), then the records in order, each run
of consecutive creates in one ordered ``insert_many`` (a duplicate ``_id`` stops it:
``ConflictError`` naming the record) and replaces one by one (``replace_one`` filtered on the
version). MongoDB without a replica set has no multi-document transaction, so a batch is not
atomic: the writes before a conflict stay, in order (blobs before the records that name them).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from darwin_hookspecs import ConflictError
from darwin_hookspecs.storage_codec import blob_key

from .file_storage import check_key
from .mongo_storage import PART_SIZE


class MongoBatch:
    def __init__(self, store: Any) -> None:
        self.store = store
        self.blobs: dict[str, bytes] = {}
        self.records: list[tuple[str, dict[str, Any], str | None, str]] = []

    def put_blob(self, data: bytes) -> str:
        key = blob_key(data)
        self.blobs.setdefault(key, data)
        return key

    def put_record(self, collection: str, key: str, value: dict[str, Any], *,
                   if_version: str | None = None) -> str:
        check_key(collection)
        check_key(key)
        version = secrets.token_hex(8)
        text = json.dumps(value, separators=(",", ":"), sort_keys=True)
        self.records.append((f"{collection}/{key}", {"c": collection, "k": key, "v": text},
                             if_version, version))
        return version

    def flush(self) -> None:
        self._flush_blobs()
        run: list[tuple[str, dict[str, Any], str]] = []
        for doc_id, doc, if_version, version in self.records:
            if if_version is None:
                run.append((doc_id, doc, version))
                continue
            self._insert(run)
            run = []
            self.store._put(self.store._records, doc_id, doc, if_version, version=version)
        self._insert(run)

    def _flush_blobs(self) -> None:
        from bson.binary import Binary

        small = []
        for key, data in self.blobs.items():
            if len(data) > PART_SIZE:
                self.store.put_blob(data)
            else:
                small.append({"_id": key, "n": 1, "size": len(data), "d": Binary(data)})
        if small:
            try:
                self.store._call("writing blobs", self.store._blobs.insert_many, small, ordered=False)
            except self.store._errors.bulk as exc:
                if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                    raise

    def _insert(self, run: list[tuple[str, dict[str, Any], str]]) -> None:
        if not run:
            return
        docs = [{"_id": doc_id, **doc, "ver": version} for doc_id, doc, version in run]
        try:
            self.store._call("writing records", self.store._records.insert_many, docs, ordered=True)
        except self.store._errors.bulk as exc:
            errors = exc.details.get("writeErrors", [])
            first = errors[0] if errors else {}
            if first.get("code") == 11000:
                raise ConflictError(f"record {run[first['index']][0]} already exists in "
                                    f"{self.store.url}") from None
            raise
