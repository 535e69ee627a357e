"""The population section of the report: the ``map_elites`` grid as a heat map (small multiples
beyond two features, empty cells drawn, an occupancy chart) and the ``islands`` side by side."""

from __future__ import annotations

import itertools
from html import escape
from typing import Any

from darwin_hookspecs import Axis, Population

from .svg import score_colour

CELL_W, CELL_H = 64.0, 30.0


def _short(text: str, size: int = 11) -> str:
    return text if len(text) <= size else text[:size - 1] + "…"


def _value_title(axis: Axis, index: int) -> str:
    value = axis.values[index] if index < len(axis.values) else axis.bins[index]
    if axis.name == "behaviour":
        return f"behaviour: passes {', '.join(str(t) for t in value) or 'no task'}"
    return f"{axis.name}: {axis.bins[index]}"


def _index(axis: Axis, value: Any) -> int:
    values = axis.values or list(range(len(axis.bins)))
    return values.index(value) if value in values else -1


def _panel(population: Population, fixed: dict[int, int], shades: dict[str, float], best_id: str | None,
           panel_id: str) -> str:
    """One 2-D heat map over the first two axes (one row when there is a single axis), the
    other axes fixed at the bins ``fixed`` gives."""
    axes = population.axes
    x_axis, y_axis = axes[0], (axes[1] if len(axes) > 1 else Axis(name="", bins=[""], values=[None]))
    left, top, bottom = 96.0, 8.0, 40.0
    w = left + CELL_W * len(x_axis.bins) + 8
    h = top + CELL_H * len(y_axis.bins) + bottom
    cells: dict[tuple[int, int], Any] = {}
    for group in population.groups:
        idx = [_index(a, group.key[i]) for i, a in enumerate(axes)]
        if any(idx[k] != b for k, b in fixed.items()):
            continue
        cells[(idx[0], idx[1] if len(axes) > 1 else 0)] = group
    parts = []
    for (xi, x_label), (yi, y_label) in itertools.product(enumerate(x_axis.bins), enumerate(y_axis.bins)):
        x, y = left + xi * CELL_W, top + (len(y_axis.bins) - 1 - yi) * CELL_H
        where = " · ".join([_value_title(x_axis, xi)] + ([_value_title(y_axis, yi)] if y_axis.name else [])
                           + [_value_title(axes[k], b) for k, b in sorted(fixed.items())])
        group = cells.get((xi, yi))
        if group is None:
            parts.append(f'<rect class="cell empty" x="{x + 1:.0f}" y="{y + 1:.0f}" width="{CELL_W - 2:.0f}" '
                         f'height="{CELL_H - 2:.0f}"><title>{escape(where)}\nempty</title></rect>')
            continue
        elite = group.members[0]
        shade = shades.get(elite.variant_id, 0.0)
        cls = "cell filled" + (" best" if elite.variant_id == best_id else "")
        text_fill = "#fff" if shade < 0.55 else "#1d2330"
        parts.append(
            f'<g class="{cls}" data-id="{escape(elite.variant_id)}" data-score="{elite.score:.6g}">'
            f'<rect x="{x + 1:.0f}" y="{y + 1:.0f}" width="{CELL_W - 2:.0f}" height="{CELL_H - 2:.0f}" '
            f'fill="{score_colour(shade)}"/><text x="{x + CELL_W / 2:.0f}" y="{y + CELL_H / 2 + 4:.0f}" '
            f'text-anchor="middle" style="fill:{text_fill}">{elite.score:.4g}</text>'
            f'<title>{escape(where)}\nelite {escape(elite.variant_id)} · score {elite.score:.6g}</title></g>')
    for xi, label in enumerate(x_axis.bins):
        parts.append(f'<text class="tick x" x="{left + (xi + 0.5) * CELL_W:.0f}" y="{h - bottom + 14:.0f}" '
                     f'text-anchor="middle"><title>{escape(_value_title(x_axis, xi))}</title>{escape(_short(label))}</text>')
    for yi, label in enumerate(y_axis.bins):
        y = top + (len(y_axis.bins) - 1 - yi) * CELL_H + CELL_H / 2 + 4
        parts.append(f'<text class="tick y" x="{left - 6:.0f}" y="{y:.0f}" text-anchor="end">'
                     f'<title>{escape(_value_title(y_axis, yi) if y_axis.name else "")}</title>{escape(_short(label, 14))}</text>')
    parts.append(f'<text class="label" x="{left + CELL_W * len(x_axis.bins) / 2:.0f}" y="{h - 6:.0f}" '
                 f'text-anchor="middle">{escape(x_axis.name)}</text>')
    if y_axis.name:
        parts.append(f'<text class="label" transform="translate(12 {top + CELL_H * len(y_axis.bins) / 2:.0f}) '
                     f'rotate(-90)" text-anchor="middle">{escape(y_axis.name)}</text>')
    return (f'<svg id="{panel_id}" class="qd-grid chart" xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" '
            f'height="{h:.0f}" viewBox="0 0 {w:.0f} {h:.0f}" role="img" aria-label="map-elites grid">{"".join(parts)}</svg>')


def _occupancy(population: Population) -> str:
    """Filled cells per bin of the first feature, against the cells each bin can hold."""
    axis = population.axes[0]
    per_bin = population.cells_total // max(len(axis.bins), 1)
    counts = [0] * len(axis.bins)
    for group in population.groups:
        i = _index(axis, group.key[0])
        if i >= 0:
            counts[i] += 1
    w_bar, left, h, top, bottom = 44.0, 36.0, 150.0, 10.0, 34.0
    w = max(left + w_bar * len(counts) + 8, 190.0)
    span = h - top - bottom
    parts = [f'<line class="axis" x1="{left}" x2="{w - 8}" y1="{h - bottom}" y2="{h - bottom}"/>',
             f'<text class="tick y" x="{left - 4}" y="{top + 4}" text-anchor="end">{per_bin}</text>',
             f'<text class="tick y" x="{left - 4}" y="{h - bottom}" text-anchor="end">0</text>']
    for i, count in enumerate(counts):
        x = left + i * w_bar
        bar = span * count / per_bin if per_bin else 0
        parts.append(f'<rect class="slot" x="{x + 4:.0f}" y="{top}" width="{w_bar - 8:.0f}" height="{span:.0f}"/>'
                     f'<rect class="occupied" x="{x + 4:.0f}" y="{h - bottom - bar:.1f}" width="{w_bar - 8:.0f}" '
                     f'height="{bar:.1f}"><title>{escape(axis.bins[i])}: {count} / {per_bin} cells filled</title></rect>'
                     f'<text class="tick x" x="{x + w_bar / 2:.0f}" y="{h - bottom + 13}" text-anchor="middle">'
                     f'{escape(_short(axis.bins[i], 7))}</text>')
    parts.append(f'<text class="label" x="{(left + w) / 2:.0f}" y="{h - 4}" text-anchor="middle">'
                 f'filled cells per {escape(axis.name)} bin</text>')
    return (f'<svg id="qd-occupancy" class="chart" xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
            f'viewBox="0 0 {w:.0f} {h:.0f}" role="img" aria-label="occupancy">{"".join(parts)}</svg>')


def grid_html(population: Population, shades: dict[str, float], best_id: str | None, legend: str) -> str:
    filled, total = len(population.groups), population.cells_total
    extra = population.axes[2:]
    panels = []
    for combo in itertools.product(*[range(len(a.bins)) for a in extra]):
        fixed = {k + 2: b for k, b in enumerate(combo)}
        caption = " · ".join(f"{a.name} = {a.bins[b]}" for a, b in zip(extra, combo))
        svg = _panel(population, fixed, shades, best_id, f"qd-grid-{len(panels)}")
        panels.append(f'<figure class="qd-panel">{svg}{f"<figcaption>{escape(caption)}</figcaption>" if caption else ""}</figure>')
    return (f'<div class="legend" id="qd-coverage" data-filled="{filled}" data-total="{total}">'
            f'map_elites grid over {escape(" × ".join(a.name for a in population.axes))}: <b>{filled} / {total}</b> '
            f'cells filled ({filled / total if total else 0:.0%}) · a cell shows its elite\'s score · {legend} · '
            'grey dashed: empty · <span style="color:var(--best)">red outline</span>: the best elite · '
            'click a cell for its variant</div>'
            f'<div class="row">{"".join(panels)}{_occupancy(population)}</div>')


def islands_html(population: Population, shades: dict[str, float], best_id: str | None, legend: str) -> str:
    info = population.info
    migration = (f"ring migration every {info.get('migrate_every')} generations (last at generation "
                 f"{info.get('last_migration')}, next at {info.get('next_migration')})"
                 if info.get("next_migration") else "no migration (a single island)")
    columns = []
    for i, group in enumerate(population.groups):
        scores = {m.variant_id: m.score for m in group.members}
        best = (f'best <b class="island-best" data-id="{escape(group.best_id)}">{escape(group.best_id)}</b> '
                f'({scores[group.best_id]:.4g})' if group.best_id else "empty")
        chips = []
        for m in sorted(group.members, key=lambda m: (m.variant_id != group.best_id, m.variant_id)):
            cls = "chip" + (" migrant" if m.migrant_from is not None else "") + (" best" if m.variant_id == best_id else "")
            origin = f" · migrant from island {m.migrant_from}" if m.migrant_from is not None else ""
            chips.append(f'<span class="{cls}" data-id="{escape(m.variant_id)}" style="background:'
                         f'{score_colour(shades.get(m.variant_id, 0.0))}" title="{escape(m.variant_id)} · score '
                         f'{m.score:.6g}{origin}"></span>')
        migrants = sum(m.migrant_from is not None for m in group.members)
        columns.append(f'<div class="island" data-island="{i}" data-best="{escape(group.best_id or "")}">'
                       f'<h3>{escape(group.label or f"island {i}")}</h3><div class="k">rule {escape(group.rule)} · '
                       f'{len(group.members)} variants · {migrants} migrants</div><div>{best}</div>'
                       f'<div class="chips">{"".join(chips)}</div></div>')
    return (f'<div class="legend">{len(population.groups)} islands · {escape(migration)} · chips: each island\'s '
            f'pool (the root belongs to all), best first · dashed: a migrant · {legend}</div>'
            f'<div class="row islands">{"".join(columns)}</div>')


def population_html(population: Population | None, shades: dict[str, float], best_id: str | None,
                    legend: str) -> str:
    """The section's body ('' when the strategy keeps no population)."""
    if population is None:
        return ""
    if population.kind == "grid" and population.axes:
        return grid_html(population, shades, best_id, legend)
    if population.kind == "islands":
        return islands_html(population, shades, best_id, legend)
    return f"<p>A population of kind {escape(population.kind)} ({len(population.groups)} groups).</p>"
