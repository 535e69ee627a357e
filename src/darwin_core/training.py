"""The benchmark as the search sees it: its training tasks only.

The runtime holds the benchmark through :class:`TrainingView`, so a generator (which gets the
runtime's benchmark in its context), the planner and every other consumer of ``tasks()`` never
learns the held-out tasks; ``evaluate`` and every other member go to the benchmark itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from darwin_hookspecs import Sandbox, TaskResult, TaskSpec


class TrainingView:
    """``benchmark`` with ``tasks()`` restricted to the tasks not held out."""

    def __init__(self, benchmark: Any) -> None:
        self._benchmark = benchmark
        self.mode = getattr(benchmark, "mode", "program")

    def tasks(self) -> list[TaskSpec]:
        return [t for t in self._benchmark.tasks() if not t.holdout]

    def evaluate(self, variant_dir: Path, tasks: list[TaskSpec], sandbox: Sandbox) -> list[TaskResult]:
        return self._benchmark.evaluate(variant_dir, tasks, sandbox)

    @property
    def wrapped(self) -> Any:
        """The benchmark itself (for the engine's held-out checks)."""
        return self._benchmark

    def __getattr__(self, name: str) -> Any:
        return getattr(self._benchmark, name)
