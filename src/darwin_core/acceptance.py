"""The judge step: a child's status. An error, an empty change or a child that does not run
is ``error`` or ``invalid`` (:func:`verdict`); a valid child is accepted into the archive by the
archive policy, then the noise-aware acceptance rule (:func:`judge`).

Archive policy: ``keep_all`` (DGM's default) accepts every valid child; ``keep_better`` only
those scoring at least the initial variant's score minus a margin (in the objective's
direction: at most the initial score plus the margin when it minimises).

Acceptance rule (``[acceptance]``), comparing the child with its parent on the tasks both were
evaluated on (paired, so staged evaluations compare like with like):

* ``none``: no further condition (DGM's behaviour).
* ``margin``: the weighted mean score gain must be at least ``margin``. With an objective other
  than the default task score (a metric, a weighted sum, a minimised value), the gain is the
  objective's improvement over the parent's (``child - parent``, or ``parent - child`` when
  minimising), not a per-task mean.
* ``sign_test``: the child must win significantly more tasks than it loses: a one-sided exact
  sign (McNemar) test on the tasks where the two differ, ``p <= alpha``.

A task that is ``flaky`` for either variant (its result flipped across runs of identical code)
weighs ``flaky_weight`` in the margin and is left out of the sign test, so that noise does not
masquerade as improvement.
"""

from __future__ import annotations

from math import comb
from typing import TYPE_CHECKING, Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import Objective, TaskResult, Variant

if TYPE_CHECKING:
    from .config import DarwinConfig


class AcceptanceSection(BaseModel):
    """The ``[acceptance]`` section of a run's config."""

    model_config = ConfigDict(extra="forbid")
    rule: Literal["none", "margin", "sign_test"] = "none"
    margin: float = 0.0
    """``margin`` rule: minimum mean score gain over the parent on shared tasks (or minimum
    objective improvement, for objectives other than the task score)."""
    alpha: float = Field(0.05, gt=0.0, lt=1.0)
    """``sign_test`` rule: significance level."""
    flaky_weight: float = Field(0.0, ge=0.0, le=1.0)
    """Weight of a flaky task in the margin (non-flaky tasks weigh 1)."""
    min_shared_tasks: int = Field(1, ge=1)
    """Fewer shared tasks than this: the child is rejected (nothing to compare)."""


def verdict(config: "DarwinConfig", error: str, changed: bool, score: float | None, parent: Variant,
            root: Variant | None, results: list[TaskResult], objective: Objective | None = None,
            missing: str = "") -> tuple[str, str]:
    """The judge step: ``(status, reason)`` of a child, from its error, whether it changed
    anything and its evaluation; a valid child goes to :func:`judge`. ``score`` is ``None``
    when the objective has no value (``missing`` says why): such a child is ``invalid``."""
    if error:
        return "error", error.splitlines()[0][:500]
    invalid = validity(results, changed)
    if invalid is not None:
        return invalid
    if score is None:
        return "invalid", missing or "the objective has no value"
    return judge(config, score, parent, root, results, objective)


def validity(results: list[TaskResult], changed: bool) -> tuple[str, str] | None:
    """``("invalid", why)`` for a variant with nothing to judge, else ``None``."""
    if not changed:
        return "invalid", "empty proposal: no file changed"
    if not results:
        return "invalid", "not evaluated"
    if all(r.failure_kind in ("crash", "error") for r in results):
        return "invalid", "does not run: every evaluated task crashed"
    return None


def judge(config: "DarwinConfig", child_score: float, parent: Variant, root: Variant | None,
          results: Iterable[TaskResult] | None = None, objective: Objective | None = None) -> tuple[str, str]:
    """Return ``(status, reason)`` for a valid, evaluated child (``results``: its task results;
    without them only the archive policy applies; ``objective``: the run's, default the task
    score maximised)."""
    objective = objective or Objective()
    if config.run.archive_policy == "keep_better":
        floor = (root.score if root else 0.0) - objective.sign * config.run.keep_better_margin
        if objective.better(floor, child_score):
            return "rejected", f"score {child_score:.4f} worse than keep_better floor {floor:.4f}"
    rule: AcceptanceSection = getattr(config, "acceptance", None) or AcceptanceSection()
    if rule.rule == "none" or results is None:
        return "accepted", ""
    if rule.rule == "margin" and not objective.unit_interval:
        gain = objective.utility(child_score) - objective.utility(parent.score)
        if gain + 1e-12 < rule.margin:
            return "rejected", (f"objective gain {gain:+.4f} over parent {parent.id} "
                                f"({objective.describe()}) is below the margin {rule.margin:.4f}")
        return "accepted", f"objective gain {gain:+.4f} >= margin {rule.margin:.4f}"
    return compare(rule, list(results), parent)


def paired(child: list[TaskResult], parent: Variant) -> list[tuple[TaskResult, TaskResult]]:
    """``(child result, parent result)`` for every task both were evaluated on."""
    return [(r, parent.task_results[r.task_id]) for r in child if r.task_id in parent.task_results]


def compare(rule: AcceptanceSection, child: list[TaskResult], parent: Variant) -> tuple[str, str]:
    pairs = paired(child, parent)
    if len(pairs) < rule.min_shared_tasks:
        return "rejected", (f"only {len(pairs)} task(s) shared with parent {parent.id}; the "
                            f"acceptance rule needs {rule.min_shared_tasks}")
    if rule.rule == "margin":
        gain, weight = mean_gain(pairs, rule.flaky_weight)
        if weight == 0:
            return "rejected", "every shared task is flaky: no evidence of improvement"
        if gain + 1e-12 < rule.margin:
            return "rejected", (f"mean gain {gain:+.4f} over parent {parent.id} on {len(pairs)} "
                                f"shared task(s) is below the margin {rule.margin:.4f}")
        return "accepted", f"mean gain {gain:+.4f} >= margin {rule.margin:.4f}"
    wins, losses = discordant(pairs)
    p = sign_test_p(wins, losses)
    if p > rule.alpha:
        return "rejected", (f"sign test vs parent {parent.id}: {wins} win(s), {losses} loss(es), "
                            f"p={p:.4f} > alpha={rule.alpha}")
    return "accepted", f"sign test: {wins} win(s), {losses} loss(es), p={p:.4f}"


def mean_gain(pairs: list[tuple[TaskResult, TaskResult]], flaky_weight: float) -> tuple[float, float]:
    """Weighted mean of ``child score - parent score``; flaky tasks weigh ``flaky_weight``."""
    total = weight = 0.0
    for c, p in pairs:
        w = flaky_weight if (c.flaky or p.flaky) else 1.0
        total += w * (c.score - p.score)
        weight += w
    return (total / weight if weight else 0.0), weight


def discordant(pairs: list[tuple[TaskResult, TaskResult]]) -> tuple[int, int]:
    """Non-flaky tasks the child passes and the parent fails (wins), and the reverse."""
    wins = losses = 0
    for c, p in pairs:
        if c.flaky or p.flaky or c.passed == p.passed:
            continue
        if c.passed:
            wins += 1
        else:
            losses += 1
    return wins, losses


def sign_test_p(wins: int, losses: int) -> float:
    """One-sided exact p-value of ``wins`` or more successes in ``wins + losses`` fair coin
    flips (1.0 when there is no discordant task)."""
    n = wins + losses
    if n == 0:
        return 1.0
    return sum(comb(n, k) for k in range(wins, n + 1)) / 2 ** n
