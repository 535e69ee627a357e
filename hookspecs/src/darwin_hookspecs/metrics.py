"""Metrics and objectives: what a task reports and what a benchmark optimises.

A task result carries named float metrics (unbounded, finite) and bounded text artifacts; a
benchmark declares an :class:`Objective` over the variant's aggregate metrics (see
``docs/tasks.md``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from .records import _known

Direction = Literal["maximise", "minimise"]

ARTIFACT_CHARS = 4000
"""Longest artifact value kept (its tail); longer text belongs in a log blob."""
ARTIFACT_TOTAL = 16000
"""Most artifact characters kept per task result."""
ARTIFACT_COUNT = 32
"""Most artifacts kept per task result."""
RESERVED_METRICS = ("pass_rate",)
"""Metric names a task may not report: the engine computes them."""


def bound_artifacts(artifacts: Mapping[str, Any]) -> dict[str, str]:
    """Artifacts as bounded text: at most :data:`ARTIFACT_COUNT` entries, each value the tail
    of its text (non-strings as JSON) up to :data:`ARTIFACT_CHARS`, :data:`ARTIFACT_TOTAL` in all."""
    bounded: dict[str, str] = {}
    left = ARTIFACT_TOTAL
    for key, value in list(artifacts.items())[:ARTIFACT_COUNT]:
        if left <= 0:
            break
        if not isinstance(value, str):
            try:
                value = json.dumps(value, default=str)
            except (TypeError, ValueError):
                value = repr(value)
        value = value[-min(ARTIFACT_CHARS, left):]
        bounded[str(key)[:200]] = value
        left -= len(value)
    return bounded


def finite_metric(name: str, value: Any) -> float:
    """``value`` as a finite float; ``ValueError`` naming the metric when it is not one
    (NaN, an infinity, a boolean, text that is not a number)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"metric {name!r}: {value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"metric {name!r}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"metric {name!r} is {number} (NaN and infinities are errors)")
    return number


@dataclass
class Objective:
    """What a benchmark optimises: one metric, or a weighted sum of metrics, and a direction.

    A variant's metrics are aggregated over its tasks (see ``docs/tasks.md``): ``score`` (the
    weighted mean task score over every task, unevaluated ones counting 0: today's default),
    ``pass_rate`` (the weighted share of tasks passed) and each metric the tasks report. A
    variant's ``score`` is :meth:`value` of those metrics, never clamped.

    :param metric: The metric optimised (when ``terms`` is empty).
    :param direction: ``maximise`` or ``minimise``.
    :param terms: ``{metric: weight}``: optimise ``sum(weight * metric)`` instead.
    """

    metric: str = "score"
    direction: Direction = "maximise"
    terms: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        aliases = {"maximize": "maximise", "max": "maximise", "minimize": "minimise", "min": "minimise"}
        self.direction = aliases.get(self.direction, self.direction)  # type: ignore[assignment]
        if self.direction not in ("maximise", "minimise"):
            raise ValueError(f"objective direction {self.direction!r}: use 'maximise' or 'minimise'")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "Objective":
        return cls(**_known(cls, data or {}))

    @property
    def sign(self) -> float:
        """``+1`` when higher is better, ``-1`` when lower is."""
        return 1.0 if self.direction == "maximise" else -1.0

    @property
    def unit_interval(self) -> bool:
        """The objective is a rate in ``[0, 1]`` to maximise (the default ``score``, or
        ``pass_rate``): rules built for accuracies (DGM's sigmoid) apply unchanged."""
        return not self.terms and self.metric in ("score", "pass_rate") and self.direction == "maximise"

    def metrics_used(self) -> list[str]:
        return sorted(self.terms) if self.terms else [self.metric]

    def value(self, metrics: Mapping[str, float]) -> float | None:
        """The objective's value for a variant's ``metrics``; ``None`` when one is missing."""
        if not all(name in metrics for name in self.metrics_used()):
            return None
        if self.terms:
            return sum(weight * metrics[name] for name, weight in self.terms.items())
        return metrics[self.metric]

    def utility(self, score: float) -> float:
        """``score`` oriented so that higher is always better."""
        return self.sign * score

    def better(self, a: float, b: float) -> bool:
        """``a`` is strictly better than ``b``."""
        return self.utility(a) > self.utility(b)

    def reached(self, score: float, target: float) -> bool:
        """``score`` is at least as good as ``target``."""
        return self.utility(score) >= self.utility(target)

    def describe(self) -> str:
        if self.terms:
            body = " + ".join(f"{w:g}*{name}" for name, w in self.terms.items())
        else:
            body = self.metric
        return f"{self.direction} {body}"
