"""``darwin report``: a self-contained HTML page (and PNG figures) describing a run."""

from __future__ import annotations

from pathlib import Path

from ..reader import RunView
from .data import ReportData, gather
from .page import render_page

__all__ = ["ReportData", "gather", "write_report"]


def write_report(view: RunView, out_dir: Path, *, figures: bool = True) -> tuple[Path, list[str]]:
    """Write ``index.html`` (and PNGs unless ``figures`` is off or matplotlib is missing) into
    ``out_dir``; return the page's path and the figure files written."""
    from .figures import matplotlib_available, write_figures

    out_dir.mkdir(parents=True, exist_ok=True)
    data = gather(view)
    names: list[str] = []
    if figures and matplotlib_available():
        names = write_figures(data, out_dir)
    elif figures:
        data.notes.append("PNG figures skipped: matplotlib is missing (pip install 'darwin[report]')")
    page = out_dir / "index.html"
    page.write_text(render_page(data, names), encoding="utf-8")
    return page, names
