"""Systematic edits: one edit applied at every site of the same shape in a function, one child
(Meng et al.'s LASE / SYDIT: a fix repeated at analogous places, e.g. both backward loops'
``range(right, left, -1)`` and ``range(bottom, top, -1)`` given ``left - 1`` and ``top - 1``).

Sites of one shape: the same family and operator label, the same occurrence on their node, and
nodes of one :func:`~.shapes.skeleton` (the code with variable names blanked; at least two
variables in it). An alternative every one of them offers (by its description, so a name
replacement, whose description names the name, only where the names agree) is applied to all of
them at once; the site's node is the function, its line the first member's.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from ..priors import NEAR, multiplier
from .shapes import shapes_of
from .tables import Make

FAMILIES = ("comparison", "arithmetic", "augmented", "off_by_one")
"""Families whose edits are repeated (expression-level; statement edits and ``name``'s hundreds are not)."""
NEAR_ONLY = ("comparison", "arithmetic", "augmented")
"""Families repeated with their near misses only (``<`` / ``<=``, ``+`` / ``-``, ``+=`` / ``-=``: :mod:`..priors`)."""
MAX_SITES = 4
"""A shape at more places than this is not an analogy (every ``xs[i]`` of a function)."""


class _Apply(cst.CSTTransformer):
    def __init__(self, targets: dict[int, Make]) -> None:
        super().__init__()
        self.targets = targets

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:  # type: ignore[override]
        make = self.targets.get(id(original_node))
        return make(updated_node) if make is not None else updated_node


def _path(root: cst.CSTNode, node: cst.CSTNode) -> list[int] | None:
    """Child positions leading from ``root`` to ``node`` (``None``: not under it)."""
    if root is node:
        return []
    for i, child in enumerate(root.children):
        rest = _path(child, node)
        if rest is not None:
            return [i, *rest]
    return None


def _follow(root: cst.CSTNode, path: list[int]) -> cst.CSTNode | None:
    for i in path:
        children = root.children
        if i >= len(children):
            return None
        root = children[i]
    return root


def _everywhere(function: cst.FunctionDef, members: list[tuple[Any, int]]) -> Make:
    """Every member's edit applied inside the (updated) function: each member is found again by
    its path, so another edit of a pair inside the function is kept; when a path no longer leads
    to a node of its type, the edits are applied to the original function instead."""
    targets = {id(site.node): site.alternatives[alt][1] for site, alt in members}
    steps: list[tuple[list[int] | None, type, Make]] = []  # found on the first use (most edits never are)

    def make(updated: cst.CSTNode) -> Any:
        if not steps:
            steps.extend((_path(function, site.node), type(site.node), site.alternatives[alt][1]) for site, alt in members)
        out = updated
        for path, kind, build in steps:
            found = _follow(out, path) if path is not None else None
            if found is None or type(found) is not kind:
                return function.visit(_Apply(targets))
            out = out.deep_replace(found, build(found))  # type: ignore[arg-type]
        return out
    return make


class SystematicSites:
    """Mixin of :class:`~.collector.SiteCollector`, run last (it reads the other families' sites)."""

    _add: Any
    sites: list[Any]
    functions: list[cst.FunctionDef]
    get_metadata: Any

    def _finish_systematic(self, position: Any) -> None:
        functions = [(position(n).start.line, position(n).end.line, n) for n in self.functions]
        shapes = shapes_of(self)
        candidates: dict[tuple[int, str, str, int], list[Any]] = {}
        occurrence: dict[tuple[int, str], int] = {}
        for site in list(self.sites):
            if site.family not in FAMILIES:
                continue
            inner = [f for f in functions if f[0] <= site.line and site.end_line <= f[1]]
            if not inner:
                continue
            function = max(inner, key=lambda f: f[0])[2]
            k = occurrence.get((id(site.node), site.label), 0)
            occurrence[(id(site.node), site.label)] = k + 1
            candidates.setdefault((id(function), site.family, site.label, k), []).append((site, function))
        groups: dict[tuple[int, str, str, int, str], list[Any]] = {}
        for key, found in candidates.items():
            if len(found) < 2:  # no second site: no shape to compute
                continue
            for site, function in found:
                shape = shapes.skeleton(site.node)
                if shape.count("_") >= 2:  # a lone name or literal has no shape to speak of
                    groups.setdefault((*key, shape), []).append((site, function))
        position_of = {id(site): i for i, site in enumerate(self.sites)}
        for members in sorted(groups.values(), key=lambda m: position_of[id(m[0][0])]):  # in site order
            if not 2 <= len(members) <= MAX_SITES or len({id(s.node) for s, _ in members}) < len(members):
                continue
            function = members[0][1]
            family = members[0][0].family
            common = [d for d, _ in members[0][0].alternatives
                      if all(any(d == e for e, _ in s.alternatives) for s, _ in members[1:])]
            if family in NEAR_ONLY:
                common = [d for d in common if multiplier(family, d) == NEAR]
            alternatives: list[tuple[str, Make]] = []
            for d in common:
                chosen = [(s, [e for e, _ in s.alternatives].index(d)) for s, _ in members]
                alternatives.append((f"{family}: {d} at {len(members)} sites", _everywhere(function, chosen)))
            before = len(self.sites)
            self._add("systematic", function, f"systematic-{members[0][0].label}", alternatives)
            if len(self.sites) > before:
                self.sites[-1].line = members[0][0].line
                self.sites[-1].end_line = members[-1][0].end_line
