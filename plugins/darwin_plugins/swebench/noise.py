"""Repeated runs of one task on identical code, folded into one result.

A task whose runs disagree is ``flaky``: its score is the pass rate (so it weighs in
proportion to how often it passes), it counts as passed only when most runs pass, and its
target kind becomes ``stochastic`` (DGM's "solve stochasticity") when it is not passed.
"""

from __future__ import annotations

import dataclasses

from darwin_hookspecs import TaskResult


def combine(runs: list[TaskResult]) -> TaskResult:
    if not runs:
        raise ValueError("no run to combine")
    if len(runs) == 1:
        return runs[0]
    n = len(runs)
    passes = sum(r.passed for r in runs)
    passed = passes * 2 > n
    flaky = any(r.passed != runs[0].passed for r in runs) or len({r.score for r in runs}) > 1
    base = next((r for r in runs if r.passed == passed), runs[0])
    details = dict(base.details)
    details["run_outcomes"] = [r.details.get("swebench_status", "passed" if r.passed else "failed")
                               for r in runs]
    details["pass_rate"] = passes / n
    if flaky and not passed:
        details["target_kind"] = "stochastic"
        details["target_description"] = (
            f"instance {base.task_id} is resolved in {passes} of {n} runs of identical code: "
            "make the agent's result reliable"
        )
    return dataclasses.replace(
        base, passed=passed, score=sum(r.score for r in runs) / n, runs=n, flaky=flaky,
        failure_kind=None if passed else base.failure_kind,
        duration_s=sum(r.duration_s for r in runs), details=details,
    )
