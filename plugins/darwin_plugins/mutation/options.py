"""The ``mutation`` generator's options (no libcst here: the plugin loads without it)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def _all_families() -> list[str]:
    from .operators import FAMILIES  # libcst: only when a config actually uses the generator

    return list(FAMILIES)


class MutationOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include: list[str] = Field(default_factory=lambda: ["*.py"])
    """Glob patterns of the files that may be mutated (relative to the variant)."""
    exclude: list[str] = Field(default_factory=lambda: ["test_*.py", "*_test.py", "tests/*", "conftest.py", "setup.py"])
    """Glob patterns of files never mutated (the tests themselves, by default)."""
    families: list[str] = Field(default_factory=_all_families)
    """Mutation families to draw from (comparison, arithmetic, boolean, constant...)."""
    family_weights: dict[str, float] = Field(default_factory=dict)
    """Prior weight per family (defaults: :data:`PRIORS`)."""
    uncovered_weight: float = Field(0.01, ge=0.0)
    """Weight of lines no failing task executed, against 1-2 for executed ones."""
    sharpness: float = Field(4.0, ge=0.0, le=8.0)
    """Exponent on edit weights in the enumeration order (``log(u) / w**sharpness``): 1 draws
    edits in proportion to their weights, higher tries the likeliest first more strictly, 0 is
    uniform (4: the most genuine repairs of benchmarks/bench_repair.py, see docs/search.md)."""
    tried_delay: float = Field(8.0, ge=1.0)
    """How much later an edit already tried on an ancestor comes (its priority key times this;
    ``inf``: after every fresh edit). An edit that improved on an ancestor but lost to a sibling
    (another bug's fix) is among them, so a finite delay lets it come back (8: the quickstart's
    last fix was buried otherwise, see docs/search.md)."""
    share: Literal["family", "site"] = "family"
    """What an edit's weight is shared with (in proportion to the near-miss priors): its
    ``family`` (a family with few sites gives each a large weight) or its ``site`` (every site
    of a family weighs the family's prior, its alternatives share it)."""
    localise: Literal["failing", "ochiai"] = "ochiai"
    """Line weights: ``ochiai`` (0.1 + Ochiai's suspiciousness from the failing and passing
    tasks' coverage: a line only failing tasks run weighs most) or ``failing`` (1 + share of
    failing tasks executing the line)."""
    complements: float = Field(0.1, ge=0.0)
    """Factor on the weight of edits that invert a test on every input (a negated condition,
    ``==`` / ``!=``, ``<`` / ``>=``, ``not`` dropped): when such an edit passes the tests it has
    changed behaviour on more inputs than they check, so it games them more often than a
    boundary or constant fix does (0.1: the quickstart's genuine fix on 6 of 6 seeds, see
    docs/search.md; 1: no damping)."""
    idioms: bool = True
    """Priors for edits unlike a programmer's slip (:mod:`.idioms`): a step or scale literal
    (``hi -= 1``, ``i // 2``) moved by one is not a near miss, an update or operation made an
    identity or a constant (``size *= 1``, ``hi %= 1``) comes after the deletion it duplicates
    (False: the order before session 9; test-gaming on the repair suite, see docs/search.md)."""
    pairs: int = Field(20, ge=0, le=200)
    """Two-edit children from pairs of a parent's ``pairs`` likeliest edits, likeliest pair
    first (:mod:`.pairs`; 0 or 1: none)."""
    pairs_after: float = Field(0.5, ge=0.0, le=1.0)
    """Share of a parent's neighbourhood (its single edits) tried before pairs start; then
    singles and pairs take turns, and once the singles are spent pairs only (1: pairs only
    then). 0.5 repaired ``min_max`` (two edits, neither changes a test alone) without losing a
    tuning program of benchmarks/bench_repair.py; 0.1-0.3 cost single-edit repairs."""
    pairs_focus: int = Field(2, ge=0, le=50)
    """With ``N > 0``, pairs combine ``pairs`` edits at the parent's ``N`` most suspicious lines,
    each line's likeliest in turn, instead of its ``pairs`` likeliest anywhere (:mod:`.focus`);
    0: the global pairs. A parent without coverage keeps the global pairs."""
    pairs_early: int = Field(4, ge=0, le=20000)
    """With ``pairs_focus``: the first ``pairs_early`` focused pairs take every other turn as soon
    as the single edits they combine are all tried, before ``pairs_after`` (0: none). 4 with
    ``pairs_focus = 2`` repaired ``min_max`` on 3 of 3 seeds after ~45 attempts (2 of 3 after
    ~145 before) and lost nothing on benchmarks/bench_repair.py's six halves; bringing every
    focused pair forward lost late single-edit repairs (see docs/search.md)."""
    edits_mean: float = Field(1.0, ge=1.0, le=8.0)
    """Mean number of edits per child (geometric); 1: single edits only."""
    max_edits: int = Field(4, ge=1)
    """Most edits one child carries."""
    adaptive: bool = True
    """Adapt family weights to the run's improving children (a bandit over families)."""
    regions: list[str] = Field(default_factory=list)
    """Editable regions ``"path:first-last"``, on top of ``EVOLVE-BLOCK-START/END`` markers."""
    max_tries: int = Field(20, ge=1)
    """Mutants tried for the further edits of a multi-edit child (a combination that does not
    compile is redrawn)."""
    perturb: float | None = Field(None, ge=0.0, le=1.0)
    """Share of attempts that perturb numeric literals (:mod:`.perturb`) instead of taking the
    next enumerated edit; ``None``: 0.8 when evolve blocks or ``regions`` mark the editable code
    and it holds numeric literals, else 0. Tilted per parent by the bandit."""
    perturb_step: float = Field(0.1, gt=0.0, le=1.0)
    """Initial log-scale step of a perturbation (a float ``x`` becomes ``x * exp(step * z)``),
    adapted by the 1/5 success rule."""
    perturb_edits: float = Field(1.0, ge=1.0, le=16.0)
    """Mean number of literals one perturbation changes (``1 + Geometric``)."""
    perturb_line: int = Field(4, ge=0, le=64)
    """Attempts of a generation on one parent that take the line search's moves (:mod:`.linesearch`:
    a literal's failed move mirrored, then the parabola through the three points; 0: off)."""
    perturb_search: Literal["global", "lineage"] = "global"
    """``global``: one step from the run's success rate (:mod:`.perturb`); ``lineage``: step and
    direction carried along each lineage, line searches through better inspirations
    (:mod:`.perturb_es`; on examples/spread and examples/packing it did worse, see docs/search.md)."""


class CrossoverOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rate: float = Field(0.5, ge=0.0, le=1.0)
    """Probability that an attempt with an inspiration is a crossover (else a mutation)."""
    take: float = Field(1.0, gt=0.0, le=1.0)
    """Probability of keeping each non-conflicting hunk of the inspiration."""
    max_tries: int = Field(8, ge=1)
    """Merges drawn before giving up on one that compiles."""
    mutation: dict[str, Any] = Field(default_factory=dict)
    """Options of the ``mutation`` generator used for the other attempts."""
