"""Real storage servers for the storage tests: a MongoDB wire-protocol server (SecantusDB, a
subprocess) and moto's S3 server over HTTP (in a thread), plus the conformance fixtures."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from darwin_core.plugins import PluginManager
from darwin_core.rundir import open_storage
from darwin_hookspecs import Storage

# the conformance plugin is loaded by the top-level tests/conftest.py (pytest requires it there)

BACKENDS = ["file", "mongodb", "s3"]
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start within {timeout}s")


class MongoServer:
    """A SecantusDB server (MongoDB wire protocol) in a subprocess, data kept on disk so that it
    survives a kill and restart."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / f"secantusd-{self.port}.log"

    def start(self) -> "MongoServer":
        exe = Path(sys.executable).with_name("secantusd-py")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(exe), "--host", "127.0.0.1", "--port", str(self.port), "--storage-path",
                 str(self.data_dir), "--sync-on-commit", "--log-level", "WARNING"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        wait_for_port(self.port)
        return self

    def kill(self) -> None:
        """SIGKILL: the server dies mid-whatever, as a crashed machine would."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def url(self, namespace: str, database: str = "darwintest") -> str:
        return f"mongodb://127.0.0.1:{self.port}/{database}?prefix={namespace}"


class S3Server:
    """moto's S3 server over HTTP on 127.0.0.1, in a thread of the test process (moto keeps its
    state in this process, so a stopped server restarted on the same port still has it)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.server: Any = None

    def start(self) -> "S3Server":
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")

    def new_bucket(self) -> str:
        name = f"darwin-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name


@pytest.fixture(scope="session", autouse=True)
def aws_test_credentials() -> Iterator[None]:
    """moto accepts any credentials; set them in the environment (as a user would) so that the
    CLI subprocesses find them through the standard AWS chain."""
    saved = {k: os.environ.get(k) for k in AWS_ENV}
    os.environ.update(AWS_ENV)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    server = MongoServer(tmp_path_factory.mktemp("mongo") / "data").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_bucket(s3_server: S3Server) -> str:
    return s3_server.new_bucket()


@pytest.fixture(scope="session")
def plugin_manager() -> PluginManager:
    return PluginManager()


@pytest.fixture
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str, str], tuple[str, dict[str, Any]]]:
    """``make(backend, namespace) -> (url, options)`` for a store on the test servers."""

    def make(backend: str, namespace: str) -> tuple[str, dict[str, Any]]:
        if backend == "file":
            return (tmp_path / "stores" / namespace).as_uri(), {}
        if backend == "mongodb":
            return request.getfixturevalue("mongo_server").url(namespace), {}
        if backend == "s3":
            server = request.getfixturevalue("s3_server")
            bucket = request.getfixturevalue("s3_bucket")
            return f"s3://{bucket}/{namespace}", {"endpoint_url": server.endpoint}
        raise ValueError(backend)

    return make


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def darwin_storage_factory(
    backend: str, storage_url: Callable[..., tuple[str, dict[str, Any]]], plugin_manager: PluginManager
) -> Callable[[str], Storage]:
    """The conformance suite's factory, built through the plugin manager like a run's store."""

    def make(namespace: str) -> Storage:
        url, options = storage_url(backend, namespace)
        return open_storage(plugin_manager, url, options)

    return make


@pytest.fixture
def darwin_storage_corrupter(backend: str, request: pytest.FixtureRequest) -> Callable[[Storage, str, str], None]:
    """Overwrite a record with bytes that are not JSON, behind the backend's back."""

    def corrupt(storage: Storage, collection: str, key: str) -> None:
        garbage = b'{"truncated": '
        if backend == "file":
            corrupt_file_row(storage, "UPDATE records SET value = ? WHERE collection = ? AND key = ?",
                             (garbage.decode(), collection, key))
        elif backend == "mongodb":
            corrupt_mongo_record(storage.url, collection, key, garbage.decode())
        else:
            server = request.getfixturevalue("s3_server")
            bucket, _, prefix = storage.url[len("s3://"):].partition("/")
            server.client().put_object(Bucket=bucket, Key=f"{prefix}/records/{collection}/{key}.json",
                                       Body=garbage)

    return corrupt


@pytest.fixture
def darwin_storage_blob_swapper(backend: str, request: pytest.FixtureRequest) -> Callable[[Storage, str, str], None]:
    """Replace blob ``key``'s bytes by blob ``other``'s bytes, behind the backend's back."""

    def swap(storage: Storage, key: str, other: str) -> None:
        data = storage.get_blob(other)
        if backend == "file":
            corrupt_file_row(storage, "UPDATE blobs SET data = ? WHERE key = ?", (data, key))
        elif backend == "mongodb":
            import pymongo
            from bson.binary import Binary

            from darwin_plugins.mongo_storage import split_url

            client_url, database, prefix = split_url(storage.url)
            with pymongo.MongoClient(client_url) as client:
                result = client[database][f"{prefix}.blobs"].update_one(
                    {"_id": key}, {"$set": {"d": Binary(data), "size": len(data)}})
                assert result.matched_count == 1
        else:
            server = request.getfixturevalue("s3_server")
            bucket, _, prefix = storage.url[len("s3://"):].partition("/")
            server.client().put_object(Bucket=bucket, Key=f"{prefix}/blobs/{key}", Body=data)

    return swap


def corrupt_file_row(storage: Storage, sql: str, args: tuple[Any, ...]) -> None:
    """Change the SQLite file of a ``file://`` store directly (as a damaged disk or a user would)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(storage.path)) as conn:  # type: ignore[attr-defined]
        with conn:
            assert conn.execute(sql, args).rowcount == 1


def corrupt_mongo_record(url: str, collection: str, key: str, text: str) -> None:
    import pymongo

    from darwin_plugins.mongo_storage import split_url

    client_url, database, prefix = split_url(url)
    with pymongo.MongoClient(client_url) as client:
        name = f"{prefix}.records" if prefix else "records"
        result = client[database][name].update_one({"_id": f"{collection}/{key}"}, {"$set": {"v": text}})
        assert result.matched_count == 1


def copy_quickstart(dest: Path) -> Path:
    from support import QUICKSTART

    shutil.copytree(QUICKSTART, dest)
    return dest


@pytest.fixture
def servers() -> Any:
    """The helpers of this conftest for test modules (which cannot import a nested conftest)."""
    import types

    return types.SimpleNamespace(MongoServer=MongoServer, S3Server=S3Server, free_port=free_port,
                                 corrupt_mongo_record=corrupt_mongo_record,
                                 corrupt_file_row=corrupt_file_row)


@pytest.fixture
def darwin_app() -> Callable[..., Any]:
    """The real ``darwin`` CLI, invoked in this process (no interpreter start-up: on a loaded
    2-core machine that is ~4 s per command). Returns ``returncode``, ``stdout``, ``stderr``."""
    import types

    from typer.testing import CliRunner

    from darwin_core.cli import app

    def run(*args: str) -> Any:
        result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return types.SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)

    return run
