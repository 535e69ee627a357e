"""``darwin report RUN_DIR``: write the run's report, one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from darwin_hookspecs import DarwinError

from .app import _fail, app, out


def report_run(run_dir: Path, out_dir: Path | None = None, *, figures: bool = True) -> tuple[Path, list[str]]:
    """Write a self-contained HTML report of the run; the page and the figures written."""
    from ..reader import open_run
    from ..report import write_report

    return write_report(open_run(run_dir), out_dir or run_dir / "report", figures=figures)


@app.command()
def report(
    run_dir: Path = typer.Argument(..., help="The run directory."),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="Where to write it (default RUN_DIR/report)."),
    no_figures: bool = typer.Option(False, "--no-figures", help="Leave out the PNG figures (no matplotlib needed); the page's own charts stay."),
) -> None:
    """Write a self-contained HTML report (archive tree, best score, diffs, task matrix, failing logs)."""
    try:
        page, figures = report_run(run_dir, out_dir, figures=not no_figures)
    except DarwinError as exc:
        _fail(exc)
    out.print(f"report: {page}" + (f"\n  figures (inline): {', '.join(figures)}" if figures else ""))
