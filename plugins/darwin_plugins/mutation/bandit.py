"""Operator-family weights that adapt to what improved children in this run.

The state is the engine's ``GenerationContext.operator_stats`` (``metadata["families"]`` of each
recorded child of earlier generations and whether it beat its parent), so it needs no state of
its own, reads no storage (a Ray worker has none) and survives a resume.
A family's weight is its prior times its smoothed improvement rate over the run's overall rate
(clipped to ``[1/4, 4]``).
"""

from __future__ import annotations

from typing import Any

CLIP = 4.0
SMOOTHING = 5.0


def family_stats(records: list[dict[str, Any]], sign: float = 1.0) -> dict[str, list[int]]:
    """``{family: [improved children, children]}`` over variant records; ``sign`` is the
    objective's (``-1``: it minimises, a lower score improves); an ``invalid`` or ``error``
    child never improves."""
    scores = {r["id"]: sign * float(r.get("score", 0.0)) for r in records if "id" in r}
    stats: dict[str, list[int]] = {}
    for record in records:
        parent = record.get("parent_id")
        families = (record.get("metadata") or {}).get("families") or []
        if parent not in scores:
            continue
        improved = (record.get("status") not in ("invalid", "error")
                    and sign * float(record.get("score", 0.0)) > scores[parent] + 1e-12)
        for family in set(families):
            entry = stats.setdefault(str(family), [0, 0])
            entry[0] += int(improved)
            entry[1] += 1
    return stats


def weights(stats: dict[str, list[int]], families: list[str]) -> dict[str, float]:
    """Multipliers of the family priors (1 for a family never tried)."""
    wins = sum(s[0] for s in stats.values())
    trials = sum(s[1] for s in stats.values())
    base = (wins + 1) / (trials + 2)
    out: dict[str, float] = {}
    for family in families:
        w, t = stats.get(family, (0, 0))
        rate = (w + SMOOTHING * base) / (t + SMOOTHING)
        out[family] = round(min(CLIP, max(1 / CLIP, rate / base)), 4)
    return out
