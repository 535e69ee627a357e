"""Templates of ``darwin new-plugin`` for the storage and observer kinds (see templates.py)."""

from __future__ import annotations

from .templates import OPTIONS

STORAGE_CONFTEST = '''import pytest

from darwin_plugins.testing import build_backend

from {module} import plugin

pytest_plugins = ["darwin_plugins.storage_conformance"]


@pytest.fixture
def darwin_storage_factory(tmp_path):
    return lambda namespace: build_backend("storage", f"{name}://{{tmp_path}}/{{namespace}}", plugins=[plugin])


@pytest.fixture
def darwin_storage_corrupter():
    def corrupt(storage, collection, key):
        (storage.root / "records" / collection / f"{{key}}.json").write_text("{{not json")
    return corrupt


@pytest.fixture
def darwin_storage_blob_swapper():
    def swap(storage, key, other):
        (storage.root / "blobs" / key).write_bytes((storage.root / "blobs" / other).read_bytes())
    return swap
'''

PLUGINS: dict[str, tuple[str, str]] = {
    "storage": ('''"""A storage backend: a JSON file per record and a file per blob, under {name}:///DIR."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from darwin_hookspecs import (ConflictError, CorruptBlobError, CorruptRecordError, NotFoundError,
                              StorageDefaults, StorageError, hookimpl)
from darwin_hookspecs.storage_api import release_all

KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
_LOCK = threading.Lock()  # one process: enough for a template; use file locks across processes
''' + OPTIONS + '''    url: str


class Store(StorageDefaults):  # inherits batch() and acquire_lease()
    def __init__(self, options: Options) -> None:
        self.url = options.url
        self.root = Path(options.url.split("://", 1)[1])
        (self.root / "blobs").mkdir(parents=True, exist_ok=True)
        self._leases = []

    def _path(self, collection: str, key: str) -> Path:
        for part in (collection, key):
            if not KEY.match(part):
                raise StorageError(f"invalid name {{part!r}}; fix: letters, digits, _ - .")
        return self.root / "records" / collection / f"{{key}}.json"

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)

    def put_record(self, collection, key, value, *, if_version=None) -> str:
        path = self._path(collection, key)
        data = json.dumps(value).encode()
        with _LOCK:
            exists = path.exists()
            if if_version is None and exists:
                raise ConflictError(f"{{collection}}/{{key}} exists")
            if if_version is not None and not exists:
                raise NotFoundError(f"{{collection}}/{{key}} not found")
            if if_version is not None and hashlib.sha256(path.read_bytes()).hexdigest() != if_version:
                raise ConflictError(f"{{collection}}/{{key}} changed")
            self._write(path, data)
        return hashlib.sha256(data).hexdigest()

    def get_record(self, collection, key):
        path = self._path(collection, key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"{{collection}}/{{key}} not found") from None
        try:
            return json.loads(data), hashlib.sha256(data).hexdigest()
        except ValueError:
            raise CorruptRecordError(f"record {{collection}}/{{key}} is not JSON") from None

    def scan(self, collection):
        folder = self.root / "records" / collection
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            value, version = self.get_record(collection, path.stem)
            yield path.stem, value, version

    def keys(self, collection):
        folder = self.root / "records" / collection
        return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []

    def collections(self):
        folder = self.root / "records"
        return sorted(p.name for p in folder.iterdir() if any(p.iterdir())) if folder.is_dir() else []

    def put_blob(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self.root / "blobs" / key
        with _LOCK:
            if not path.exists():
                self._write(path, data)
        return key

    def get_blob(self, key: str) -> bytes:
        try:
            data = (self.root / "blobs" / key).read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"blob {{key}} not found") from None
        if hashlib.sha256(data).hexdigest() != key:
            raise CorruptBlobError(f"blob {{key}} does not match its hash; fix: restore it")
        return data

    def has_blob(self, key: str) -> bool:
        return (self.root / "blobs" / key).is_file()

    def iter_blob_keys(self):
        return iter(sorted(p.name for p in (self.root / "blobs").iterdir() if not p.name.startswith("tmp")))

    def acquire_lease(self, owner="", ttl_s=60.0):
        lease = super().acquire_lease(owner, ttl_s)
        self._leases.append(lease)
        return lease

    def close(self) -> None:
        release_all(self._leases)


@hookimpl
def darwin_register_storage(registry) -> None:
    registry.add("{name}", lambda options, context: Store(options), options=Options,
                 description="JSON files in a directory.")
''', '''from darwin_plugins.storage_conformance import StorageConformance


class TestStorage(StorageConformance):
    pass
'''),
    "observer": ('''"""An observer: counts accepted children and writes the count into the run directory."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from darwin_hookspecs import hookimpl
''' + OPTIONS + '''    file: str = "{name}.txt"
    """Written into the run directory when the run finishes."""


darwin_options = Options  # validates [plugins.{name}]
state: dict = {{}}


@hookimpl
def darwin_configure(run, options: Options, run_dir: Path | None) -> None:
    state.update(path=(run_dir or Path.cwd()) / options.file, accepted=0)


@hookimpl
def darwin_variant_accepted(run, variant) -> None:
    state["accepted"] = state.get("accepted", 0) + 1


@hookimpl
def darwin_run_finished(run, summary) -> None:
    if "path" in state:
        state["path"].write_text(f"{{state['accepted']}} accepted of {{summary.variants}} variants\\n")
''', '''from darwin_hookspecs import RunInfo, RunSummary, Variant

from {module} import plugin


def test_observer_writes_into_the_run_directory(tmp_path):
    run = RunInfo(run_id="r", name="t", seed=0, created_at=0.0)
    plugin.darwin_configure(run=run, options=plugin.Options(), run_dir=tmp_path)
    for i in range(3):
        plugin.darwin_variant_accepted(run=run, variant=Variant(id=f"v{{i}}", parent_id=None, generation=0,
                                                                status="accepted"))
    plugin.darwin_run_finished(run=run, summary=RunSummary(run_id="r", status="completed", attempts=4, variants=5,
                                                           accepted=3, best_id="v1", best_score=1.0,
                                                           initial_score=0.0))
    assert (tmp_path / "{name}.txt").read_text() == "3 accepted of 5 variants\\n"
'''),
}
