"""Choosing among plausible patches (bench_repair.py ``--plausible-extra``): criteria that pick one
of the variants passing every visible test without looking at the held-out tests.

Each plausible variant (``bench_search_loop.Outcome.plausible``) carries the attempt it was
found at, the edits and prior (product of :mod:`darwin_plugins.mutation.priors` multipliers) of
its lineage, and per visible task ``(passed, coverage)``. The criteria:

- ``first``: the first found (what a run stopping at 1.0 keeps; the baseline);
- ``prior``: the highest lineage prior, then fewest edits;
- ``edits``: the fewest edits;
- ``trace``: the least change of covered lines relative to the root on the tasks the root
  passes (Xiong et al. 2018: a correct patch changes passing tests' behaviour least);
- ``vote``: the variant whose coverage on every task the most plausible variants share;
- ``oracle``: any plausible variant genuine (an upper bound, uses the held-out tests).

Ties go to the earlier variant.
"""

from __future__ import annotations

import json
from typing import Any

CRITERIA = ("first", "prior", "edits", "trace", "vote")


def _lines(coverage: dict[str, list[int]] | None) -> set[tuple[str, int]]:
    return {(f, n) for f, ls in (coverage or {}).items() for n in ls}


def trace_change(root: dict[str, Any], variant: dict[str, Any]) -> int:
    """Covered lines added or lost, summed over the tasks the root passes."""
    total = 0
    for task, (passed, cov) in root["coverage"].items():
        if passed:
            total += len(_lines(cov) ^ _lines(variant["coverage"].get(task, (False, None))[1]))
    return total


def choose(criterion: str, root: dict[str, Any], plausible: list[dict[str, Any]]) -> int:
    """The index in ``plausible`` (non-empty, in order found) the criterion picks."""
    order = range(len(plausible))
    if criterion == "first":
        return 0
    if criterion == "prior":
        return min(order, key=lambda i: (-plausible[i]["prior"], plausible[i]["edits"], i))
    if criterion == "edits":
        return min(order, key=lambda i: (plausible[i]["edits"], i))
    if criterion == "trace":
        return min(order, key=lambda i: (trace_change(root, plausible[i]), -plausible[i]["prior"], i))
    if criterion == "vote":
        sig = [json.dumps(sorted(p["coverage"].items())) for p in plausible]
        return min(order, key=lambda i: (-sig.count(sig[i]), -plausible[i]["prior"], i))
    raise ValueError(f"unknown criterion {criterion!r} (choose from {', '.join(CRITERIA)})")


def choices(outcome_plausible: list[dict[str, Any]], genuine: list[bool]) -> dict[str, bool]:
    """``{criterion: whether its pick is genuine}``, plus ``oracle``; ``genuine`` per plausible
    variant (``outcome_plausible[0]`` is the root's entry, not a candidate)."""
    root, plausible = outcome_plausible[0], outcome_plausible[1:]
    if not plausible:
        return {c: False for c in (*CRITERIA, "oracle")}
    out = {c: genuine[choose(c, root, plausible)] for c in CRITERIA}
    out["oracle"] = any(genuine)
    return out
