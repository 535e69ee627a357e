"""Storage backends side by side: file://, mongodb:// (SecantusDB server) and s3:// (moto server).

Per backend, through the engine's own RunStore/CodeBook (what a run really does):

1. record one variant: a 50 KB patch blob, a 20 KB log blob, the variant record and the
   attempt update (median of N);
2. load an archive of 10 000 variants (``RunStore.load_variants`` into an ``Archive``);
3. bytes stored for 1 000 variants of a 5 MB source tree, each child changing one file, next
   to the size of their diffs (the target) and of 1 000 full copies.

Run: ``.venv/bin/python benchmarks/bench_storage.py`` (``--quick`` for a smaller smoke run).
Servers are started as subprocesses on 127.0.0.1 and stopped at the end.

``--engines`` instead compares the ``file://`` engines side by side, interleaved and repeated
(``--reps``): the directory of files (before), SQLite WAL (shipped), an append-only journal
prototype, and the raw-SQLite floor (see ``file_engines.py``).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from darwin_core.archive import Archive
from darwin_core.plugins import PluginManager
from darwin_core.rundir import open_storage
from darwin_core.snapshots import CodeBook, unified_diff
from darwin_core.store import RunStore
from darwin_hookspecs import Attempt, Storage, TaskResult, Variant

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int) -> None:
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no server on {port}")


class Servers:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.mongo_port, self.s3_port = free_port(), free_port()
        log = open(work / "servers.log", "ab")
        self.procs = [
            subprocess.Popen([str(BIN / "secantusd-py"), "--host", "127.0.0.1", "--port", str(self.mongo_port),
                              "--storage-path", str(work / "mongo"), "--log-level", "WARNING"],
                             stdout=log, stderr=subprocess.STDOUT),
            subprocess.Popen([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.s3_port)],
                             stdout=log, stderr=subprocess.STDOUT),
        ]
        wait_port(self.mongo_port)
        wait_port(self.s3_port)
        os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
        import boto3

        boto3.client("s3", endpoint_url=self.endpoint).create_bucket(Bucket="bench")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def url(self, backend: str, name: str) -> tuple[str, dict[str, Any]]:
        if backend == "file":
            return (self.work / "file" / name).as_uri(), {}
        if backend == "mongodb":
            return f"mongodb://127.0.0.1:{self.mongo_port}/bench?prefix={name}", {}
        return f"s3://bench/{name}", {"endpoint_url": self.endpoint}

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def stored_bytes(backend: str, storage: Storage, servers: Servers, name: str) -> int:
    """Bytes the backend holds for one run."""
    if backend == "file":
        import sqlite3

        root = Path(storage.root)  # type: ignore[attr-defined]
        with sqlite3.connect(root / "darwin.sqlite3") as conn:  # fold the WAL in, as a close does
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    if backend == "mongodb":
        import bson
        import pymongo

        with pymongo.MongoClient(f"mongodb://127.0.0.1:{servers.mongo_port}/") as client:
            db = client["bench"]
            return sum(len(bson.encode(doc)) for suffix in ("records", "blobs", "blob_parts")
                       for doc in db[f"{name}.{suffix}"].find())
    import boto3

    client = boto3.client("s3", endpoint_url=servers.endpoint)
    total = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket="bench", Prefix=f"{name}/"):
        total += sum(item["Size"] for item in page.get("Contents", []))
    return total


def python_text(rng: random.Random, size: int) -> bytes:
    words = ["def", "return", "self", "value", "items", "count", "for", "in", "if", "else", "result",
             "total", "index", "name", "data", "append", "len", "range", "None", "True"]
    lines, n = [], 0
    while n < size:
        line = "    " * rng.randint(0, 3) + " ".join(rng.choice(words) for _ in range(rng.randint(3, 10)))
        line += f"  # {rng.getrandbits(32):08x}\n"
        lines.append(line)
        n += len(line)
    return "".join(lines).encode()[:size]


def task_results(rng: random.Random, n: int = 12) -> dict[str, TaskResult]:
    return {f"task{i}": TaskResult(task_id=f"task{i}", passed=rng.random() < 0.5, score=rng.random(),
                                   duration_s=rng.random())
            for i in range(n)}


# --------------------------------------------------------------------------- measures


def bench_record_one(store: RunStore, rng: random.Random, n: int) -> float:
    """Median seconds to record one finished attempt: patch + log blobs, variant, attempt."""
    times = []
    for i in range(n):
        patch = python_text(rng, 50_000)
        log = python_text(rng, 20_000)
        attempt = Attempt(id=f"g0001a{i:03d}", generation=1, index=i, parent_id="v0000root", seed=i)
        store.save_attempt(attempt, create=True)
        t0 = time.perf_counter()
        patch_ref = store.put_blob(patch)
        log_ref = store.put_blob(log)
        results = task_results(rng)
        results["task0"].log_ref = log_ref
        store.save_variant(Variant(id=f"v0001a{i:03d}", parent_id="v0000root", generation=1, status="accepted",
                                   score=0.5, task_results=results, snapshot={"a.py": patch_ref},
                                   patch_ref=patch_ref, attempt_id=attempt.id))
        attempt.status, attempt.child_id = "finished", f"v0001a{i:03d}"
        store.save_attempt(attempt)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_load(store: RunStore, reopen: Callable[[], Storage], rng: random.Random, n: int) -> tuple[float, float, float]:
    """(seconds to write n variants with 8 threads, seconds to load them into an Archive, the
    same again in a new handle: S3 then reads the packs the first load wrote)."""
    variants = [Variant(id=f"v{1 + i // 100:04d}a{i % 100:03d}", parent_id="v0000root", generation=1 + i // 100,
                        status="accepted", score=rng.random(), task_results=task_results(rng),
                        snapshot={f"pkg/mod{i % 50}.py": f"{rng.getrandbits(256):064x}"},
                        patch_ref=f"{rng.getrandbits(256):064x}", description="mutated something")
                for i in range(n)]
    from darwin_hookspecs import to_dict

    t0 = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:  # the storage is thread-safe; RunStore is not needed here
        list(pool.map(lambda v: store.storage.put_record("variants", v.id, to_dict(v)), variants))
    write_s = time.perf_counter() - t0
    times = []
    for handle in (store, None):
        t0 = time.perf_counter()
        handle = handle or RunStore(reopen())
        archive = Archive()
        for variant in handle.load_variants():
            archive.add(variant)
        times.append(time.perf_counter() - t0)
        assert len(archive) == n
    return write_s, times[0], times[1]


def bench_bytes(store: RunStore, rng: random.Random, n_children: int, tree_mb: float,
                size: Callable[[], int]) -> dict[str, int]:
    """Record a root of ``tree_mb`` MB (files of ~20 KB) and ``n_children`` children each
    changing a few lines of one file, as the engine does; return the sizes that matter."""
    n_files = max(1, int(tree_mb * 1_000_000 / 20_000))
    files = {f"pkg/mod{i:03d}.py": python_text(rng, 20_000) for i in range(n_files)}
    book = CodeBook(store)
    root = Variant(id="v0000root", parent_id=None, generation=0, status="accepted",
                   snapshot={rel: store.put_blob(data) for rel, data in files.items()})
    store.save_variant(root)
    book.add(root)
    root_stored = size()
    diff_bytes = 0
    parents = ["v0000root"]
    for i in range(n_children):
        parent_id = rng.choice(parents[-20:])  # a recent variant, as selection mostly picks
        manifest = book.manifest(parent_id)
        rel = rng.choice(sorted(manifest))
        before = store.get_blob(manifest[rel])
        lines = before.split(b"\n")
        for _ in range(3):
            lines[rng.randrange(len(lines))] = b"    value = compute(value)  # changed %d" % rng.getrandbits(20)
        new = b"\n".join(lines)
        snapshot, effective = book.store_changes(parent_id, {rel: new})
        diff = unified_diff({rel: before}, effective).encode()
        diff_bytes += len(diff)
        child = Variant(id=f"v{1 + i // 100:04d}a{i % 100:03d}", parent_id=parent_id, generation=1 + i // 100,
                        status="accepted", score=rng.random(), task_results=task_results(rng),
                        snapshot=snapshot, patch_ref=store.put_blob(diff))
        store.save_variant(child)
        book.add(child)
        parents.append(child.id)
    tree_bytes = sum(len(d) for d in files.values())
    return {"tree": tree_bytes, "diffs": diff_bytes, "copies": tree_bytes * n_children,
            "root_stored": root_stored, "children_stored": size() - root_stored}


# ------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    parser.add_argument("--backends", default="file,mongodb,s3")
    parser.add_argument("--engines", action="store_true", help="compare the file:// engines")
    parser.add_argument("--reps", type=int, default=5, help="repetitions (with --engines)")
    args = parser.parse_args()
    if args.engines:
        sys.path.insert(0, str(Path(__file__).parent))
        import file_engines

        work = Path(tempfile.mkdtemp(prefix="darwin-bench-engines-", dir=os.environ.get("BENCH_DIR")))
        try:
            file_engines.main(work, args.reps, 20 if args.quick else 100, 500 if args.quick else 10_000)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    n_record, n_load, n_children, tree_mb = (5, 500, 50, 1.0) if args.quick else (20, 10_000, 1_000, 5.0)
    backends = args.backends.split(",")
    work = Path(tempfile.mkdtemp(prefix="darwin-bench-storage-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on kill too
    servers = Servers(work)
    plugins = PluginManager()
    rows: dict[str, dict[str, Any]] = {}
    try:
        for backend in backends:
            rng = random.Random(7)
            row: dict[str, Any] = {}

            def store_for(name: str) -> tuple[RunStore, Callable[[], int]]:
                url, options = servers.url(backend, name)
                storage = open_storage(plugins, url, options)
                return RunStore(storage), lambda: stored_bytes(backend, storage, servers, name)

            store, _ = store_for("record")
            row["record_ms"] = bench_record_one(store, rng, n_record) * 1000
            store, _ = store_for("load")
            row["write_s"], row["load_s"], row["reload_s"] = bench_load(
                store, lambda: open_storage(plugins, *servers.url(backend, "load")), rng, n_load)
            store, size = store_for("bytes")
            row.update(bench_bytes(store, rng, n_children, tree_mb, size))
            rows[backend] = row
            print(f"{backend}: {row}", file=sys.stderr, flush=True)
    finally:
        servers.stop()
        shutil.rmtree(work, ignore_errors=True)

    base = rows.get("file")
    print(f"\nrecord one variant (50 KB patch + 20 KB log): median of {n_record}; load an archive of "
          f"{n_load} variants; bytes for {n_children} children of a {tree_mb:g} MB tree (one file changed "
          "by 3 lines each)\n")
    print(f"{'backend':8} {'record ms':>10} {'x file':>7} {'load s':>8} {'x file':>7} {'again s':>8} {'root MB':>8} "
          f"{'children MB':>12} {'diffs MB':>9} {'children/diffs':>15} {'copies/children':>16}")
    for backend, row in rows.items():
        print(f"{backend:8} {row['record_ms']:10.2f} {row['record_ms'] / base['record_ms'] if base else 1:7.1f} "
              f"{row['load_s']:8.2f} {row['load_s'] / base['load_s'] if base else 1:7.1f} {row['reload_s']:8.2f} "
              f"{row['root_stored'] / 1e6:8.2f} {row['children_stored'] / 1e6:12.2f} {row['diffs'] / 1e6:9.2f} "
              f"{row['children_stored'] / max(row['diffs'], 1):15.2f} "
              f"{row['copies'] / max(row['children_stored'], 1):16.0f}")
    print("\n(children MB: everything the children added to the store, records included; diffs MB: "
          "their raw unified diffs; copies: 1 full tree per child)")


if __name__ == "__main__":
    main()
