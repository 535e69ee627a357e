"""Inline SVG drawings for the report page: the archive tree and step charts."""

from __future__ import annotations

from html import escape

from .data import Node

_VIRIDIS = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]


def score_colour(score: float) -> str:
    """Viridis-like colour for a score in [0, 1]."""
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
            f'r="{radius}" fill="{score_colour(n.score)}"><title>{title}</title></circle>'
        )
    return (
        f'<svg id="tree" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="archive tree">'
        f'<g class="edges">{"".join(edges)}</g><g class="nodes">{"".join(circles)}</g></svg>'
    )


def step_chart(points: list[tuple[float, float]], *, chart_id: str, x_label: str, y_label: str,
               x_format: str = "{:.0f}") -> str:
    """A step line (the best score only moves when a better variant appears)."""
    w, h, left, right, top, bottom = 460.0, 220.0, 48.0, 16.0, 14.0, 38.0
    if not points:
        return (f'<svg id="{chart_id}" class="chart empty" xmlns="http://www.w3.org/2000/svg" '
                f'width="{w:.0f}" height="{h:.0f}"><text x="{w / 2}" y="{h / 2}" text-anchor="middle">'
                'nothing recorded yet</text></svg>')
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x_min, x_max = min(xs), max(xs)
    if x_max == x_min:
        x_max = x_min + 1.0
    y_min, y_max = min(0.0, min(ys)), max(1.0, max(ys))

    def sx(v: float) -> float:
        return left + (v - x_min) / (x_max - x_min) * (w - left - right)

    def sy(v: float) -> float:
        return top + (1 - (v - y_min) / (y_max - y_min)) * (h - top - bottom)

    d = f"M{sx(xs[0]):.1f},{sy(ys[0]):.1f}"
    for x, y in points[1:]:
        d += f" H{sx(x):.1f} V{sy(y):.1f}"
    d += f" H{sx(x_max):.1f}"
    ticks = []
    for k in range(5):
        yv = y_min + (y_max - y_min) * k / 4
        ticks.append(f'<line class="grid" x1="{left}" x2="{w - right}" y1="{sy(yv):.1f}" y2="{sy(yv):.1f}"/>'
                     f'<text class="tick" x="{left - 6}" y="{sy(yv) + 4:.1f}" text-anchor="end">{yv:.2f}</text>')
        xv = x_min + (x_max - x_min) * k / 4
        ticks.append(f'<text class="tick" x="{sx(xv):.1f}" y="{h - bottom + 16}" text-anchor="middle">'
                     f'{escape(x_format.format(xv))}</text>')
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
