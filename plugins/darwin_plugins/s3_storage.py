"""Storage backend ``s3://bucket/prefix``: a run in an S3 bucket (boto3, imported lazily).

Any S3-compatible server works through the ``endpoint_url`` option. Credentials come from the
standard AWS chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``,
``~/.aws/credentials``, instance roles), never from the config file.

Layout under the prefix: ``records/<collection>/<key>.json``, ``blobs/<sha256>`` and
``lease.json`` (the writer lease). A record's
version is its ETag. Create-only writes send ``If-None-Match: *`` and conditional replaces
``If-Match: <etag>``: S3 refuses (412) a write whose condition no longer holds, so two racing
writers cannot both win, and a PUT is atomic (never half-visible).
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import (
    BuildContext,
    CellLease,
    ConflictError,
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

HEAD_FIRST = 256 * 1024
"""Blobs at least this large are checked with HEAD before being uploaded."""


class S3Options(BaseModel):
    """``[storage]`` options of the ``s3`` backend."""

    model_config = ConfigDict(extra="forbid")
    url: str
    endpoint_url: str | None = None
    """An S3-compatible endpoint (MinIO, Ceph, moto...); default: AWS."""
    region: str | None = None
    """Default: the AWS configuration's region, else ``us-east-1``."""
    timeout_s: float = Field(10.0, gt=0)
    """Connection timeout; reads wait up to 6 times longer."""
    path_style: bool = True
    """Address the bucket in the path (what most S3-compatible servers expect)."""
    workers: int = Field(16, ge=1, le=128)
    """Parallel requests when reading a whole collection."""


def split_url(url: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://bucket/prefix`` (prefix without surrounding slashes)."""
    parts = urlsplit(url)
    bucket, prefix = parts.netloc, parts.path.strip("/")
    if len(bucket) < 3 or "/" in bucket:
        raise UserError(f"S3 URL {url!r} has no valid bucket name; fix: use s3://BUCKET/PREFIX")
    return bucket, prefix


class S3Storage(StorageDefaults):
    """A run stored under a prefix of an S3 bucket."""

    def __init__(self, url: str, *, endpoint_url: str | None = None, region: str | None = None,
                 timeout_s: float = 10.0, path_style: bool = True, workers: int = 16) -> None:
        from botocore.config import Config

        self.url = url
        self.bucket, prefix = split_url(url)
        self._root = f"{prefix}/" if prefix else ""
        self._workers = workers
        self._leases: list[Lease] = []
        from .s3_pack import PackWriter

        self._packer: PackWriter | None = PackWriter(self)
        from .s3_sessions import Session

        self._session = Session(self)
        self._errors = _error_types()
        session = _session()
        with _SESSION_LOCK:  # a boto3 session is not thread-safe; its clients are
            self._client: Any = session.client(
                "s3", endpoint_url=endpoint_url,
                region_name=region or session.region_name or "us-east-1",
                config=Config(
                    connect_timeout=timeout_s, read_timeout=timeout_s * 6,
                    retries={"max_attempts": 2, "mode": "standard"},
                    s3={"addressing_style": "path" if path_style else "auto"},
                    max_pool_connections=max(10, workers),
                ),
            )
        where = f"{url}" + (f" at {endpoint_url}" if endpoint_url else "")
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except self._errors.client as exc:
            status = _status(exc)
            if status == 404:
                raise UserError(f"S3 bucket {self.bucket!r} does not exist ({where}); fix: create "
                                "it or correct [storage] url") from None
            if status in (401, 403):
                raise UserError(f"S3 bucket {self.bucket!r} refused access ({where}, HTTP {status});"
                                " fix: check the AWS credentials (environment or ~/.aws)") from None
            raise StorageUnavailableError(f"S3 {where} failed: {exc}") from None
        except self._errors.connection as exc:
            raise StorageUnavailableError(
                f"S3 {where} is unreachable ({type(exc).__name__}: {exc}); fix: start the server "
                "or correct [storage] endpoint_url"
            ) from None
        except self._errors.credentials as exc:
            raise UserError(f"S3 {where}: {exc}; fix: set AWS credentials in the environment "
                            "or ~/.aws (never in the config file)") from None

    # ------------------------------------------------------------------ helpers

    def _record_key(self, collection: str, key: str) -> str:
        check_key(collection)
        check_key(key)
        return f"{self._root}records/{collection}/{key}.json"

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        """One S3 request; unreachable server or 5xx -> StorageUnavailableError."""
        try:
            return fn(**kwargs)
        except self._errors.connection as exc:
            raise StorageUnavailableError(
                f"S3 {self.url} unreachable while {what} ({type(exc).__name__}: {exc})"
            ) from exc
        except self._errors.client as exc:
            if _status(exc) >= 500:
                raise StorageUnavailableError(f"S3 {self.url} failed while {what}: {exc}") from exc
            raise

    def _list(self, prefix: str, delimiter: str = "") -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
            if delimiter:
                kwargs["Delimiter"] = delimiter
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call(f"listing {prefix}", self._client.list_objects_v2, **kwargs)
            yield page
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    def _read(self, collection: str, key: str) -> tuple[dict[str, Any], str]:
        return self._read_object(self._record_key(collection, key), f"{collection}/{key}")

    def _read_object(self, s3_key: str, name: str) -> tuple[dict[str, Any], str]:
        data, etag = self._get_raw(s3_key, name)
        return self._parse(data, s3_key, name), etag

    def _get_raw(self, s3_key: str, name: str) -> tuple[bytes, str]:
        """``(bytes, etag)`` of one object; ``NotFoundError`` if absent."""
        try:
            response = self._call(f"reading {name}", self._client.get_object,
                                  Bucket=self.bucket, Key=s3_key)
            data = self._call(f"reading {name}", response["Body"].read)
        except self._errors.client as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                raise NotFoundError(f"record {name} not found in {self.url}") from None
            raise
        return data, response["ETag"].strip('"')

    def _parse(self, data: bytes | str, s3_key: str, name: str) -> dict[str, Any]:
        return decode_record(data, name, f"s3://{self.bucket}/{s3_key}")

    # -------------------------------------------------------------------- blobs

    def put_blob(self, data: bytes) -> str:
        key = blob_key(data)
        if len(data) >= HEAD_FIRST and self.has_blob(key):
            return key
        try:
            self._call("writing a blob", self._client.put_object, Bucket=self.bucket,
                       Key=f"{self._root}blobs/{key}", Body=data, IfNoneMatch="*")
        except self._errors.client as exc:
            if _status(exc) not in (409, 412):  # 412/409: already stored (same content)
                raise
        return key

    def get_blob(self, key: str) -> bytes:
        check_key(key)
        try:
            response = self._call(f"reading blob {key}", self._client.get_object,
                                  Bucket=self.bucket, Key=f"{self._root}blobs/{key}")
            data = self._call(f"reading blob {key}", response["Body"].read)
        except self._errors.client as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                raise NotFoundError(f"blob {key} not found in {self.url}") from None
            raise
        return checked_blob(key, data, self.url)

    def has_blob(self, key: str) -> bool:
        check_key(key)
        try:
            self._call(f"checking blob {key}", self._client.head_object, Bucket=self.bucket,
                       Key=f"{self._root}blobs/{key}")
        except self._errors.client as exc:
            if _status(exc) == 404:
                return False
            raise
        return True

    def iter_blob_keys(self) -> Iterator[str]:
        start = len(f"{self._root}blobs/")
        for page in self._list(f"{self._root}blobs/"):
            for item in page.get("Contents", []):
                yield item["Key"][start:]

    # ------------------------------------------------------------------ records

    def put_record(
        self, collection: str, key: str, value: dict[str, Any], *, if_version: str | None = None
    ) -> str:
        return self._put_object(self._record_key(collection, key), f"{collection}/{key}", value, if_version)

    def _put_object(self, s3_key: str, name: str, value: dict[str, Any], if_version: str | None) -> str:
        """PUT with ``If-None-Match: *`` (create) or ``If-Match: <etag>``; return the new ETag."""
        body = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        condition = {"IfNoneMatch": "*"} if if_version is None else {"IfMatch": f'"{if_version}"'}
        if s3_key.startswith(f"{self._root}records/"):
            self._session.open(name.split("/", 1)[0])  # before the first write of the collection (.s3_sessions)
        try:
            response = self._call(f"writing {name}", self._client.put_object,
                                  Bucket=self.bucket, Key=s3_key, Body=body,
                                  ContentType="application/json", **condition)
        except self._errors.client as exc:
            status = _status(exc)
            if if_version is not None and (status == 404 or _code(exc) == "NoSuchKey"):
                raise NotFoundError(f"record {name} not found in {self.url}") from None
            if status in (409, 412):
                if if_version is None:
                    raise ConflictError(f"record {name} already exists in {self.url}") from None
                raise ConflictError(f"record {name} changed since it was read "
                                    f"(expected version {if_version})") from None
            raise
        etag = response["ETag"].strip('"')
        if self._packer is not None and s3_key.startswith(f"{self._root}records/"):
            self._packer.add(*name.split("/", 1), etag, body.decode())
        return etag

    def get_record(self, collection: str, key: str) -> tuple[dict[str, Any], str]:
        return self._read(collection, key)

    def listing(self, collection: str) -> dict[str, str]:
        """``{key: etag}`` of a collection's records, from the bucket listing (no GET)."""
        check_key(collection)
        prefix = f"{self._root}records/{collection}/"
        return {item["Key"][len(prefix):-len(".json")]: item["ETag"].strip('"')
                for page in self._list(prefix) for item in page.get("Contents", [])
                if item["Key"].endswith(".json") and "/" not in item["Key"][len(prefix):]}

    def keys(self, collection: str) -> list[str]:
        return sorted(self.listing(collection))

    def scan(self, collection: str) -> Iterator[tuple[str, dict[str, Any], str]]:
        """From the collection's packs where their copy is current (same ETag), else one GET
        per record; packs the records it had to GET (see :mod:`.s3_pack`)."""
        from .s3_pack import packed_scan

        yield from packed_scan(self, collection)

    def collections(self) -> list[str]:
        prefix = f"{self._root}records/"
        names = {p["Prefix"][len(prefix):].rstrip("/")
                 for page in self._list(prefix, "/") for p in page.get("CommonPrefixes", [])}
        return sorted(names)

    @contextlib.contextmanager
    def batch(self) -> Iterator[Any]:
        """Blobs uploaded in parallel, records in order (see :mod:`.s3_batch`)."""
        from .s3_batch import S3Batch

        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            batch = S3Batch(self, pool)
            try:
                yield batch
            finally:
                batch.wait()

    def acquire_lease(self, owner: str = "", ttl_s: float = 60.0) -> Lease:
        """The lease is the object ``PREFIX/lease.json``, written with If-None-Match / If-Match."""
        lease = CellLease.acquire(self.url, _LeaseCell(self), owner, ttl_s)
        self._leases.append(lease)
        return lease

    def close(self) -> None:
        if self._packer is not None:
            self._packer.flush()
        self._session.seal()
        _release_all(self._leases)
        self._client.close()


class _LeaseCell:
    def __init__(self, store: S3Storage) -> None:
        self.store, self.key = store, f"{store._root}lease.json"

    def read(self) -> tuple[dict[str, Any], str] | None:
        try:
            return self.store._read_object(self.key, "lease")
        except NotFoundError:
            return None

    def create(self, value: dict[str, Any]) -> str:
        return self.store._put_object(self.key, "lease", value, None)

    def replace(self, value: dict[str, Any], version: str) -> str:
        return self.store._put_object(self.key, "lease", value, version)


_SESSION_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _session() -> Any:
    """One boto3 session per process: its clients share the loaded service models (creating a
    session per store costs ~0.5 s). Credentials are still resolved by the standard chain."""
    import boto3

    return boto3.session.Session()


class _ErrorTypes:
    def __init__(self, connection: tuple[type[BaseException], ...], client: type[BaseException],
                 credentials: type[BaseException]):
        self.connection = connection
        self.client = client
        self.credentials = credentials


def _error_types() -> _ErrorTypes:
    from botocore import exceptions as e

    return _ErrorTypes(
        connection=(e.ConnectionError, e.HTTPClientError),  # refused, closed, timed out
        client=e.ClientError,
        credentials=e.NoCredentialsError,
    )


def _status(exc: Any) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _create(options: S3Options, context: BuildContext) -> S3Storage:
    return S3Storage(options.url, endpoint_url=options.endpoint_url, region=options.region,
                     timeout_s=options.timeout_s, path_style=options.path_style,
                     workers=options.workers)


@hookimpl
def darwin_register_storage(registry: Any) -> None:
    registry.add(
        "s3",
        _create,
        description="S3 bucket or any S3-compatible endpoint (URL s3://bucket/prefix); "
        "If-None-Match / If-Match conditional writes.",
        options=S3Options,
        extra="s3",
        requires=("boto3",),
    )
