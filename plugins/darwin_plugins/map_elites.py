"""Parent selection ``map_elites``: an elite per cell of a feature grid (MAP-Elites).

Every selectable variant falls in one cell of a grid whose dimensions are features of the
variant; the cell's elite is its best variant in the objective's direction (the earliest on
ties; :mod:`.fitness`). Each draw exploits
(with probability ``exploit``: the best elite, the least expanded among equals) or explores (an
elite drawn in proportion to ``1 / (1 + children)``, so less expanded cells go first). The grid
is a function of the archive alone, so it is persisted and resumable by construction.

Features (``features``):

* ``behaviour``: which tasks pass (variants passing different tasks keep separate elites, so a
  variant that games some tests cannot crowd out a different partial repair);
* ``distance``: edits from the root along the lineage (``metadata["edits"]``, one per
  generation otherwise), in ``bins`` bins;
* ``score``: the score (raw, unbounded), in ``bins`` equal bins between the selectable
  variants' lowest and highest;
* ``family``: the operator family of the edit that made the variant;
* ``metric:NAME``: a benchmark metric (``variant.metrics`` or ``metadata["metrics"]``), binned
  like ``score``.
"""

from __future__ import annotations

import random
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from darwin_hookspecs import ArchiveView, Population, Variant

from .exhaustion import exhausted
from .fitness import fitness_of
from .selection_index import SelectionIndex

BUILT_IN = ("behaviour", "distance", "score", "family")


class MapElitesOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    features: list[str] = Field(default_factory=lambda: ["behaviour", "distance"])
    """Grid dimensions: ``behaviour``, ``distance``, ``score``, ``family`` or ``metric:NAME``."""
    bins: int = Field(4, ge=1, le=64)
    """Bins of each numeric feature."""
    exploit: float = Field(0.5, ge=0.0, le=1.0)
    """Probability that a draw takes the best elite rather than exploring the grid."""

    @field_validator("features")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in BUILT_IN and not (name.startswith("metric:") and len(name) > 7):
                raise ValueError(f"unknown feature {name!r}; use one of {', '.join(BUILT_IN)} or metric:NAME")
        if not value:
            raise ValueError("at least one feature is needed")
        return value


def metric(variant: Variant, name: str) -> float:
    metrics = getattr(variant, "metrics", None) or (variant.metadata or {}).get("metrics") or {}
    try:
        return float(metrics.get(name, 0.0))
    except (TypeError, ValueError):
        return 0.0


def distances(archive: ArchiveView) -> dict[str, int]:
    """Edits from the root of every variant (variants come parents first)."""
    out: dict[str, int] = {}
    for v in archive.variants():
        edits = (v.metadata or {}).get("edits")
        own = len(edits) if isinstance(edits, list) and edits else (1 if v.parent_id else 0)
        out[v.id] = out.get(v.parent_id or "", 0) + own if v.parent_id else 0
    return out


def _binner(values: list[float], bins: int) -> Callable[[float], int]:
    lo, hi = min(values), max(values)
    width = (hi - lo) / bins
    return lambda x: 0 if width <= 0 else min(int((x - lo) / width), bins - 1)


STATIC = ("behaviour", "distance", "family")
"""Features fixed once a variant is recorded: the grid then grows with the archive."""


class MapElites:
    def __init__(self, options: MapElitesOptions) -> None:
        self.options = options
        self.index = SelectionIndex(lambda v, children: 1.0)
        self._cells: dict[tuple[Any, ...], Variant] = {}
        self._depth: dict[str, int] = {}
        self._seen = -1

    def _grow(self, archive: ArchiveView) -> bool:
        """Keep the grid from the variants added since the last draw (static features only)."""
        if not all(name in STATIC for name in self.options.features):
            return False
        before = (self.index._archive, self.index._epoch, self.index._objective)
        if not self.index.sync(archive):
            return False
        if (self.index._archive, self.index._epoch, self.index._objective) != before or self._seen < 0:
            self._cells, self._depth, self._seen = {}, {}, 0
        fitness = fitness_of(archive)
        for summary in archive.summaries_since(self._seen):  # type: ignore[attr-defined]
            variant = archive.get(summary.id)
            edits = (variant.metadata or {}).get("edits")
            own = len(edits) if isinstance(edits, list) and edits else (1 if variant.parent_id else 0)
            self._depth[variant.id] = self._depth.get(variant.parent_id or "", 0) + own if variant.parent_id else 0
            if variant.status != "accepted":
                continue
            cell = tuple(self._column(name, variant) for name in self.options.features)
            held = self._cells.get(cell)
            if held is None or fitness(variant) > fitness(held) or (
                    fitness(variant) == fitness(held) and variant.id < held.id):
                self._cells[cell] = variant  # the earliest (in id order) of the best
        self._seen = self.index.seen
        return True

    def _column(self, name: str, v: Variant) -> Any:
        if name == "behaviour":
            return tuple(sorted(t for t, r in v.task_results.items() if r.passed))
        if name == "distance":
            return min(self._depth.get(v.id, 0), self.options.bins - 1)
        return str((v.metadata or {}).get("family", ""))

    def grid(self, archive: ArchiveView) -> dict[tuple[Any, ...], Variant]:
        """``{cell: elite}`` over the selectable variants."""
        items = archive.selectable()
        if not items:
            return {}
        depth = distances(archive) if "distance" in self.options.features else {}
        columns: list[Callable[[Variant], Any]] = []
        for name in self.options.features:
            if name == "behaviour":
                columns.append(lambda v: tuple(sorted(t for t, r in v.task_results.items() if r.passed)))
            elif name == "distance":
                columns.append(lambda v: min(depth.get(v.id, 0), self.options.bins - 1))
            elif name == "family":
                columns.append(lambda v: str((v.metadata or {}).get("family", "")))
            else:
                get = (lambda v: v.score) if name == "score" else (lambda v, m=name[7:]: metric(v, m))
                binned = _binner([get(v) for v in items], self.options.bins)
                columns.append(lambda v, get=get, binned=binned: binned(get(v)))
        fitness = fitness_of(archive)
        cells: dict[tuple[Any, ...], Variant] = {}
        for v in items:  # creation order: the earliest of equals stays the elite
            cell = tuple(column(v) for column in columns)
            if cell not in cells or fitness(v) > fitness(cells[cell]):
                cells[cell] = v
        return cells

    def population(self, archive: ArchiveView) -> Population:
        """The grid for readers (``darwin report``, ``darwin status``)."""
        from .qd_population import grid_population

        return grid_population(self.options.features, self.options.bins, self.grid(archive), archive)

    def select(self, archive: ArchiveView, n: int, rng: random.Random) -> list[str]:
        indexed = self._grow(archive)
        cells = self._cells if indexed else self.grid(archive)
        if not cells:
            raise ValueError("no selectable parent in the archive")
        if indexed:
            elites = [v for v in cells.values() if not self.index.exhausted(v.id)] or list(cells.values())
            children = {v.id: self.index.children.get(v.id, 0) for v in elites}
        else:
            elites = [v for v in cells.values() if not exhausted(archive, v)] or list(cells.values())
            children = {v.id: len(archive.children(v.id)) for v in elites}
        elites.sort(key=lambda v: v.id)
        fitness = fitness_of(archive)
        picks: list[str] = []
        for _ in range(n):
            if rng.random() < self.options.exploit:
                top = max(fitness(v) for v in elites)
                best = [v for v in elites if fitness(v) == top]
                picks.append(min(best, key=lambda v: (children[v.id], v.id)).id)
            else:
                weights = [1.0 / (1 + children[v.id]) for v in elites]
                picks.append(rng.choices(elites, weights=weights, k=1)[0].id)
            children[picks[-1]] += 1  # later draws of this call see the pending child
        return picks
