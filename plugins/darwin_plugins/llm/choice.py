"""Which model answers an attempt: fixed weights, or a bandit that learns accepted children
per dollar.

The bandit draws, for each model, a success rate from Beta(1 + accepted, 1 + other) (Thompson
sampling) and divides it by the model's mean cost per attempt (plus a small floor, so free
models are not infinitely good); the highest value wins. Its evidence is the run's own children
(their ``llm_model`` metadata, status and cost), observed as attempts finish and rebuilt from
the stored variants when a run resumes.
"""

from __future__ import annotations

import random
import threading
from typing import Any, Sequence

COST_FLOOR_USD = 1e-4


class ModelChooser:
    def __init__(self, names: Sequence[str], weights: Sequence[float], mode: str = "weighted") -> None:
        self.names = list(names)
        self.weights = [max(0.0, w) for w in weights]
        if not any(self.weights):
            self.weights = [1.0] * len(self.names)
        self.mode = mode
        self.lock = threading.Lock()
        self.stats: dict[str, dict[str, float]] = {n: {"n": 0, "accepted": 0, "cost": 0.0} for n in self.names}

    def choose(self, rng: random.Random) -> int:
        """Index of the model to use."""
        if len(self.names) == 1:
            return 0
        if self.mode == "bandit":
            with self.lock:
                values = []
                for name, weight in zip(self.names, self.weights):
                    s = self.stats[name]
                    rate = rng.betavariate(1 + s["accepted"], 1 + s["n"] - s["accepted"])
                    mean_cost = s["cost"] / s["n"] if s["n"] else 0.0
                    values.append(rate / (mean_cost + COST_FLOOR_USD) if weight > 0 else -1.0)
            return max(range(len(values)), key=values.__getitem__)
        return rng.choices(range(len(self.names)), weights=self.weights)[0]

    def observe(self, model: str, accepted: bool, cost_usd: float) -> None:
        with self.lock:
            s = self.stats.get(model)
            if s is None:
                return
            s["n"] += 1
            s["accepted"] += 1 if accepted else 0
            s["cost"] += cost_usd

    def observe_variant(self, variant: Any) -> None:
        model = (getattr(variant, "metadata", None) or {}).get("llm_model")
        if model:
            self.observe(model, variant.status == "accepted", float(variant.cost_usd or 0.0))


_CHOOSERS: dict[str, ModelChooser] = {}
_LOCK = threading.Lock()


def register(run_id: str, chooser: ModelChooser) -> None:
    with _LOCK:
        _CHOOSERS[run_id] = chooser


def chooser_for(run_id: str) -> ModelChooser | None:
    with _LOCK:
        return _CHOOSERS.get(run_id)
