"""Live progress of a run in the terminal: an observer plugin on the lifecycle hooks."""

from __future__ import annotations

import threading
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from darwin_hookspecs import Attempt, RunInfo, RunSummary, Variant, hookimpl

from .archive import Archive


class ProgressDisplay:
    """Shows attempts done, accepted children and the best score as the run goes."""

    def __init__(self, console: Console, total_attempts: int | None, archive: Archive) -> None:
        self.console = console
        self.archive = archive
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=console, transient=False,
        )
        self.task = self.progress.add_task("attempts", total=total_attempts, detail="")
        self.best_id: str | None = None
        self.accepted = 0
        self.lock = threading.Lock()

    @hookimpl
    def darwin_run_started(self, run: RunInfo, resumed: bool, services: dict[str, Any]) -> None:
        self.console.print(Text.assemble(f"{'Resuming' if resumed else 'Starting'} run ", (run.run_id, "bold")))
        self.progress.start()

    @hookimpl
    def darwin_attempt_finished(self, run: RunInfo, attempt: Attempt, child: Variant | None) -> None:
        with self.lock:
            if child is not None and child.status == "accepted":
                self.accepted += 1
            best = self.archive.best
            if best is not None and best.id != self.best_id:
                if self.best_id is not None:
                    self.progress.console.print(Text.assemble(
                        "  new best ", (f"{best.score:.3f}", "green"), f" {best.id}: {best.description}"))
                self.best_id = best.id
            score = best.score if best else 0.0
            self.progress.update(self.task, advance=1, detail=f"accepted {self.accepted}  best {score:.3f}")

    @hookimpl
    def darwin_run_finished(self, run: RunInfo, summary: RunSummary) -> None:
        self.progress.stop()
