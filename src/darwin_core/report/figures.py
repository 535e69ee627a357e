"""PNG figures of a run (matplotlib, from the ``report`` extra), returned as bytes to embed in
the page; skipped when matplotlib is missing."""

from __future__ import annotations

import io

from .data import ReportData, layout
from .svg import score_colour


def matplotlib_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def render_figures(data: ReportData) -> dict[str, bytes]:
    """``{name: PNG bytes}``: ``tree.png``, ``best_score.png`` and ``tasks.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures: dict[str, bytes] = {}

    def save(fig: object, name: str) -> None:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)  # type: ignore[attr-defined]
        plt.close(fig)  # type: ignore[arg-type]
        figures[name] = buffer.getvalue()

    columns, rows = layout(data.nodes)
    pos = {n.id: (n.x, -n.depth) for n in data.nodes}
    fig, ax = plt.subplots(figsize=(min(4 + columns * 0.18, 30), min(2 + rows * 0.7, 20)))
    for n in data.nodes:
        if n.parent_id in pos:
            (x1, y1), (x2, y2) = pos[n.parent_id], pos[n.id]
            ax.plot([x1, x2], [y1, y2], color="#e4572e" if n.on_best_path else "#98a2b3",
                    linewidth=2.5 if n.on_best_path else 0.8, zorder=1)
    for n in data.nodes:
        accepted = n.status == "accepted"
        ax.scatter([pos[n.id][0]], [pos[n.id][1]], s=60 if accepted else 30, c=score_colour(n.shade),
                   alpha=1.0 if accepted else 0.4, edgecolors="#e4572e" if n.on_best_path else "#344054",
                   linewidths=2 if n.id == data.best_id else 0.6, zorder=2)
    ax.set_axis_off()
    ax.set_title(f"archive of {data.run_id} (colour: {data.objective}, dark worst, light best; red: lineage of the best)")
    fig.tight_layout()
    save(fig, "tree.png")

    history = data.metrics.best_history
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    if history:
        xs = [p.attempts for p in history] + [max(data.metrics.children, history[-1].attempts)]
        left.step(xs, [p.score for p in history] + [history[-1].score], where="post")
    else:
        left.text(0.5, 0.5, "nothing recorded yet", ha="center", va="center", transform=left.transAxes)
    if history and data.metrics.spend_usd > 0:
        spend = [p.spend_usd for p in history] + [max(data.metrics.spend_usd, history[-1].spend_usd)]
        right.step(spend, [p.score for p in history] + [history[-1].score], where="post")
    else:  # a flat line at zero spend would say nothing
        right.text(0.5, 0.5, "no spend recorded", ha="center", va="center", transform=right.transAxes)
    left.set_xlabel("children recorded")
    right.set_xlabel("spend (USD)")
    for ax in (left, right):
        ax.set_ylabel("best score")
        if data.scale is None:  # a rate in [0, 1]; a raw objective keeps matplotlib's range
            ax.set_ylim(0, 1.02)
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    save(fig, "best_score.png")

    if data.tasks:
        codes = {"pass": 2, None: 0}
        matrix = [[codes.get(data.results.get(n.id, {}).get(t), 1) for t in data.tasks] for n in data.nodes]
        from matplotlib.colors import ListedColormap

        labels = [t.split("::")[-1] for t in data.tasks]
        longest = max(len(label) for label in labels)
        width = min(4 + len(data.tasks) * 0.28, 40)
        height = min(2.5 + len(data.nodes) * 0.16 + longest * 0.07, 40)
        fig, ax = plt.subplots(figsize=(width, height))
        ax.imshow(matrix, aspect="auto", interpolation="nearest",
                  cmap=ListedColormap(["#f2f4f7", "#f97066", "#32d583"]), vmin=0, vmax=2)
        ax.set_xticks(range(len(data.tasks)), labels, rotation=90, fontsize=9)
        step = max(1, len(data.nodes) // 40)
        ax.set_yticks(range(0, len(data.nodes), step), [n.id for n in data.nodes][::step], fontsize=9)
        ax.set_title("task results (green pass, red fail, grey not evaluated)")
        fig.tight_layout()
        save(fig, "tasks.png")
    return figures
