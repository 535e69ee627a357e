"""Writing sessions of an S3 store, so that a reader knows when a complete pack is still complete.

Every :class:`~darwin_plugins.s3_storage.S3Storage` that writes a record first creates the empty
object ``PREFIX/sessions/<token>.open`` and, when it is closed, ``<token>.sealed``: a sealed
session writes nothing more. A session left open by a writer that died is sealed by the next
one that holds the run's writer lease (Darwin writes a run's records under its lease, so a
session open when a lease holder starts writing is dead). The names alone say it all: one
listing of ``sessions/``, no GET.

:func:`fingerprint` names the set of sessions when every one is sealed (``None`` while one is
open): a scan that listed every record of a collection writes a complete pack for that
fingerprint (:mod:`.s3_pack`), and a later scan that finds the same fingerprint reads that
pack alone, without listing the records. Any new writer changes the fingerprint first.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from typing import Any

OPEN, SEALED = ".open", ".sealed"


def _tokens(store: Any) -> tuple[set[str], set[str]]:
    """``(opened, sealed)`` session tokens under the store's prefix."""
    prefix = f"{store._root}sessions/"
    opened: set[str] = set()
    sealed: set[str] = set()
    for page in store._list(prefix):
        for item in page.get("Contents", []):
            name = item["Key"][len(prefix):]
            if name.endswith(OPEN):
                opened.add(name[: -len(OPEN)])
            elif name.endswith(SEALED):
                sealed.add(name[: -len(SEALED)])
    return opened, sealed


def fingerprint(store: Any) -> str | None:
    """The name of the store's set of sessions if all are sealed, else ``None``."""
    opened, sealed = _tokens(store)
    if opened - sealed:
        return None
    return hashlib.sha256("\n".join(sorted(opened | sealed)).encode()).hexdigest()[:24]


class Session:
    """This handle's writing session (opened before its first record write)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.token = secrets.token_hex(8)
        self.opened = False
        self.orphans: set[str] = set()
        self._lock = threading.Lock()

    def open(self) -> None:
        if self.opened:
            return
        with self._lock:
            if self.opened:
                return
            self._put(self.token + OPEN)
            if self.store._leases:  # a lease holder: the sessions still open are dead
                opened, sealed = _tokens(self.store)
                self.orphans = opened - sealed - {self.token}
            self.opened = True

    def seal(self) -> None:
        """At close, after the last write; best effort (an open session only slows reads)."""
        if not self.opened:
            return
        try:
            for token in sorted(self.orphans) + [self.token]:
                self._put(token + SEALED)
        except Exception:  # noqa: BLE001 - the records are written; readers list them instead
            pass

    def _put(self, name: str) -> None:
        self.store._call("recording a writing session", self.store._client.put_object,
                         Bucket=self.store.bucket, Key=f"{self.store._root}sessions/{name}", Body=b"")
