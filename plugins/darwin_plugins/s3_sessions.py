"""Writing sessions of an S3 store, so that a reader knows when a complete pack is still complete.

Every :class:`~darwin_plugins.s3_storage.S3Storage` that writes a record of a collection first
creates the empty object ``PREFIX/sessions/<collection>/<token>.open`` and, when it is closed,
``<token>.sealed``: a sealed session writes nothing more. A session left open by a writer that
died is sealed by the next one that holds the run's writer lease and writes that collection
(Darwin writes a run's records under its lease, so a session open when a lease holder starts
writing is dead). The names say it all: one listing of ``sessions/<collection>/``, no GET.

:func:`fingerprint` names the set of sessions that wrote a collection when every one is sealed
(``None`` while one is open): a scan that listed every record of a collection writes a complete
pack for that fingerprint (:mod:`.s3_pack`), and a later scan that finds the same fingerprint
reads that pack alone, without listing the records. Any new writer of the collection changes
the fingerprint before its first write.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from typing import Any

OPEN, SEALED = ".open", ".sealed"


def _tokens(store: Any, collection: str) -> tuple[set[str], set[str]]:
    """``(opened, sealed)`` tokens of the sessions that wrote ``collection``."""
    prefix = f"{store._root}sessions/{collection}/"
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


def fingerprint(store: Any, collection: str) -> str | None:
    """The name of the set of sessions that wrote ``collection`` if all are sealed, else ``None``."""
    opened, sealed = _tokens(store, collection)
    if opened - sealed:
        return None
    return hashlib.sha256("\n".join(sorted(opened | sealed)).encode()).hexdigest()[:24]


class Session:
    """This handle's writing session (opened in a collection before its first write there)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.token = secrets.token_hex(8)
        self.opened: set[str] = set()
        self.orphans: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def open(self, collection: str) -> None:
        if collection in self.opened:
            return
        with self._lock:
            if collection in self.opened:
                return
            self._put(collection, self.token + OPEN)
            if self.store._leases:  # a lease holder: the sessions still open are dead
                opened, sealed = _tokens(self.store, collection)
                self.orphans[collection] = opened - sealed - {self.token}
            self.opened.add(collection)

    def seal(self) -> None:
        """At close, after the last write; best effort (an open session only slows reads)."""
        try:
            for collection in sorted(self.opened):
                for token in sorted(self.orphans.get(collection, ())) + [self.token]:
                    self._put(collection, token + SEALED)
        except Exception:  # noqa: BLE001 - the records are written; readers list them instead
            pass

    def _put(self, collection: str, name: str) -> None:
        self.store._call("recording a writing session", self.store._client.put_object,
                         Bucket=self.store.bucket, Key=f"{self.store._root}sessions/{collection}/{name}", Body=b"")
