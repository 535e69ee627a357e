"""SIGKILL a ``file://`` writer at random moments, over and over; after each kill the store
opens, nothing acknowledged is lost, nothing is half-written, and conditional writes held."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from darwin_plugins.file_storage import FileStorage

WRITER = r"""
import sys, threading
from pathlib import Path
from darwin_hookspecs import ConflictError
from darwin_plugins.file_storage import FileStorage

store = FileStorage(Path(sys.argv[1]))
out_lock = threading.Lock()

def ack(line):
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

def work(t):
    try:
        value, version = store.get_record("counters", f"t{t}")
    except KeyError:
        value, version = {"n": 0}, store.put_record("counters", f"t{t}", {"n": 0})
    n = value["n"]
    while True:
        n += 1
        data = f"thread {t} item {n} ".encode() * (1 + n % 200)
        if n % 3:
            blob = store.put_blob(data)
            try:
                store.put_record("items", f"t{t}n{n:06d}", {"blob": blob, "n": n})
            except ConflictError:  # written before the last kill, its counter was not
                assert store.get_record("items", f"t{t}n{n:06d}")[0] == {"blob": blob, "n": n}
            version = store.put_record("counters", f"t{t}", {"n": n}, if_version=version)
        else:  # one unit of work: blob, item and counter in one batch
            with store.batch() as batch:
                blob = batch.put_blob(data)
                batch.put_record("items", f"t{t}n{n:06d}", {"blob": blob, "n": n})
                new = batch.put_record("counters", f"t{t}", {"n": n}, if_version=version)
            version = new
        ack(f"{t} {n}")

ack("ready")
threads = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(4)]
for th in threads:
    th.start()
for th in threads:
    th.join()
"""


def _check(root: Path, acked: dict[int, int]) -> dict[int, int]:
    """The invariants after a kill; return each thread's stored counter."""
    store = FileStorage(root, must_exist=True)
    try:
        items = {key: value for key, value, _ in store.scan("items")}
        counters = {int(key[1:]): value["n"] for key, value, _ in store.scan("counters")}
        for t, n in acked.items():  # acknowledged = durable
            assert counters[t] >= n, (t, counters[t], n)
            assert counters[t] <= n + 1, (t, counters[t], n)  # at most the one in flight
        for t, n in counters.items():  # the counter and its item were written in order
            for k in range(1, n + 1):
                item = items[f"t{t}n{k:06d}"]
                assert item["n"] == k
                assert store.get_blob(item["blob"]) == f"thread {t} item {k} ".encode() * (1 + k % 200)
        assert all(int(key[1:].split("n")[1]) <= counters[int(key[1:].split("n")[0])] + 1 for key in items)
        with store._readers.get() as conn:  # noqa: SLF001 - SQLite's own check of the file
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return counters
    finally:
        store.close()


def test_sigkill_at_random_moments_loses_nothing_acknowledged(tmp_path: Path) -> None:
    root = tmp_path / "store"
    rng = random.Random(1234)
    acked: dict[int, int] = {}
    kills = 0
    for _ in range(12):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(root)], stdout=subprocess.PIPE,
                                text=True, start_new_session=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.02, 0.6))
        os.killpg(proc.pid, signal.SIGKILL)
        for line in proc.stdout.read().splitlines():  # what it acknowledged before dying
            t, n = map(int, line.split())
            acked[t] = max(acked.get(t, 0), n)
        proc.wait()
        kills += proc.returncode == -signal.SIGKILL
        counters = _check(root, acked)
        acked = counters  # the next writer continues from what is stored
    assert kills == 12
    assert sum(acked.values()) > 100, acked  # the writers really wrote between the kills
    assert len(list(root.iterdir())) <= 5
