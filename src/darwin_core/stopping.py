"""When a run stops: the caps checked between generations and while attempts run."""

from __future__ import annotations

import time
from dataclasses import dataclass

from . import plausible
from .plan import counted_attempts
from .run import RunHandle


BUDGET_EXIT = 5
"""Exit code of a run stopped by a spent budget (tokens, dollars, time) or a provider outage."""


@dataclass
class StopSignal:
    reason: str
    status: str  # "completed" or "stopped"
    exit_code: int = 0
    """What the CLI exits with: 5 for a spent budget (resumable), 0 otherwise."""


class StopRules:
    """``[run]`` ``generations``, ``max_attempts``, ``stop_at_score`` and ``time_budget_s``."""

    def __init__(self, handle: RunHandle) -> None:
        self.handle = handle
        self.cfg = handle.config.run
        self.started = time.monotonic()

    def between_generations(self, generation: int) -> StopSignal | None:
        """Before a generation: the running conditions, plus the generation and attempt caps
        (with ``plausible_extra``, the score stop once the extra attempts are all planned and the
        generation is not one a crash left unfinished)."""
        if stop := self.score():
            return stop
        if self.cfg.plausible_extra and not self._unfinished(generation) and plausible.remaining(self.handle) == 0:
            best = self.handle.archive.best
            return StopSignal(f"best score {best.score:.4f} reached stop_at_score, then "
                              f"plausible_extra={self.cfg.plausible_extra} more attempts", "completed")
        if generation > self.cfg.generations and not self._unfinished(generation):
            return StopSignal(f"all {self.cfg.generations} generations done", "completed")
        cap = self.cfg.max_attempts
        if cap is not None and counted_attempts(self.handle) >= cap and not self._unfinished(generation):
            return StopSignal(f"max_attempts={cap} reached", "completed")
        return self.time()

    def first_generation(self) -> int:
        """Where a resumed run's loop starts: the first generation not recorded ``done`` (the
        finished ones have nothing left to run), or the first one past ``[run] generations``
        if that comes earlier, or 1 once ``max_attempts`` is reached; so the loop stops where
        walking every generation from 1 would have stopped, without planning 2 500 of them."""
        cap = self.cfg.max_attempts
        if cap is not None and counted_attempts(self.handle) >= cap:
            return 1
        generation, last = 1, self.cfg.generations + 1
        while generation < last and _finished(self.handle.generations.get(generation)):
            generation += 1
        return generation

    def while_running(self) -> StopSignal | None:
        """While attempts run: the conditions that stop submitting new ones."""
        return self.score() or self.time()

    def score(self) -> StopSignal | None:
        """``stop_at_score`` reached (never with ``plausible_extra``: the extra attempts run)."""
        best, target = self.handle.archive.best, self.cfg.stop_at_score
        if self.cfg.plausible_extra:
            return None
        if target is not None and best is not None and self.handle.archive.objective.reached(best.score, target):
            return StopSignal(f"best score {best.score:.4f} reached stop_at_score", "completed")
        return None

    def time(self) -> StopSignal | None:
        """``[run] time_budget_s`` and ``[budget] wall_time_s`` (whatever the generator)."""
        elapsed = time.monotonic() - self.started
        budget = self.cfg.time_budget_s
        if budget is not None and elapsed > budget:
            return StopSignal(f"time budget of {budget:.0f}s spent", "stopped", BUDGET_EXIT)
        wall = self.handle.config.budget.wall_time_s
        if wall is not None and elapsed >= wall:
            return StopSignal(f"wall-time budget spent (budget.wall_time_s={wall} in this session); "
                              f"fix: `darwin resume RUN_DIR --set budget.wall_time_s={wall}`", "stopped",
                              BUDGET_EXIT)
        return None

    def _unfinished(self, generation: int) -> bool:
        record = self.handle.generations.get(generation)
        return record is not None and record.get("status") != "done"


def _finished(record: dict | None) -> bool:
    """A generation recorded ``done`` with attempts (an empty one stops the loop where it is)."""
    return record is not None and record.get("status") == "done" and bool(record.get("attempts"))
