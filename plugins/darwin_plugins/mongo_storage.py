"""Storage backend ``mongodb://``: a run in a MongoDB database (pymongo, imported lazily).

URL: ``mongodb://[user:pass@]host[:port][,host2...]/DBNAME?prefix=NAME&<pymongo options>``.
``DBNAME`` defaults to ``darwin``; ``prefix`` (removed before the URL reaches pymongo) names the
run's collections ``NAME.records``, ``NAME.blobs``, ``NAME.blob_parts`` and ``NAME.lease`` (the
writer lease), so that one database holds many runs (put ``{run_id}`` in it).

Records are documents ``{_id: "collection/key", c, k, v: <JSON text>, ver}``: the JSON is kept
as text so that any key (dots, ``$``) and any number round-trip exactly. Create-only writes rely
on the unique ``_id`` (``DuplicateKeyError`` -> :class:`ConflictError`); conditional replaces
filter on ``{_id, ver}`` so that exactly one of two racing writers matches. Blobs are keyed by
their sha256 and split in parts below MongoDB's 16 MB document limit; reads verify the hash.
Only the documented pymongo API is used, so a real MongoDB and the test server behave alike.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import (
    BuildContext,
    CellLease,
    ConflictError,
    CorruptRecordError,
    Lease,
    NotFoundError,
    StorageDefaults,
    StorageUnavailableError,
    UserError,
    hookimpl,
)

from darwin_hookspecs.storage_api import release_all as _release_all
from darwin_hookspecs.storage_codec import blob_key, checked_blob, decode_record

from .file_storage import check_key

PART_SIZE = 8 * 1024 * 1024
"""Blob bytes per document (MongoDB caps a document at 16 MB)."""


class MongoOptions(BaseModel):
    """``[storage]`` options of the ``mongodb`` backend."""

    model_config = ConfigDict(extra="forbid")
    url: str
    timeout_s: float = Field(10.0, gt=0)
    """How long to wait for the server (selection and connection) before an operation fails."""
    socket_timeout_s: float = Field(60.0, gt=0)
    """How long one operation may wait for a reply."""


def split_url(url: str) -> tuple[str, str, str]:
    """``(client URL without prefix, database, prefix)``."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((v for k, v in query if k == "prefix"), "")
    rest = [(k, v) for k, v in query if k != "prefix"]
    database = parts.path.strip("/") or "darwin"
    if "/" in database or any(c in database for c in ' ."$\\'):
        raise UserError(f"MongoDB URL {redact(url)}: invalid database name {database!r}; "
                        "fix: use mongodb://host:port/DBNAME?prefix=NAME")
    if any(c in prefix for c in '$\x00') or prefix.startswith("system"):
        raise UserError(f"MongoDB URL {redact(url)}: invalid prefix {prefix!r}; fix: use letters, "
                        "digits, '-', '_' or '.'")
    client_url = urlunsplit((parts.scheme, parts.netloc, "/", urlencode(rest), ""))
    return client_url, database, prefix


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class MongoStorage(StorageDefaults):
    """A run stored in MongoDB collections."""

    def __init__(self, url: str, *, timeout_s: float = 10.0, socket_timeout_s: float = 60.0) -> None:
        import pymongo

        self.url = redact(url)
        client_url, database, prefix = split_url(url)
        self._errors = _error_types()
        ms = int(timeout_s * 1000)
        self._client: Any = pymongo.MongoClient(
            client_url, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms,
            socketTimeoutMS=int(socket_timeout_s * 1000), appname="darwin",
        )
        db = self._client[database]
        name = (lambda s: f"{prefix}.{s}") if prefix else (lambda s: s)
        self._records = db[name("records")]
        self._blobs = db[name("blobs")]
        self._parts = db[name("blob_parts")]
        self._lease = db[name("lease")]
        self._leases: list[Lease] = []
        try:
            self._client.admin.command("ping")
            self._records.create_index([("c", 1), ("k", 1)])
        except Exception as exc:
            self._client.close()
            if isinstance(exc, self._errors.connection):
                raise StorageUnavailableError(
                    f"MongoDB at {self.url} is unreachable ({type(exc).__name__}: {exc}); fix: "
                    "start the server or correct [storage] url"
                ) from None
            raise

    # ------------------------------------------------------------------ helpers

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one pymongo call, turning connection trouble into StorageUnavailableError."""
        try:
            return fn(*args, **kwargs)
        except self._errors.connection as exc:
            raise StorageUnavailableError(
                f"MongoDB at {self.url} unreachable while {what} ({type(exc).__name__}: {exc})"
            ) from exc

    def _decode(self, doc: dict[str, Any], collection: str, key: str) -> tuple[dict[str, Any], str]:
        where = f"{self.url}, document _id {doc.get('_id')!r} in {self._records.name}"
        version = doc.get("ver")
        if not isinstance(version, str):
            raise CorruptRecordError(f"record {collection}/{key} is corrupt ({where}: its version is not a "
                                     "string); fix: restore it from a backup or an export of the run")
        return decode_record(doc.get("v"), f"{collection}/{key}", where), version

    # -------------------------------------------------------------------- blobs

    def put_blob(self, data: bytes) -> str:
        from bson.binary import Binary

        key = blob_key(data)
        if self.has_blob(key):
            return key
        chunks = [data[i:i + PART_SIZE] for i in range(0, len(data), PART_SIZE)] or [b""]
        for index, chunk in enumerate(chunks[1:], start=1):  # parts first, the head makes it visible
            self._call("writing a blob part", self._parts.replace_one,
                       {"_id": f"{key}.{index}"}, {"d": Binary(chunk)}, upsert=True)
        try:
            self._call("writing a blob", self._blobs.insert_one,
                       {"_id": key, "n": len(chunks), "size": len(data), "d": Binary(chunks[0])})
        except self._errors.duplicate:
            pass  # stored meanwhile by another writer: same content
        return key

    def get_blob(self, key: str) -> bytes:
        check_key(key)
        head = self._call(f"reading blob {key}", self._blobs.find_one, {"_id": key})
        if head is None:
            raise NotFoundError(f"blob {key} not found in {self.url}")
        try:
            chunks = [bytes(head["d"])]
            for index in range(1, int(head["n"])):
                part = self._call(f"reading blob {key}", self._parts.find_one, {"_id": f"{key}.{index}"})
                chunks.append(bytes(part["d"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptRecordError(f"blob {key} in {self.url} is incomplete ({exc}); fix: restore "
                                     "it from a backup or an export of the run") from None
        return checked_blob(key, b"".join(chunks), self.url)

    def has_blob(self, key: str) -> bool:
        return self._call(f"checking blob {key}", self._blobs.find_one, {"_id": key}, {"_id": 1}) is not None

    def iter_blob_keys(self) -> Iterator[str]:
        docs = self._call("listing blobs", lambda: list(self._blobs.find({}, {"_id": 1}).sort("_id", 1)))
        for doc in docs:
            yield doc["_id"]

    # ------------------------------------------------------------------ records

    def put_record(
        self, collection: str, key: str, value: dict[str, Any], *, if_version: str | None = None
    ) -> str:
        check_key(collection)
        check_key(key)
        text = json.dumps(value, separators=(",", ":"), sort_keys=True)
        return self._put(self._records, f"{collection}/{key}", {"c": collection, "k": key, "v": text},
                         if_version)

    def _put(self, target: Any, doc_id: str, doc: dict[str, Any], if_version: str | None,
             *, version: str | None = None) -> str:
        """Create-only (unique ``_id``) or replace-if-``ver`` one document; return its new ``ver``."""
        version = version or secrets.token_hex(8)
        doc = {**doc, "ver": version}
        if if_version is None:
            try:
                self._call(f"writing {doc_id}", target.insert_one, {"_id": doc_id, **doc})
            except self._errors.duplicate:
                raise ConflictError(f"record {doc_id} already exists in {self.url}") from None
            return version
        result = self._call(f"writing {doc_id}", target.replace_one, {"_id": doc_id, "ver": if_version}, doc)
        if result.matched_count == 1:
            return version
        current = self._call(f"reading {doc_id}", target.find_one, {"_id": doc_id}, {"ver": 1})
        if current is None:
            raise NotFoundError(f"record {doc_id} not found in {self.url}")
        raise ConflictError(f"record {doc_id} changed since it was read (version "
                            f"{current.get('ver')}, expected {if_version})")

    def get_record(self, collection: str, key: str) -> tuple[dict[str, Any], str]:
        check_key(collection)
        check_key(key)
        doc = self._call(f"reading {collection}/{key}", self._records.find_one, {"_id": f"{collection}/{key}"})
        if doc is None:
            raise NotFoundError(f"record {collection}/{key} not found in {self.url}")
        return self._decode(doc, collection, key)

    def scan(self, collection: str) -> Iterator[tuple[str, dict[str, Any], str]]:
        check_key(collection)
        docs = self._call(f"reading {collection}",
                          lambda: list(self._records.find({"c": collection}).sort("k", 1)))
        for doc in docs:
            key = str(doc.get("k", ""))
            value, version = self._decode(doc, collection, key)
            yield key, value, version

    def keys(self, collection: str) -> list[str]:
        check_key(collection)
        docs = self._call(f"listing {collection}",
                          lambda: list(self._records.find({"c": collection}, {"k": 1}).sort("k", 1)))
        return [str(doc.get("k", "")) for doc in docs]

    def collections(self) -> list[str]:
        return sorted(self._call("listing collections", self._records.distinct, "c"))

    @contextlib.contextmanager
    def batch(self) -> Iterator[Any]:
        """Writes sent when the block exits, in few round trips (see :mod:`.mongo_batch`)."""
        from .mongo_batch import MongoBatch

        batch = MongoBatch(self)
        yield batch
        batch.flush()

    def acquire_lease(self, owner: str = "", ttl_s: float = 60.0) -> Lease:
        """The lease is document ``writer`` of ``PREFIX.lease``, changed by conditional writes."""
        lease = CellLease.acquire(self.url, _LeaseCell(self), owner, ttl_s)
        self._leases.append(lease)
        return lease

    def close(self) -> None:
        _release_all(self._leases)
        self._client.close()


class _LeaseCell:
    def __init__(self, store: MongoStorage) -> None:
        self.store = store

    def read(self) -> tuple[dict[str, Any], str] | None:
        doc = self.store._call("reading the lease", self.store._lease.find_one, {"_id": "writer"})
        return None if doc is None else self.store._decode(doc, "lease", "writer")

    def create(self, value: dict[str, Any]) -> str:
        return self.store._put(self.store._lease, "writer", {"v": json.dumps(value)}, None)

    def replace(self, value: dict[str, Any], version: str) -> str:
        return self.store._put(self.store._lease, "writer", {"v": json.dumps(value)}, version)


class _ErrorTypes:
    def __init__(self, connection: tuple[type[BaseException], ...], duplicate: type[BaseException],
                 bulk: type[BaseException]):
        self.connection = connection
        self.duplicate = duplicate
        self.bulk = bulk


def _error_types() -> _ErrorTypes:
    from pymongo import errors

    return _ErrorTypes(
        connection=(errors.ConnectionFailure, errors.ServerSelectionTimeoutError,
                    errors.NetworkTimeout, errors.WTimeoutError),
        duplicate=errors.DuplicateKeyError,
        bulk=errors.BulkWriteError,
    )


def _create(options: MongoOptions, context: BuildContext) -> MongoStorage:
    return MongoStorage(options.url, timeout_s=options.timeout_s,
                        socket_timeout_s=options.socket_timeout_s)


@hookimpl
def darwin_register_storage(registry: Any) -> None:
    for scheme in ("mongodb", "mongodb+srv"):
        registry.add(
            scheme,
            _create,
            description="MongoDB database (URL mongodb://host:port/DB?prefix=NAME); unique keys "
            "and versioned replaces.",
            options=MongoOptions,
            extra="mongodb",
            requires=("pymongo",),
        )
