"""Projected scans in SQL: SQLite's JSON functions pick the fields out of each record's text,
and a few small JSON arrays per record cross into Python (:mod:`darwin_hookspecs.projection`).

A record's text is parsed once for all the plain paths (``json_extract`` with several paths)
and once per distinct ``*`` head (``json_each``), whose items are parsed once for all their
tails: parsing, not extracting, is what costs.
"""

from __future__ import annotations

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


def select(paths: Sequence[str]) -> tuple[str, Assemble]:
    """The query over a collection (``key``, one JSON array of parts, ``version``, in key
    order) and the function turning a row's decoded parts into the values of ``paths``."""
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
           "WHERE r.collection = ? ORDER BY r.key")

    def assemble(decoded: list[Any]) -> list[Any]:
        values: list[Any] = []
        for part, index, item in where:
            if part == 0:
                values.append(decoded[0][index])
            elif shapes[part - 1] == [()]:
                values.append(decoded[part])
            else:
                values.append([None if e is None else e[index] for e in decoded[part]])
        return values

    return sql, assemble


def decode(text: str, assemble: Assemble) -> list[Any]:
    return assemble(json.loads(text))
