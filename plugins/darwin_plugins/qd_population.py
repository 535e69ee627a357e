"""The population records of ``map_elites`` and ``islands`` (``population(archive)``, read by
``darwin report`` and ``darwin status``), built from their ``grid()`` and ``pools()``."""

from __future__ import annotations

from typing import Any

from darwin_hookspecs import ArchiveView, Axis, Group, Member, Population, Variant

from .fitness import fitness_of


def _numeric_axis(name: str, bins: int, items: list[Variant]) -> Axis:
    from .map_elites import metric

    get = (lambda v: v.score) if name == "score" else (lambda v: metric(v, name[7:]))
    values = [get(v) for v in items] or [0.0]
    lo, hi = min(values), max(values)
    width = (hi - lo) / bins
    if width <= 0:
        labels = [f"{lo:.4g}"] + ["–"] * (bins - 1)
    else:
        labels = [f"{lo + i * width:.3g}…{lo + (i + 1) * width:.3g}" for i in range(bins)]
    return Axis(name=name, bins=labels, values=list(range(bins)))


def _axis(name: str, position: int, bins: int, cells: dict[tuple[Any, ...], Variant],
          items: list[Variant]) -> Axis:
    if name == "distance":
        return Axis(name=name, bins=[str(i) for i in range(bins - 1)] + [f"{bins - 1}+"] if bins > 1 else ["0+"],
                    values=list(range(bins)))
    if name == "score" or name.startswith("metric:"):
        return _numeric_axis(name, bins, items)
    seen = sorted({cell[position] for cell in cells}, key=lambda x: (len(x), x) if isinstance(x, tuple) else (0, x))
    if name == "behaviour":
        labels = [f"{len(t)} pass" + (f" #{i}" if sum(len(u) == len(t) for u in seen) > 1 else "")
                  for i, t in enumerate(seen)]
        return Axis(name=name, bins=labels, values=[list(t) for t in seen])
    return Axis(name=name, bins=[str(x) or "(none)" for x in seen], values=list(seen))


def grid_population(features: list[str], bins: int, cells: dict[tuple[Any, ...], Variant],
                    archive: ArchiveView) -> Population:
    """The MAP-Elites grid: every axis with its bins, a group per filled cell (its elite)."""
    items = archive.selectable()
    axes = [_axis(name, i, bins, cells, items) for i, name in enumerate(features)]
    groups = []
    for cell, elite in cells.items():
        key = [list(x) if isinstance(x, tuple) else x for x in cell]
        groups.append(Group(key=key, members=[Member(elite.id, elite.score)], best_id=elite.id))
    return Population(kind="grid", groups=groups, axes=axes, info={"bins": bins})


def islands_population(islands: Any, archive: ArchiveView) -> Population:
    """Each island's pool (its own variants, the root, migrants marked), best and rule."""
    options = islands.options
    per = islands._draws_per_generation(archive)
    fitness = fitness_of(archive)
    groups = []
    for i, pool in enumerate(islands.pools(archive, per)):
        members = []
        for v in pool:
            home = islands.island_of(v, per)
            members.append(Member(v.id, v.score, migrant_from=home if home is not None and home != i else None))
        best = max(pool, key=fitness).id if pool else None  # the earliest among equals
        groups.append(Group(key=[i], members=members, best_id=best, label=f"island {i}",
                            rule=options.rules[i % len(options.rules)]))
    generation = max((v.generation for v in archive.variants()), default=0)
    every = options.migrate_every
    last = generation // every * every if options.islands > 1 and generation >= every else None
    return Population(kind="islands", groups=groups, info={
        "islands": options.islands, "migrate_every": every, "generation": generation,
        "last_migration": last, "next_migration": (generation // every + 1) * every if options.islands > 1 else None})
