"""Projected scans: a few fields of every record of a collection, without decoding the rest.

``storage.project(collection, paths)`` yields ``(key, values, version)`` in key order, where
``values[i]`` is the value at ``paths[i]`` in the record (``None`` when absent). A path is a
dotted list of field names (``"target.task_id"``); one ``*`` component maps the rest of the
path over the values of the object or list it names (``"task_results.*.passed"``: a list, one
item per task result, ``[]`` when the field is absent). Field names are letters, digits and
``_``.

:func:`project` uses the backend's own ``project()`` when it has one (``file://`` does it in
SQL, so the JSON text of a large record is never turned into Python objects), a full
:meth:`~darwin_hookspecs.Storage.scan` otherwise; both give the same values.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Sequence

_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def parse_path(path: str) -> tuple[list[str], list[str] | None]:
    """``(head, tail)`` of a path: ``tail`` is ``None`` without ``*``, else the path after it."""
    parts = path.split(".")
    if parts.count("*") > 1 or parts[0] == "*" or not all(p == "*" or _NAME.match(p) for p in parts):
        raise ValueError(f"projection path {path!r} is not NAME(.NAME)* with at most one .*; "
                         "fix: e.g. 'score', 'target.task_id' or 'task_results.*.passed'")
    if "*" not in parts:
        return parts, None
    star = parts.index("*")
    return parts[:star], parts[star + 1:]


def _walk(value: Any, names: Sequence[str]) -> Any:
    for name in names:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def project_value(record: dict[str, Any], path: str) -> Any:
    """The value at ``path`` in one decoded record (the reference semantics of a projection)."""
    return _project(record, *parse_path(path))


def _project(record: dict[str, Any], head: Sequence[str], tail: Sequence[str] | None) -> Any:
    value = _walk(record, head)
    if tail is None:
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [_walk(item, tail) for item in items]


def scan_projected(storage: Any, collection: str, paths: Sequence[str]) -> Iterator[tuple[str, list[Any], str]]:
    """The default: a full scan, each record projected in Python (each path parsed once)."""
    parsed = [parse_path(path) for path in paths]
    plain = [head[0] if len(head) == 1 and tail is None else None for head, tail in parsed]
    for key, value, version in sorted(storage.scan(collection), key=lambda item: item[0]):
        yield key, [value.get(name) if name is not None else _project(value, head, tail)
                    for name, (head, tail) in zip(plain, parsed)], version


def project(storage: Any, collection: str, paths: Sequence[str]) -> Iterator[tuple[str, list[Any], str]]:
    """``storage.project(...)`` if the backend has it, else :func:`scan_projected`."""
    own = getattr(storage, "project", None)
    if own is not None:
        return own(collection, paths)
    return scan_projected(storage, collection, paths)
