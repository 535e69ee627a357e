"""A run's selection population (``map_elites`` grid, ``islands``), read-only: the selection
backend is built from the run's recorded config the way the run builds it, then asked for its
optional ``population(archive)`` (:class:`~darwin_hookspecs.PopulationSource`). Building a
selection strategy starts nothing; if it fails, readers show a note instead."""

from __future__ import annotations

from typing import Any

from darwin_hookspecs import Population, PopulationSource

from .run import RunHandle, build_context


def read_population(handle: RunHandle) -> tuple[Population | None, str]:
    """``(population, note)``: ``None`` and ``""`` for a strategy that shows none; ``None`` and
    the reason when the strategy could not be built or asked."""
    section = handle.config.selection
    try:
        selector = handle.plugins.create("selection", section.name, section.options, build_context(handle))
    except Exception as exc:  # noqa: BLE001 - a reader never fails on a missing or broken plugin
        return None, f"selection {section.name!r} could not be built to show its population: {exc}"
    if not isinstance(selector, PopulationSource):
        return None, ""
    try:
        return selector.population(handle.archive), ""
    except Exception as exc:  # noqa: BLE001
        return None, f"selection {section.name!r} could not describe its population: {type(exc).__name__}: {exc}"


def population_summary(population: Population | None, note: str = "") -> dict[str, Any]:
    """The ``darwin status`` fields: ``population`` (kind, cells filled/total or each island's
    size and best) and ``population_note``."""
    if population is None:
        return {"population": None, **({"population_note": note} if note else {})}
    out: dict[str, Any] = {"kind": population.kind}
    if population.kind == "grid":
        out.update(cells_filled=len(population.groups), cells_total=population.cells_total,
                   features=[a.name for a in population.axes])
    else:
        scores = {m.variant_id: m.score for g in population.groups for m in g.members}
        out["islands"] = [{"island": i, "rule": g.rule, "size": len(g.members), "best_id": g.best_id,
                           "best_score": scores.get(g.best_id or ""),
                           "migrants": sum(m.migrant_from is not None for m in g.members)}
                          for i, g in enumerate(population.groups)]
    out.update({k: v for k, v in population.info.items() if k not in out})
    return {"population": out}


def population_line(summary: dict[str, Any] | None) -> str:
    """One or two lines of ``darwin status`` for the ``population`` field."""
    if not summary:
        return "none (the selection strategy keeps no population)"
    if summary["kind"] == "grid":
        total = summary["cells_total"]
        share = f" ({summary['cells_filled'] / total:.0%})" if total else ""
        return f"grid {' x '.join(summary['features'])}: {summary['cells_filled']} / {total} cells filled{share}"
    if summary["kind"] == "islands":
        parts = [f"{i['island']}: {i['best_id']} ({i['best_score']:.4g}, {i['size']} variants)"
                 if i["best_id"] else f"{i['island']}: empty" for i in summary["islands"]]
        return f"{len(parts)} islands, best: " + " · ".join(parts)
    return str(summary["kind"])
