"""The self-contained HTML page: inline style, script, SVG and data; nothing fetched."""

from __future__ import annotations

import base64
import json
import time
from html import escape

from .assets import CSS, JS
from .data import ReportData, as_json, layout
from .population_svg import population_html
from .svg import empty_chart, score_colour, step_chart, time_axis, tree_svg


def _card(label: str, value: str) -> str:
    return f'<div class="card"><div class="v">{escape(value)}</div><div class="k">{escape(label)}</div></div>'


def _fmt(value: float | None, pattern: str) -> str:
    return "–" if value is None else pattern.format(value)


def _matrix(data: ReportData) -> str:
    if not data.tasks:
        return "<p>No task was evaluated.</p>"
    head = "".join(f'<th class="task" title="{escape(t)}"><span>{escape(t.split("::")[-1])}</span></th>'
                   for t in data.tasks)
    rows = []
    for node in data.nodes:
        results = data.results.get(node.id, {})
        cells = []
        for task in data.tasks:
            outcome = results.get(task)
            cls = "none" if outcome is None else ("pass" if outcome == "pass" else escape(outcome))
            mark = "" if outcome is None else ("✓" if outcome == "pass" else "✗")
            cells.append(f'<td class="{cls}" title="{escape(task)}: {escape(outcome or "not evaluated")}">{mark}</td>')
        swatch = f'<span style="color:{score_colour(node.shade)}">●</span>'
        rows.append(f'<tr><td class="vid" data-id="{escape(node.id)}">{swatch} {escape(node.id)} '
                    f'<small>{node.score:.3f}</small></td>{"".join(cells)}</tr>')
    return (f'<div class="matrix-box"><table class="matrix" id="matrix"><thead><tr><th>variant</th>{head}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></div>')


def _legend(data: ReportData) -> str:
    """The tree's colour key."""
    return _colour_key(data.scale, data.objective)


def _colour_key(scale: tuple[float, float] | None, objective: str) -> str:
    """A colour key: the score from 0 to 1, or the raw objective from worst to best."""
    lo, mid, hi = ("0", "0.5", "1") if scale is None else (
        f"{scale[0]:.4g} (worst)", "", f"{scale[1]:.4g} (best)")
    what = "score" if scale is None else f"score ({escape(objective)})"
    return (f'colour = {what} (<span class="sw" style="background:{score_colour(0)}"></span>{lo}'
            f' <span class="sw" style="background:{score_colour(0.5)}"></span>{mid}'
            f' <span class="sw" style="background:{score_colour(1)}"></span>{hi})')


def render_page(data: ReportData, figures: dict[str, bytes]) -> str:
    columns, rows = layout(data.nodes)
    m = data.metrics
    history = m.best_history
    over_attempts = [(float(p.attempts), p.score) for p in history] + (
        [(float(m.children), history[-1].score)] if history and m.children > history[-1].attempts else [])
    over_spend = [(p.spend_usd, p.score) for p in history] + (
        [(m.spend_usd, history[-1].score)] if history and m.spend_usd > history[-1].spend_usd else [])
    times = [p.elapsed_s for p in history] + (
        [m.elapsed_s] if history and m.elapsed_s > history[-1].elapsed_s else [])
    scaled, unit = time_axis(times)
    over_time = list(zip(scaled, [p.score for p in history] + ([history[-1].score] if len(times) > len(history) else [])))
    spend_chart = (step_chart(over_spend, chart_id="best-over-spend", x_label="spend (USD)", y_label="best score",
                              x_prefix="$") if m.spend_usd > 0 else
                   empty_chart("best-over-spend", "No spend recorded (an offline generator costs nothing)."))
    failures = ", ".join(f"{k} {v}" for k, v in m.failures_by_kind.items()) or "none"
    cards = "".join([
        _card("status", data.status), _card("best score", _fmt(m.best_score, "{:.4f}")),
        _card("initial score", _fmt(m.initial_score, "{:.4f}")),
        _card("attempts finished", str(m.attempts_finished)),
        _card("attempts / minute", _fmt(m.attempts_per_minute, "{:.1f}")),
        _card("acceptance rate", _fmt(m.acceptance_rate, "{:.0%}")),
        _card("spend", f"${m.spend_usd:.4f}"),
        _card("tokens in / out", f"{m.input_tokens} / {m.output_tokens}"),
        _card("evaluation failures by kind", failures),
        _card("failed tests", str(m.failed_tests)),
    ])
    figs = "".join(f'<img alt="{escape(name)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
                   for name, png in sorted(figures.items()))
    notes = "".join(f"<li>{escape(n)}</li>" for n in data.notes)
    population = population_html(data.population, data.population_shades, data.best_id,
                                 _colour_key(data.population_scale, data.objective))
    title = {"grid": "Population: the map_elites grid", "islands": "Population: the islands"}.get(
        data.population.kind if data.population else "", "Population")
    payload = json.dumps(as_json(data)).replace("</", "<\\/").replace("<!--", "<\\u0021--")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Darwin run {escape(data.run_id)}</title>
<style>{CSS}</style></head>
<body>
<h1>Darwin run {escape(data.run_name or data.run_id)}</h1>
<div class="sub">{escape(data.run_id)} · {escape(data.status)}{' · ' + escape(data.stop_reason) if data.stop_reason else ''}
 · report written {time.strftime('%Y-%m-%d %H:%M:%S')}</div>
<div class="cards" id="metrics">{cards}</div>
{f'<ul class="notes">{notes}</ul>' if notes else ''}
<h2>Archive tree</h2>
<div class="legend">{_legend(data)} · filled: accepted · faded, dashed: rejected, invalid or error ·
 <span style="color:var(--best)">red</span>: lineage of the best variant · click a node for its diff</div>
<div class="row"><div id="tree-box">{tree_svg(data.nodes, columns, rows, data.best_id)}</div>
<div id="detail"><p class="empty">Click a node to see its change against its parent.</p></div></div>
<h2>Best score</h2>
<div class="row">
{step_chart(over_attempts, chart_id="best-over-attempts", x_label="children recorded", y_label="best score")}
{spend_chart}
{step_chart(over_time, chart_id="best-over-time", x_label=unit, y_label="best score")}
</div>
{f'<h2>{title}</h2><div id="population">{population}</div>' if population else ''}
<h2>Results per task</h2>
{_matrix(data)}
{f'<h2>Figures</h2><div class="row figures">{figs}</div>' if figs else ''}
<script type="application/json" id="run-data">{payload}</script>
<script>{JS}</script>
</body></html>
"""
