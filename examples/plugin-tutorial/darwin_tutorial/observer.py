"""An observer: append every recorded child to a CSV file in the run directory."""

from __future__ import annotations

import csv
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from darwin_hookspecs import hookimpl


class CsvOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = "children.csv"
    """File name, relative to the run directory."""


darwin_options = CsvOptions  # validates [plugins.tutorial-csv]
_file: Path | None = None


@hookimpl
def darwin_configure(run, options: CsvOptions, run_dir: Path | None) -> None:
    global _file
    _file = (run_dir or Path.cwd()) / options.path
    if not _file.exists():  # a resumed run keeps its rows
        _file.write_text("id,parent,status,score,change\n")


@hookimpl
def darwin_attempt_finished(run, attempt, child) -> None:
    if child is None or _file is None:  # a skipped attempt has no child
        return
    with _file.open("a", newline="") as fh:
        csv.writer(fh).writerow([child.id, child.parent_id, child.status, f"{child.score:.4f}",
                                 child.description])
