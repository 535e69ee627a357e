"""``darwin verify RUN``: check a whole run (every record decodes, every blob matches its hash,
every named blob and parent exists, every ledger entry is sound). Exit 0 when clean, 4 naming
what is corrupt. Read-only."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app, console, guard, out, styled


@app.command()
def verify(run_dir: Path = typer.Argument(..., help="The run directory.")) -> None:
    """Check a whole run: records, blobs, parent links and the spend ledger (exit 4 if corrupt)."""
    with guard():
        from ..integrity import verify_run
        from ..run import RunHandle

        handle = RunHandle.open(run_dir, load=False)
        try:
            report = verify_run(handle)
        finally:
            handle.close()
    if report.ok:
        out.print(report.summary())
        return
    console.print(styled("corrupt:", "bold red", " " + report.summary()), soft_wrap=True)
    raise typer.Exit(4)
