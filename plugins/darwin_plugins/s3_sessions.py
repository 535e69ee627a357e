"""Writing sessions of an S3 store, so that a reader knows when a complete pack is still complete.

Each collection has a small document ``PREFIX/sessions/<collection>.json``: ``{"open": [tokens],
"sealed": [tokens]}``. Every :class:`~darwin_plugins.s3_storage.S3Storage` that writes a record
of a collection first adds its token to ``open`` (a conditional replace, retried on conflict)
and, when it is closed, moves it to ``sealed``: a sealed session writes nothing more. A session
left open by a writer that died is sealed by the next one that holds the run's writer lease and
writes that collection (Darwin writes a run's records under its lease, so a session open when a
lease holder starts writing is dead). A reader needs one GET, no listing.

:func:`fingerprint` names the set of sessions that wrote a collection when every one is sealed
(``None`` while one is open): a scan that listed every record of a collection writes a complete
pack for that fingerprint (:mod:`.s3_pack`), and a later scan that finds the same fingerprint
reads that pack alone, without listing the records. Any new writer of the collection changes
the fingerprint before its first write.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from typing import Any, Callable

from darwin_hookspecs import ConflictError, NotFoundError

Doc = dict[str, list[str]]


def _key(store: Any, collection: str) -> str:
    return f"{store._root}sessions/{collection}.json"


def _read(store: Any, collection: str) -> tuple[Doc, str | None]:
    """The collection's sessions and the document's version (``None``: no document yet); a
    damaged document reads as a session open, so that no scan trusts a complete pack."""
    try:
        data, etag = store._get_raw(_key(store, collection), f"sessions/{collection}")
    except NotFoundError:
        return {"open": [], "sealed": []}, None
    try:
        value = json.loads(data)
        opened, sealed = value["open"], value["sealed"]
        if not isinstance(opened, list) or not isinstance(sealed, list):
            raise ValueError("not lists")
    except (ValueError, TypeError, KeyError):
        return {"open": ["(damaged)"], "sealed": []}, etag
    return {"open": [str(t) for t in opened], "sealed": [str(t) for t in sealed]}, etag


def fingerprint(store: Any, collection: str) -> str | None:
    """The name of the set of sessions that wrote ``collection`` if all are sealed, else ``None``."""
    doc, _ = _read(store, collection)
    if doc["open"]:
        return None
    return hashlib.sha256("\n".join(sorted(doc["sealed"])).encode()).hexdigest()[:24]


def _update(store: Any, collection: str, change: Callable[[Doc], Doc]) -> None:
    """Replace the collection's document by ``change(doc)``, conditionally, until it lands."""
    for _ in range(64):
        doc, version = _read(store, collection)
        try:
            store._put_object(_key(store, collection), f"sessions/{collection}", change(doc), version)
            return
        except (ConflictError, NotFoundError):  # another session changed it meanwhile: again
            continue
    raise ConflictError(f"sessions/{collection} in {store.url} kept changing; try again")


class Session:
    """This handle's writing session (opened in a collection before its first write there)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.token = secrets.token_hex(8)
        self.opened: set[str] = set()
        self._lock = threading.Lock()

    def open(self, collection: str) -> None:
        if collection in self.opened:
            return
        with self._lock:
            if collection in self.opened:
                return
            leased = bool(self.store._leases)  # a lease holder: the sessions still open are dead

            def opening(doc: Doc) -> Doc:
                others = [t for t in doc["open"] if t != self.token]
                if leased:  # "(damaged)" goes too: the new document is whole
                    return {"open": [self.token], "sealed": [*doc["sealed"], *others]}
                return {"open": [*others, self.token], "sealed": doc["sealed"]}

            _update(self.store, collection, opening)
            self.opened.add(collection)

    def seal(self) -> None:
        """At close, after the last write; best effort (an open session only slows reads)."""
        def sealing(doc: Doc) -> Doc:
            return {"open": [t for t in doc["open"] if t != self.token], "sealed": [*doc["sealed"], self.token]}

        for collection in sorted(self.opened):
            try:
                _update(self.store, collection, sealing)
            except Exception:  # noqa: BLE001 - the records are written; readers list them instead
                pass
