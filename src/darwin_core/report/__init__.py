"""``darwin report``: one self-contained HTML file describing a run (figures inline)."""

from __future__ import annotations

from pathlib import Path

from ..reader import RunView
from .data import ReportData, gather
from .page import render_page

__all__ = ["ReportData", "gather", "write_report"]


def write_report(view: RunView, out_dir: Path, *, figures: bool = True) -> tuple[Path, list[str]]:
    """Write ``index.html`` into ``out_dir``, with the PNG figures embedded (unless ``figures``
    is off or matplotlib is missing); return the page's path and the figures' names."""
    from .figures import matplotlib_available, render_figures

    out_dir.mkdir(parents=True, exist_ok=True)
    data = gather(view)
    images: dict[str, bytes] = {}
    if figures and matplotlib_available():
        images = render_figures(data)
    elif figures:
        data.notes.append("PNG figures skipped: matplotlib is missing (pip install 'darwin[report]')")
    page = out_dir / "index.html"
    page.write_text(render_page(data, images), encoding="utf-8")
    return page, sorted(images)
