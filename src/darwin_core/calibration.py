"""How good a predictor's probabilities are: Brier score (calibration) and ROC AUC
(discrimination), computed on predictions made before the outcome was known."""

from __future__ import annotations

from typing import Sequence


def brier_score(probabilities: Sequence[float], outcomes: Sequence[bool]) -> float | None:
    """Mean squared error of the probabilities (0 is perfect; 0.25 is a coin); ``None`` if empty."""
    if not probabilities:
        return None
    return sum((p - float(y)) ** 2 for p, y in zip(probabilities, outcomes)) / len(probabilities)


def roc_auc(scores: Sequence[float], outcomes: Sequence[bool]) -> float | None:
    """Probability that a random positive scores above a random negative (ties count half);
    ``None`` when only one class is present."""
    positives = sum(bool(y) for y in outcomes)
    negatives = len(outcomes) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        average = (i + j) / 2 + 1  # ranks are 1-based; tied scores share their mean rank
        for k in range(i, j + 1):
            ranks[order[k]] = average
        i = j + 1
    rank_sum = sum(r for r, y in zip(ranks, outcomes) if y)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
