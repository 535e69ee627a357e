"""Inline SVG drawings for the report page: the archive tree and step charts."""

from __future__ import annotations

from html import escape

from .data import Node

_VIRIDIS = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]


def score_colour(score: float) -> str:
    """Viridis-like colour for a shade in [0, 1] (a node's ``shade``: 0 worst, 1 best)."""
    s = min(max(score, 0.0), 1.0) * (len(_VIRIDIS) - 1)
    i = min(int(s), len(_VIRIDIS) - 2)
    f = s - i
    a, b = _VIRIDIS[i], _VIRIDIS[i + 1]
    r, g, bl = (round(a[k] + (b[k] - a[k]) * f) for k in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}"


def tree_svg(nodes: list[Node], columns: int, rows: int, best_id: str | None) -> str:
    dx, dy, pad = 22.0, 56.0, 24.0
    width = pad * 2 + max(columns - 1, 0) * dx
    height = pad * 2 + max(rows - 1, 0) * dy
    pos = {n.id: (pad + n.x * dx, pad + n.depth * dy) for n in nodes}
    edges: list[str] = []
    for n in nodes:
        if n.parent_id in pos:
            (x1, y1), (x2, y2) = pos[n.parent_id], pos[n.id]
            cls = "edge best" if n.on_best_path else "edge"
            edges.append(f'<path class="{cls}" d="M{x1:.1f},{y1:.1f} C{x1:.1f},{(y1 + y2) / 2:.1f} '
                         f'{x2:.1f},{(y1 + y2) / 2:.1f} {x2:.1f},{y2:.1f}"/>')
    circles: list[str] = []
    for n in nodes:
        x, y = pos[n.id]
        classes = ["node", "accepted" if n.status == "accepted" else "rejected", n.status]
        if n.on_best_path:
            classes.append("lineage")
        if n.id == best_id:
            classes.append("best")
        radius = 7 if n.status == "accepted" else 5
        title = escape(f"{n.id} · {n.status} · score {n.score:.3f}\n{n.description}")
        circles.append(
            f'<circle class="{" ".join(classes)}" data-id="{escape(n.id)}" cx="{x:.1f}" cy="{y:.1f}" '
            f'r="{radius}" fill="{score_colour(n.shade)}"><title>{title}</title></circle>'
        )
    return (
        f'<svg id="tree" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="archive tree">'
        f'<g class="edges">{"".join(edges)}</g><g class="nodes">{"".join(circles)}</g></svg>'
    )


def nice_ticks(lo: float, hi: float, count: int = 5) -> tuple[list[float], int]:
    """Round tick values covering ``[lo, hi]`` (steps of 1, 2 or 5 times a power of ten) and
    the decimals that tell them apart."""
    import math

    span = hi - lo if hi > lo else 1.0
    raw = span / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw - 1e-12)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    ticks = [round(k * step, 12) for k in range(first, max(last, first + 1) + 1)]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) + (1 if abs(step / power - 2.5) < 1e-9 and power < 1.5 else 0)
    return ticks, decimals


def time_axis(seconds: list[float]) -> tuple[list[float], str]:
    """Elapsed times in the unit that reads best (seconds, minutes or hours) and its name."""
    top = max(seconds, default=0.0)
    if top < 120:
        return seconds, "seconds"
    if top < 3 * 3600:
        return [s / 60 for s in seconds], "minutes"
    return [s / 3600 for s in seconds], "hours"


def empty_chart(chart_id: str, message: str, w: float = 460.0, h: float = 220.0) -> str:
    """A chart that has nothing to draw says so (and draws no axes)."""
    return (f'<svg id="{chart_id}" class="chart empty" xmlns="http://www.w3.org/2000/svg" '
            f'width="{w:.0f}" height="{h:.0f}" viewBox="0 0 {w:.0f} {h:.0f}" role="img" aria-label="{escape(message)}">'
            f'<text class="empty-note" x="{w / 2}" y="{h / 2}" text-anchor="middle">{escape(message)}</text></svg>')


def step_chart(points: list[tuple[float, float]], *, chart_id: str, x_label: str, y_label: str,
               x_prefix: str = "", empty: str = "nothing recorded yet") -> str:
    """A step line (the best score only moves when a better variant appears), on axes from 0
    with round ticks; ``empty`` is shown instead when there is nothing to draw."""
    w, h, left, right, top, bottom = 460.0, 220.0, 48.0, 16.0, 14.0, 38.0
    if not points:
        return empty_chart(chart_id, empty, w, h)
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x_ticks, decimals = nice_ticks(min(0.0, min(xs)), max(xs) if max(xs) > 0 else 1.0)
    x_min, x_max = x_ticks[0], x_ticks[-1]
    y_ticks, y_decimals = nice_ticks(min(0.0, min(ys)), max(1.0, max(ys)))
    y_min, y_max = y_ticks[0], y_ticks[-1]

    def sx(v: float) -> float:
        return left + (v - x_min) / (x_max - x_min) * (w - left - right)

    def sy(v: float) -> float:
        return top + (1 - (v - y_min) / (y_max - y_min)) * (h - top - bottom)

    d = f"M{sx(xs[0]):.1f},{sy(ys[0]):.1f}"
    for x, y in points[1:]:
        d += f" H{sx(x):.1f} V{sy(y):.1f}"
    ticks = []
    for yv in y_ticks:
        ticks.append(f'<line class="grid" x1="{left}" x2="{w - right}" y1="{sy(yv):.1f}" y2="{sy(yv):.1f}"/>'
                     f'<text class="tick y" x="{left - 6}" y="{sy(yv) + 4:.1f}" text-anchor="end">{yv:.{y_decimals}f}</text>')
    for xv in x_ticks:
        ticks.append(f'<text class="tick x" x="{sx(xv):.1f}" y="{h - bottom + 16}" text-anchor="middle">'
                     f'{escape(x_prefix)}{xv:.{decimals}f}</text>')
    dots = "".join(f'<circle class="dot" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3"><title>{y:.4f}</title></circle>'
                   for x, y in points)
    return (
        f'<svg id="{chart_id}" class="chart" xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" '
        f'height="{h:.0f}" viewBox="0 0 {w:.0f} {h:.0f}" role="img" aria-label="{escape(y_label)} over {escape(x_label)}">'
        f'{"".join(ticks)}<line class="axis" x1="{left}" x2="{w - right}" y1="{h - bottom}" y2="{h - bottom}"/>'
        f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{h - bottom}"/>'
        f'<path class="line" d="{d}"/>{dots}'
        f'<text class="label" x="{(left + w - right) / 2}" y="{h - 4}" text-anchor="middle">{escape(x_label)}</text>'
        f'<text class="label" transform="translate(12 {(top + h - bottom) / 2}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text></svg>'
    )
