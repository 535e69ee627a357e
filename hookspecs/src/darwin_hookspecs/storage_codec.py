"""What every storage backend does with the bytes it stores: records are JSON objects, blobs are
content-addressed by SHA-256; a damaged record or blob is a :class:`CorruptRecordError` /
:class:`CorruptBlobError` naming it, where it lies and the fix (nothing is changed)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .errors import CorruptBlobError, CorruptRecordError

_FIX = "fix: restore it from a backup or an export of the run (Darwin changed nothing)"


class EncodedRecord(dict):  # type: ignore[type-arg]
    """A record (a plain ``dict`` to anyone reading it) carrying its canonical JSON text, encoded
    once when it was handed to the store (:func:`encoded`), so a backend encoding with
    :func:`encode_record` and the store's write hook (its size) share one encoding."""

    __slots__ = ("text",)

    def __reduce_ex__(self, protocol: Any) -> Any:  # a copy is a plain dict (it may be changed)
        return (dict, (dict(self),))


def encoded(value: dict[str, Any]) -> EncodedRecord:
    """``value`` (a shallow copy) with its canonical text, as it stands now."""
    record = EncodedRecord(value)
    record.text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return record


def encode_record(value: dict[str, Any]) -> str:
    """A record's canonical JSON text (compact, keys sorted): what every backend stores."""
    if type(value) is EncodedRecord:
        return value.text
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def decode_record(text: str | bytes, name: str, where: str) -> dict[str, Any]:
    """The record ``name`` (``collection/key``) from its stored JSON text; ``where`` says where
    it lies (a file, an object, a document) in the error."""
    try:
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
    except (ValueError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
        raise CorruptRecordError(f"record {name} is corrupt ({where}: {type(exc).__name__}: {exc}); {_FIX}") from None
    return value


def blob_key(data: bytes) -> str:
    """A blob's key: the SHA-256 of its bytes (hex)."""
    return hashlib.sha256(data).hexdigest()


def checked_blob(key: str, data: bytes, where: str) -> bytes:
    """``data`` if it hashes to ``key``, else :class:`CorruptBlobError` (damaged or replaced)."""
    if blob_key(data) != key:
        raise CorruptBlobError(f"blob {key} in {where} does not match its hash (damaged or replaced); {_FIX}")
    return data
