"""``file://`` engines side by side (``bench_storage.py --engines``): the directory of files
(before), SQLite WAL (shipped) and an append-only journal prototype (``journal_store.py``), plus
the floor of raw SQLite inserts (one ``synchronous=FULL`` transaction per attempt).

Interleaved: each repetition runs every engine once, in a shuffled order, on fresh stores.
One *attempt* is what the engine writes for a finished child: the attempt record (create), a
patch blob (50 KB of code, compressed) and a log blob (20 KB), the variant record (12 task
results, create) and the attempt update (replace by version).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).parent))

from darwin_core.archive import Archive  # noqa: E402
from darwin_core.store import RunStore  # noqa: E402
from darwin_hookspecs import TaskResult, Variant, to_dict  # noqa: E402
from darwin_hookspecs.storage_api import write_through_batch  # noqa: E402
from darwin_plugins.file_storage import FileStorage  # noqa: E402
from darwin_plugins.file_storage.legacy import LegacyFileStorage  # noqa: E402
from journal_store import JournalStore  # noqa: E402

ENGINES: dict[str, Callable[[Path], Any]] = {
    "directory (before)": LegacyFileStorage,
    "sqlite (shipped)": FileStorage,
    "journal (prototype)": JournalStore,
}


def payloads(rng: random.Random, n: int) -> list[tuple[bytes, bytes, dict[str, Any]]]:
    """``n`` attempts' (patch, log, variant record), precomputed (compression is not timed)."""
    def text(size: int) -> bytes:
        return b"".join(b"    value = compute(%d)  # %08x\n" % (rng.randrange(999), rng.getrandbits(32))
                        for _ in range(size // 36))

    out = []
    for i in range(n):
        results = {f"task{t}": TaskResult(task_id=f"task{t}", passed=rng.random() < .5, score=rng.random(),
                                          duration_s=rng.random()) for t in range(12)}
        variant = Variant(id=f"v0001a{i:04d}", parent_id="v0000root", generation=1, status="accepted",
                          score=rng.random(), task_results=results, snapshot={"a.py": "0" * 64})
        out.append((b"DZ1\n" + zlib.compress(text(50_000), 6), b"DZ1\n" + zlib.compress(text(20_000), 6),
                    to_dict(variant)))
    return out


def attempt(store: Any, i: int, item: tuple[bytes, bytes, dict[str, Any]], *, batched: bool) -> None:
    patch, log, variant = item
    aid = f"g0001a{i:04d}"
    if batched:
        with (store.batch() if hasattr(store, "batch") else write_through_batch(store)) as b:
            b.put_record("attempts", aid, {"id": aid, "status": "finished", "child": variant["id"],
                                           "patch": b.put_blob(patch), "log": b.put_blob(log)})
            b.put_record("variants", variant["id"], variant)
        return
    version = store.put_record("attempts", aid, {"id": aid, "status": "running"})
    p, lg = store.put_blob(patch), store.put_blob(log)
    store.put_record("variants", variant["id"], variant)
    store.put_record("attempts", aid, {"id": aid, "status": "finished", "child": variant["id"],
                                       "patch": p, "log": lg}, if_version=version)


class _FsyncCounter:
    """Counts ``os.fsync`` calls made from Python (the directory store and the journal)."""

    def __init__(self) -> None:
        self.calls, self._real = 0, os.fsync

    def __enter__(self) -> "_FsyncCounter":
        def counted(fd: int) -> None:
            self.calls += 1
            self._real(fd)

        os.fsync = counted  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        os.fsync = self._real  # type: ignore[assignment]


def per_attempt(make: Callable[[Path], Any], root: Path, items: list[Any], *, batched: bool,
                threads: int = 1) -> tuple[float, float]:
    """(ms per attempt, durable syncs per attempt: SQLite commits, or fsync calls)."""
    with _FsyncCounter() as counter:
        ms, store = _per_attempt_ms(make, root, items, batched=batched, threads=threads)
    syncs = getattr(store, "commits", None) if isinstance(store, FileStorage) else counter.calls
    return ms, (syncs or 0) / len(items)


def _per_attempt_ms(make: Callable[[Path], Any], root: Path, items: list[Any], *, batched: bool,
                    threads: int = 1) -> tuple[float, Any]:
    store = make(root)
    chunks = [list(range(t, len(items), threads)) for t in range(threads)]
    t0 = time.perf_counter()
    workers = [threading.Thread(target=lambda c=c: [attempt(store, i, items[i], batched=batched) for i in c])
               for c in chunks]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - t0
    store.close() if hasattr(store, "close") else None
    return elapsed / len(items) * 1000, store


def sqlite_floor_ms(root: Path, items: list[Any]) -> float:
    """The same rows inserted with raw SQLite, one FULL-synchronous transaction per attempt."""
    root.mkdir(parents=True)
    conn = sqlite3.connect(root / "floor.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE r (c TEXT, k TEXT, v TEXT, PRIMARY KEY (c, k))")
    conn.execute("CREATE TABLE b (k TEXT PRIMARY KEY, d BLOB)")
    t0 = time.perf_counter()
    for i, (patch, log, variant) in enumerate(items):
        conn.execute("BEGIN")
        conn.execute("INSERT INTO b VALUES (?, ?)", (f"p{i}", patch))
        conn.execute("INSERT INTO b VALUES (?, ?)", (f"l{i}", log))
        conn.execute("INSERT INTO r VALUES ('attempts', ?, ?)", (f"a{i}", '{"status":"finished"}'))
        conn.execute("INSERT INTO r VALUES ('variants', ?, ?)", (variant["id"], json.dumps(variant)))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed / len(items) * 1000


def build_archive(make: Callable[[Path], Any], root: Path, n: int, rng: random.Random) -> None:
    """A store of ``n`` variant records (written in batches of 100, fsync off for the directory)."""
    store = LegacyFileStorage(root, fsync=False) if make is LegacyFileStorage else make(root)
    variants = [to_dict(Variant(
        id=f"v{1 + i // 100:04d}a{i % 100:03d}", parent_id="v0000root", generation=1 + i // 100,
        status="accepted", score=rng.random(), snapshot={f"pkg/mod{i % 50}.py": f"{rng.getrandbits(256):064x}"},
        task_results={f"task{t}": TaskResult(task_id=f"task{t}", passed=True, score=rng.random(), duration_s=1.0)
                      for t in range(12)}, patch_ref=f"{rng.getrandbits(256):064x}", description="mutated"))
        for i in range(n)]
    for start in range(0, n, 100):
        with (store.batch() if hasattr(store, "batch") else write_through_batch(store)) as b:
            for v in variants[start:start + 100]:
                b.put_record("variants", v["id"], v)
    store.close() if hasattr(store, "close") else None


def scan_s(make: Callable[[Path], Any], root: Path) -> float:
    """Open the store in a new handle and read every variant record (the storage's share)."""
    t0 = time.perf_counter()
    store = make(root)
    n = sum(1 for _ in store.scan("variants"))
    elapsed = time.perf_counter() - t0
    store.close() if hasattr(store, "close") else None
    assert n > 0
    return elapsed


def load_s(make: Callable[[Path], Any], root: Path) -> float:
    """Open the store in a new handle and load its archive, as ``darwin status``/``resume`` do."""
    t0 = time.perf_counter()
    store = RunStore(make(root))
    archive = Archive()
    for variant in store.load_variants():
        archive.add(variant)
    elapsed = time.perf_counter() - t0
    store.storage.close() if hasattr(store.storage, "close") else None
    return elapsed


def disk(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), sum(os.stat(p).st_blocks * 512 for p in files)


def main(work: Path, reps: int, n_attempts: int, n_load: int) -> None:
    rng = random.Random(11)
    items = payloads(rng, n_attempts)
    rows: dict[str, dict[str, list[float]]] = {name: {} for name in [*ENGINES, "sqlite floor"]}
    for name, make in ENGINES.items():
        build_archive(make, work / f"load-{len(name)}", n_load, random.Random(3))
    for rep in range(reps):
        order = list(ENGINES.items())
        random.Random(rep).shuffle(order)
        for name, make in order:
            base = work / f"r{rep}-{abs(hash(name)) % 10**6}"
            row = rows[name]
            for label, batched, threads in [("seq", False, 1), ("batched", True, 1), ("4 threads", False, 4),
                                            ("4 thr batched", True, 4)]:
                ms, syncs = per_attempt(make, base / label.replace(" ", "-"), items, batched=batched,
                                        threads=threads)
                row.setdefault(label, []).append(ms)
                row.setdefault(f"{label} syncs", []).append(syncs)
            row.setdefault("scan", []).append(scan_s(make, work / f"load-{len(name)}"))
            row.setdefault("load", []).append(load_s(make, work / f"load-{len(name)}"))
            print(f"rep {rep} {name}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in row.items()),
                  file=sys.stderr, flush=True)
        rows["sqlite floor"].setdefault("seq", []).append(sqlite_floor_ms(work / f"floor{rep}", items))
    print(f"\nper attempt (5 writes, 2 blobs of 50+20 KB before compression), {n_attempts} attempts, "
          f"median of {reps} interleaved reps; ms per attempt (durable syncs per attempt: SQLite "
          f"commits or fsync calls); scan = open + read {n_load} variant records; load = open + "
          "RunStore.load_variants into an Archive\n")
    cols = ["seq", "batched", "4 threads", "4 thr batched"]
    print(f"{'engine':22} " + " ".join(f"{c:>16}" for c in cols)
          + f" {'scan s':>7} {'load s':>7} {'files':>6} {'disk MB':>8}")
    for name, row in rows.items():
        med = {k: statistics.median(v) for k, v in row.items()}
        files, nbytes = disk(work / f"load-{len(name)}") if name in ENGINES else (0, 0)
        cells = [f"{med[c]:.2f} ({med[c + ' syncs']:.1f})" if c + " syncs" in med else
                 (f"{med[c]:.2f}" if c in med else "-") for c in cols]
        extra = [f"{med[k]:.3f}" if k in med else "-" for k in ("scan", "load")]
        print(f"{name:22} " + " ".join(f"{c:>16}" for c in cells) + f" {extra[0]:>7} {extra[1]:>7} "
              f"{files or '-':>6} {(f'{nbytes / 1e6:8.1f}' if nbytes else '-'):>8}")
