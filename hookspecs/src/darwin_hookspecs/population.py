"""What a quality-diversity selection strategy keeps: its population, for readers.

A selection strategy may implement the optional :class:`PopulationSource` method
``population(archive) -> Population``; ``darwin report`` draws it (a ``grid`` as a heat map, the
``islands`` side by side) and ``darwin status`` summarises it. A strategy without it simply has
no population section. It must be a pure function of the archive: readers call it on a finished,
running or crashed run, and it must start nothing (no sandbox, no thread, no file written).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from .protocols import ArchiveView


@dataclass
class Member:
    """A variant of a cell or island."""

    variant_id: str
    score: float
    """Raw, in the objective's units."""
    migrant_from: int | None = None
    """Islands: the island it came from when it is a migrant (``None``: its own, or the root)."""


@dataclass
class Group:
    """A grid cell (``key``: one bin index or value per axis) or an island (``key``: ``[i]``)."""

    key: list[Any]
    members: list[Member]
    best_id: str | None
    """The elite of a cell, the best of an island (in the objective's direction)."""
    label: str = ""
    rule: str = ""
    """Islands: the selection rule the island draws with."""


@dataclass
class Axis:
    """A grid dimension: its feature name and the labels of its bins, in order."""

    name: str
    bins: list[str]
    values: list[Any] = field(default_factory=list)
    """The cell-key value of each bin (``bins`` are their labels)."""


@dataclass
class Population:
    kind: Literal["grid", "islands"] | str
    groups: list[Group]
    axes: list[Axis] = field(default_factory=list)
    """``grid``: one per feature; an empty cell is a combination of bins with no group."""
    info: dict[str, Any] = field(default_factory=dict)
    """Strategy facts worth showing, e.g. ``{"migrate_every": 5, "last_migration": 10}``."""

    @property
    def cells_total(self) -> int:
        """Cells of the grid (the product of the axes' bins); the groups' count otherwise."""
        total = 1
        for axis in self.axes:
            total *= max(len(axis.bins), 1)
        return total if self.axes else len(self.groups)


@runtime_checkable
class PopulationSource(Protocol):
    """The optional method of a :class:`~darwin_hookspecs.SelectionStrategy` that shows its
    population (``map_elites``: the grid; ``islands``: the islands)."""

    def population(self, archive: ArchiveView) -> Population:
        """The population over ``archive`` now (read-only; starts nothing)."""
        ...
