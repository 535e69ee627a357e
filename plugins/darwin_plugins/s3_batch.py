"""``S3Storage.batch()``: a unit of work's blobs uploaded in parallel.

S3 has no multi-object write, and a record's version (its ETag) is only known from the PUT's
reply, so records are written at once, in order, with their conditions. Blob uploads start in
a thread pool when ``put_blob`` is called; a record write, and the end of the block, first wait
for every upload started before it, so a record never names a blob that is not stored yet.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from darwin_hookspecs.storage_codec import blob_key


class S3Batch:
    def __init__(self, store: Any, pool: ThreadPoolExecutor) -> None:
        self.store, self.pool = store, pool
        self.pending: dict[str, Future[str]] = {}

    def put_blob(self, data: bytes) -> str:
        key = blob_key(data)
        if key not in self.pending:
            self.pending[key] = self.pool.submit(self.store.put_blob, data)
        return key

    def wait(self) -> None:
        """Wait for every upload started so far; the first failure raises."""
        for future in list(self.pending.values()):
            future.result()

    def put_record(self, collection: str, key: str, value: dict[str, Any], *,
                   if_version: str | None = None) -> str:
        self.wait()
        return self.store.put_record(collection, key, value, if_version=if_version)
