"""Predictor gating: skip attempts a predictor deems unlikely to pay off.

With no ``[predictor]`` configured every attempt runs. A predictor backend (see
``darwin_register_predictors``) is asked before each attempt is paid for; every decision is
recorded on the attempt (``attempt.metadata["gate"]``).
"""

from __future__ import annotations

from typing import Any

from darwin_hookspecs import Attempt, Variant

from .archive import Archive


class Gate:
    """The default gate: lets every attempt through and learns nothing."""

    def decide(self, attempt: Attempt, parent: Variant, archive: Archive) -> tuple[bool, dict[str, Any]]:
        """Return ``(run_it, decision record)``."""
        return True, {}

    def observe(self, attempt: Attempt, parent: Variant, child: Variant, archive: Archive) -> None:
        """Learn from a finished attempt."""

    def save(self) -> None:
        """Persist learned state with the run."""
