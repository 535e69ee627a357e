"""Projected scans in SQL: SQLite's JSON functions pick the fields out of each record's text,
and a few small JSON arrays per record cross into Python (:mod:`darwin_hookspecs.projection`).

A record's text is parsed once for all the plain paths (``json_extract`` with several paths)
and once per distinct ``*`` head (``json_each``), whose items are parsed once for all their
tails: parsing, not extracting, is what costs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Sequence

from darwin_hookspecs.projection import parse_path

_ITEM = ("CASE e.type WHEN 'object' THEN json(e.value) WHEN 'array' THEN json(e.value) "
         "WHEN 'text' THEN json_quote(e.value) WHEN 'true' THEN json('true') "
         "WHEN 'false' THEN json('false') ELSE e.value END")
"""An item of a ``*`` as JSON (``e.value`` is SQL text for a JSON string, so it is quoted back)."""


def _json_path(names: Sequence[str]) -> str:
    return "$" + "".join(f'."{name}"' for name in names)  # names are [A-Za-z0-9_]+ (parse_path)


def _extract(source: str, paths: list[str]) -> str:
    """One JSON array of the values at ``paths`` in ``source`` (parsed once)."""
    if len(paths) == 1:  # json_extract with one path returns the SQL value, not an array
        return f"json_array({source} -> '{paths[0]}')"
    return f"json_extract({source}, {', '.join(repr(p) for p in paths)})"


Assemble = Callable[[list[Any]], list[Any]]


def _plain_paths(paths: Sequence[str]) -> list[str] | None:
    """The JSON paths of ``paths`` if none has a ``*``."""
    parsed = [parse_path(p) for p in paths]
    return None if any(t is not None for _, t in parsed) else [_json_path(h) for h, _ in parsed]


def _guarded(plain: list[str]) -> str:
    """The values of ``plain`` in ``value``, NULL for a record that is not JSON (so that a
    damaged record can still be written, and is named when read: see ``FileStorage.project``)."""
    return f"CASE WHEN json_valid(value) THEN {_extract('value', plain)} END"


def index_sql(collection: str, paths: Sequence[str]) -> str | None:
    """The index on expression that keeps the values of ``paths`` (no ``*``) for the records
    of ``collection``: SQLite computes it on every write and reads a projection from it alone
    (a covering index), never parsing the records' text. ``None`` for paths with a ``*``."""
    plain = _plain_paths(paths)
    if not plain:
        return None
    expr = _guarded(plain)
    name = "projection_" + hashlib.sha256(f"{collection}\0{expr}".encode()).hexdigest()[:16]
    return (f'CREATE INDEX IF NOT EXISTS "{name}" ON records (collection, key, version, {expr}) '
            f"WHERE collection = '{collection}'")


def select(paths: Sequence[str], collection: str) -> tuple[str, Assemble]:
    """The query over ``collection`` (a checked key: ``key``, one JSON array of parts,
    ``version``, in key order) and the function turning a row's decoded parts into the values
    of ``paths``. Without ``*`` the query is the one :func:`index_sql`'s index answers."""
    plain_only = _plain_paths(paths)
    if plain_only:
        sql = (f"SELECT key, {_guarded(plain_only)}, version FROM records "
               f"WHERE collection = '{collection}' ORDER BY key")
        return sql, _same
    plain: list[str] = []
    heads: dict[str, list[tuple[str, ...]]] = {}
    where: list[tuple[int, int, int]] = []  # (part, index, item index or -1)
    for path in paths:
        head, tail = parse_path(path)
        if tail is None:
            where.append((0, len(plain), -1))
            plain.append(_json_path(head))
        else:  # the items themselves (``a.*``) and fields of them (``a.*.b``) are separate scans
            group = _json_path(head) + ("" if tail else " *")
            tails = heads.setdefault(group, [])
            if tuple(tail) not in tails:
                tails.append(tuple(tail))
            where.append((1 + list(heads).index(group), tails.index(tuple(tail)), 0))
    parts = [_extract("r.value", plain) if plain else "json('[]')"]
    shapes: list[list[tuple[str, ...]]] = []
    for group, tails in heads.items():
        head = group.removesuffix(" *")
        if tails == [()]:
            item = _ITEM
        else:
            inner = _extract("e.value", [_json_path(t) for t in tails])
            item = f"CASE WHEN e.type = 'object' THEN json({inner}) END"
        parts.append(f"json((SELECT json_group_array({item}) FROM json_each(r.value, '{head}') AS e "
                     "WHERE e.key IS NOT NULL))")
        shapes.append(tails)
    sql = (f"SELECT r.key, json_array({', '.join(parts)}), r.version FROM records AS r "
           f"WHERE r.collection = '{collection}' ORDER BY r.key")

    # the values in the order [plain..., group 1's tails..., group 2's...], then permuted
    offsets, flat_index = [], len(plain)
    for tails in shapes:
        offsets.append(flat_index)
        flat_index += len(tails)
    order = [index if part == 0 else offsets[part - 1] + index for part, index, _ in where]
    identity = order == list(range(len(order)))
    items_only = [tails == [()] for tails in shapes]

    def assemble(decoded: list[Any]) -> list[Any]:
        flat = decoded[0]
        for part, tails in enumerate(shapes, start=1):
            items = decoded[part]
            if items_only[part - 1]:
                flat.append(items)
            elif None in items:
                flat.extend([None if e is None else e[i] for e in items] for i in range(len(tails)))
            elif items:
                flat.extend(list(column) for column in zip(*items))
            else:
                flat.extend([] for _ in tails)
        return flat if identity else [flat[j] for j in order]

    return sql, assemble


def decode_all(texts: list[str], assemble: Assemble, chunk: int = 4096) -> list[list[Any]]:
    """The values of each row's text (``assemble`` of its decoded parts), parsed as one JSON
    array per ``chunk`` texts: one parser call instead of one per record (the per-call overhead
    was most of a small record's cost)."""
    out: list[list[Any]] = []
    for start in range(0, len(texts), chunk):
        parts = json.loads("[" + ",".join(texts[start:start + chunk]) + "]")
        out.extend(parts if assemble is _same else map(assemble, parts))
    return out


def _same(decoded: list[Any]) -> list[Any]:
    return decoded
