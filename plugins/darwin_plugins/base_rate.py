"""The ``base-rate`` predictor: the observed acceptance rate and mean score change, for every
attempt alike. No dependency beyond the standard library.

It is the baseline a learned predictor has to beat, and the cheapest way to run the
after-generation gate's rules (``duplicate``, ``failed_edit``; see docs/learning.md) without
torch: ``[predictor] name = "base-rate"``, ``when = "after"``, ``threshold = 0``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import Prediction, PredictorRegistry, UserError, hookimpl


class BaseRateOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window: int = Field(0, ge=0)
    """Only the most recent this many observations count (0: all of them)."""


class BaseRatePredictor:
    """Laplace-smoothed acceptance rate; mean score change."""

    def __init__(self, options: BaseRateOptions) -> None:
        self.options = options
        self.outcomes: list[tuple[bool, float]] = []

    def _recent(self) -> list[tuple[bool, float]]:
        return self.outcomes[-self.options.window:] if self.options.window else self.outcomes

    def _rate(self) -> float:
        recent = self._recent()
        return (sum(a for a, _ in recent) + 1) / (len(recent) + 2)

    def predict(self, features: list[dict[str, Any]]) -> list[Prediction]:
        recent = self._recent()
        p, delta = self._rate(), (sum(d for _, d in recent) / len(recent) if recent else 0.0)
        return [Prediction(p_accept=p, expected_delta=delta) for _ in features]

    def observe(self, features: dict[str, Any], outcome: dict[str, Any]) -> None:
        self.outcomes.append((bool(outcome.get("accepted")), float(outcome.get("score_delta", 0.0))))
        if self.options.window and len(self.outcomes) > 2 * self.options.window:
            self.outcomes = self.outcomes[-self.options.window:]

    def state(self) -> bytes:
        return json.dumps({"format": 1, "outcomes": self.outcomes}).encode()

    def load_state(self, data: bytes) -> None:
        try:
            saved = json.loads(data)
            self.outcomes = [(bool(a), float(d)) for a, d in saved["outcomes"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(
                f"base-rate: the saved predictor state cannot be read ({exc}); fix: delete the "
                "run's state_predictor record to rebuild it from the replay buffer"
            ) from None

    def metrics(self) -> dict[str, float]:
        return {"observations": float(len(self.outcomes)), "accept_rate": self._rate()}


@hookimpl
def darwin_register_predictors(registry: PredictorRegistry) -> None:
    registry.add(
        "base-rate",
        lambda options, context: BaseRatePredictor(options),
        options=BaseRateOptions,
        description="The observed acceptance rate for every attempt (no dependencies): the "
        "baseline to beat, and the after-generation gate's rules without torch.",
    )
