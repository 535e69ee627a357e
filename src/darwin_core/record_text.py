"""A record's stored JSON text, encoded once per write by the run store.

``pydantic_core.to_json`` (Rust, already a dependency through pydantic) encodes the engine's
records 5-15x faster than ``json.dumps(..., sort_keys=True)``: that encoding was the largest
pure-Python cost of a no-op attempt (~0.2 ms of 4.5 records). The text is compact JSON with the
keys in the order the record was built (not sorted) and non-ASCII characters as UTF-8; it reads
back as the same value, and a record's version stays a hash of its stored text (opaque, compared
only with versions the same store returned). Values ``pydantic_core`` cannot encode (a string
holding a lone surrogate) fall back to the canonical ``json.dumps`` text, which raises
``TypeError`` for an arbitrary object as before; the few types ``pydantic_core`` knows and
``json`` refuses (a set, bytes, a date) are written as JSON arrays and strings.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from darwin_hookspecs.storage_codec import EncodedRecord

_TO_JSON: list[Callable[[Any], bytes]] = []


def _to_json() -> Callable[[Any], bytes]:
    if not _TO_JSON:
        from pydantic_core import to_json  # imported on the first write, not with the module

        _TO_JSON.append(to_json)
    return _TO_JSON[0]


def _canonical(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def dumps(value: dict[str, Any]) -> str:
    """The stored text of ``value`` (a JSON-compatible dict, as ``to_dict`` gives)."""
    try:
        text = _to_json()(value).decode()
    except (ValueError, TypeError, UnicodeError):  # PydanticSerializationError is a ValueError
        return _canonical(value)
    return text


def encoded(value: dict[str, Any]) -> EncodedRecord:
    """``value`` (a shallow copy) carrying its stored text (:func:`dumps`), as it stands now."""
    record = EncodedRecord(value)
    record.text = dumps(value)
    return record
