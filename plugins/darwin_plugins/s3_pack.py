"""Packed copies of S3 records, so that reading a whole collection is a few GETs, not one per record.

A pack ``PREFIX/packs/<collection>/<random>.json`` maps keys to ``[etag, JSON text]``: copies of
records as they were when a scan read them. A pack is only a cache: a scan lists the records
(``ListObjectsV2`` gives every key's current ETag), takes a record from a pack only when the
pack's ETag equals the listed one (and, for an MD5 ETag, the text's MD5 equals it too), and GETs
every other record. So a replaced, added or damaged record is always read from its own object,
and a lost or stale pack costs GETs, never a wrong value. Records a scan had to GET are packed
when there are at least ``PACK_MIN``; past ``MAX_PACKS`` packs, they are merged into one.

Listing is what costs on a large run (one request per 1 000 records). A scan that listed a whole
collection while no writer of it was active also writes a *complete* pack named by the set of
sessions that wrote it (:mod:`.s3_sessions`); until another writer opens one, a scan reads that pack
alone (one GET of the sessions document, one of the pack).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

from darwin_hookspecs import NotFoundError

PACK_MIN = 32
MAX_PACKS = 8
WRITE_PACK = 512
"""The writer packs its own records every this many per collection, so that even the first
scan of a run reads packs (merged into one by that scan) rather than one GET per record."""
COMPLETE = "complete-"
"""A pack named ``complete-<seal>.json`` holds every record of its collection (``{"values":
{key: [etag, record]}}``) as a scan that listed them found them, written while every writing
session was sealed (:mod:`.s3_sessions`): a scan that finds the same seal reads it alone,
without listing the records."""
_MD5 = re.compile(r"^[0-9a-f]{32}$")


def _current(etag: str, entry: Any) -> str | None:
    """The pack entry's text if it is a copy of the object with ``etag``."""
    if not (isinstance(entry, list) and len(entry) == 2 and entry[0] == etag and isinstance(entry[1], str)):
        return None
    if _MD5.match(etag) and hashlib.md5(entry[1].encode(), usedforsecurity=False).hexdigest() != etag:
        return None
    return entry[1]


def _read_packs(store: Any, prefix: str, pool: ThreadPoolExecutor) -> tuple[list[str], dict[str, Any]]:
    names = [item["Key"] for page in store._list(prefix) for item in page.get("Contents", [])]

    def get(name: str) -> dict[str, Any]:
        if name.rpartition("/")[2].startswith(COMPLETE):
            return {}  # read only by a scan whose sessions match it (see packed_scan)
        try:
            data, _ = store._get_raw(name, "a pack")
            entries = json.loads(data).get("records", {})
            return entries if isinstance(entries, dict) else {}
        except Exception:  # noqa: BLE001 - a pack is a cache: missing or damaged = empty
            return {}

    merged: dict[str, Any] = {}
    for entries in pool.map(get, names):
        merged.update(entries)
    return names, merged


def _write_pack(store: Any, prefix: str, entries: dict[str, list[str]]) -> None:
    body = json.dumps({"records": entries}, separators=(",", ":")).encode()
    store._call("writing a pack", store._client.put_object, Bucket=store.bucket,
                Key=f"{prefix}{secrets.token_hex(8)}.json", Body=body, ContentType="application/json")


def _complete(store: Any, prefix: str, seal: str) -> dict[str, list[Any]] | None:
    """``{key: [etag, record]}`` of the complete pack written for ``seal`` (``None`` if there is
    none, or it is damaged: then the scan lists, as without it)."""
    try:
        data, _ = store._get_raw(f"{prefix}{COMPLETE}{seal}.json", "a pack")
        entries = json.loads(data).get("values")
    except (NotFoundError, ValueError, AttributeError):
        return None
    if not isinstance(entries, dict) or not all(
            isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) and isinstance(e[1], dict)
            for e in entries.values()):
        return None
    return entries


def _write_complete(store: Any, prefix: str, seal: str, etags: dict[str, str], values: dict[str, Any]) -> None:
    """The records themselves, not their text: a scan reading it parses one document."""
    body = json.dumps({"values": {k: [etags[k], values[k]] for k in etags}}, separators=(",", ":")).encode()
    store._call("writing a pack", store._client.put_object, Bucket=store.bucket,
                Key=f"{prefix}{COMPLETE}{seal}.json", Body=body, ContentType="application/json")


def packed_scan(store: Any, collection: str) -> Iterator[tuple[str, dict[str, Any], str]]:
    from .s3_sessions import fingerprint

    prefix = f"{store._root}packs/{collection}/"
    record_prefix = f"{store._root}records/{collection}/"
    seal = fingerprint(store, collection)  # before the listing: a writer starting after it changes the seal
    complete = _complete(store, prefix, seal) if seal is not None else None
    if complete is not None:  # nothing written since a scan listed every record: no listing
        for key in sorted(complete):
            etag, value = complete[key]
            yield key, value, etag
        return
    listed = store.listing(collection)
    if not listed:
        if seal is not None:  # an empty collection is complete too (the next scan lists nothing)
            try:
                _write_complete(store, prefix, seal, {}, {})
            except Exception:  # noqa: BLE001 - packing is an optimisation
                pass
        return
    with ThreadPoolExecutor(max_workers=store._workers) as pool:
        pack_names, packed = _read_packs(store, prefix, pool)
        texts: dict[str, str] = {}
        for key, etag in listed.items():
            text = _current(etag, packed.get(key))
            if text is not None:
                texts[key] = text
        missing = [key for key in listed if key not in texts]
        fetched = dict(zip(missing, pool.map(
            lambda k: store._get_raw(f"{record_prefix}{k}.json", f"{collection}/{k}"), missing)))
    fresh: dict[str, list[str]] = {}
    for key, (data, etag) in fetched.items():
        listed[key] = etag  # the GET's ETag (it may have changed since the listing)
        texts[key] = data.decode("utf-8", errors="replace")
        fresh[key] = [etag, texts[key]]
    values = {key: store._parse(texts[key].encode(), f"{record_prefix}{key}.json", f"{collection}/{key}")
              for key in sorted(listed)}  # a corrupt record raises, naming it, before any pack is written
    try:
        if len(fresh) >= PACK_MIN:
            _write_pack(store, prefix, fresh)
            pack_names.append("")
        if len(pack_names) > MAX_PACKS:
            _write_pack(store, prefix, {k: [listed[k], texts[k]] for k in listed})
            _delete(store, [n for n in pack_names if n])
        if seal is not None:  # every session sealed before the listing: this is the whole collection
            _write_complete(store, prefix, seal, listed, values)
    except Exception:  # noqa: BLE001 - packing is an optimisation; the scan itself succeeded
        pass
    for key in sorted(listed):
        yield key, values[key], listed[key]


def _delete(store: Any, names: list[str]) -> None:
    for start in range(0, len(names), 1000):
        store._call("removing merged packs", store._client.delete_objects, Bucket=store.bucket,
                    Delete={"Objects": [{"Key": n} for n in names[start:start + 1000]], "Quiet": True})


class PackWriter:
    """Copies of the records this handle wrote, packed every :data:`WRITE_PACK` per collection
    (and at close); like every pack, only a cache checked against the listing's ETags."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.pending: dict[str, dict[str, list[str]]] = {}
        self._lock = threading.Lock()

    def add(self, collection: str, key: str, etag: str, text: str) -> None:
        with self._lock:
            entries = self.pending.setdefault(collection, {})
            entries[key] = [etag, text]  # the latest version of a record replaced in the window
            full = entries if len(entries) >= WRITE_PACK else None
            if full is not None:
                del self.pending[collection]
        if full is not None:
            self._write(collection, full)

    def flush(self) -> None:
        with self._lock:
            pending, self.pending = self.pending, {}
        for collection, entries in pending.items():
            if len(entries) >= PACK_MIN:
                self._write(collection, entries)

    def _write(self, collection: str, entries: dict[str, list[str]]) -> None:
        try:
            _write_pack(self.store, f"{self.store._root}packs/{collection}/", entries)
        except Exception:  # noqa: BLE001 - packing is an optimisation; the records are written
            pass
