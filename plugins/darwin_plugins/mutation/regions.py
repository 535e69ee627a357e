"""Evolve blocks: the lines a generator may edit.

A file may mark evolvable regions with ``EVOLVE-BLOCK-START`` / ``EVOLVE-BLOCK-END`` comments
(OpenEvolve's convention); a config may list regions as ``"path:first-last"`` (1-based, inclusive).
When any region exists, only sites entirely inside one are edited, and files without a region
are left alone.
"""

from __future__ import annotations

import re

from darwin_hookspecs import UserError

START, END = "EVOLVE-BLOCK-START", "EVOLVE-BLOCK-END"
_SPEC = re.compile(r"^(?P<path>.+):(?P<first>\d+)-(?P<last>\d+)$")

Regions = dict[str, list[tuple[int, int]]]


def marked(source: str) -> list[tuple[int, int]]:
    """Line ranges between markers (marker lines excluded); an unclosed block runs to the end."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    lines = source.splitlines()
    for number, line in enumerate(lines, start=1):
        if START in line and start is None:
            start = number + 1
        elif END in line and start is not None:
            spans.append((start, number - 1))
            start = None
    if start is not None:
        spans.append((start, len(lines)))
    return spans


def parse_specs(specs: list[str]) -> Regions:
    regions: Regions = {}
    for spec in specs:
        match = _SPEC.match(spec.strip())
        if not match or int(match["first"]) > int(match["last"]):
            raise UserError(f"[generator] regions: {spec!r} is not 'path:first-last' (e.g. 'solver.py:10-40')")
        regions.setdefault(match["path"], []).append((int(match["first"]), int(match["last"])))
    return regions


def inside(spans: list[tuple[int, int]], first: int, last: int) -> bool:
    return any(a <= first and last <= b for a, b in spans)
