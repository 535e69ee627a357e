"""Numeric perturbation: several constants of the editable code scaled at once, by a random
factor whose step size adapts to the run.

A numeric program (a construction from constants and loops, scored by an unbounded objective)
improves by small moves of many constants, which the enumerated neighbourhood (``x 1.1``,
``x 0.9``... one literal at a time) covers coarsely. A *perturbation* child changes
``1 + Geometric`` literals (mean ``perturb_edits``), drawn without replacement by weight: a
float ``x`` becomes ``x * exp(s z)`` (``z`` standard normal; ``s z`` added when ``x`` is 0),
an integer ``n`` moves by ``round(s |n| z)``, at least 1.

Nothing here keeps state: everything adapts from the run's recorded outcomes
(``GenerationContext.operator_stats``, the labels of earlier children's ``metadata["families"]``):

* the step ``s`` follows Rechenberg's success rule in its order-free product form: from
  ``perturb_step``, multiplied by ``exp(1 / DAMPING)`` per perturbation child that beat its
  parent and by ``exp(-TARGET / (DAMPING * (1 - TARGET)))`` per one that did not, so it grows
  while more than ``TARGET`` of them succeed and shrinks otherwise (``TARGET = 0.1``: on
  examples/spread the success rate hardly falls with the step, and the classic 1/5 shrank it
  too far), clipped to ``[STEP_MIN, STEP_MAX]``; each child draws its own step log-normally
  around it (``SPREAD``), clipped to the same range (unclipped, a quarter of the children on
  examples/spread drew steps of 1.8 to 56, a factor ``exp(s z)`` that breaks or overflows the
  value, and 4 in 100 of them improved; docs/search.md, session 11);
* a perturbed parent's first perturbation attempt repeats the parent's move (each literal by
  the same factor: a pattern move, labelled ``perturb-repeat``, outside the step rule);
* each literal's weight is its smoothed success rate over the run's (``perturb@file:line:n``
  labels) relative to all perturbations', clipped to ``[1/4, 4]``: a constant whose moves only
  tie the parent (dead code) or break the configuration is drawn less often.

The first ``STALL`` attempts on a parent always perturb (the generator's plan): an enumerated,
structural edit comes only once the parent's constants have had their tuning.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from typing import Any, Callable

from .operators import ParsedModule, Site, apply_edits
from .operators.tables import number

FAMILY = "perturb"
REPEAT = "perturb-repeat"
"""The label of a pattern move (it does not count in the step rule: its step is the parent's)."""
STEP_MIN, STEP_MAX = 1e-5, 1.0
TARGET = 0.1
DAMPING = 3.0
SPREAD = 1.0
"""Standard deviation of a child's log-step around the adapted step."""
EXPAND = 1.0
"""A pattern move's step over its parent's (Hooke-Jeeves: a move that worked is tried again,
larger)."""
CLIP = 4.0
SMOOTHING = 3.0
STALL = 16
"""Attempts on a parent that always perturb before an enumerated (structural) edit may come: a
structural jump is then judged against constants that have had their tuning, not against the
untuned root (on examples/spread an early ``* -> /`` beat the root by 0.15 and held its lineage
below 2.9 for 390 attempts; see docs/search.md)."""
PER_LITERAL = ""
"""Each moved literal's own step (off by default; measured in docs/search.md): ``"own"``, the
success rule on that literal's own record (``LITERAL_TARGET``) from ``perturb_step``;
``"relative"``, the run's step times the literal's wins over the run's success rate."""
LITERAL_TARGET = 0.2
LITERAL_DAMPING = 3.0
"""``"relative"``: the literal's log-step moves by its wins above the run's rate over this."""


@dataclass
class Literal:
    rel: str
    site: Site
    value: float | int
    label: str
    """``perturb@file:line:occurrence``: the literal's key in ``operator_stats``."""


def literals(parsed: dict[str, ParsedModule], keep: Callable[[str, Site], bool]) -> list[Literal]:
    """The numeric literals (the ``constant`` family's sites) a perturbation may change."""
    found: list[Literal] = []
    for rel in sorted(parsed):
        occurrence: dict[int, int] = {}
        for site in parsed[rel].sites:
            if site.family != "constant" or not keep(rel, site):
                continue
            text = getattr(site.node, "value", "").replace("_", "")
            try:
                value: float | int = int(text, 0) if site.label == "integer" else float(text)
            except ValueError:
                continue
            n = occurrence.get(site.line, 0)
            occurrence[site.line] = n + 1
            found.append(Literal(rel, site, value, f"{FAMILY}@{rel}:{site.line}:{n}"))
    return found


def step(stats: dict[str, Any], initial: float) -> float:
    """The success-rule step after the run's recorded perturbations (``operator_stats["perturb"]``)."""
    wins, trials = stats.get(FAMILY, (0, 0))
    log_step = math.log(initial) + (wins - TARGET * trials) / (DAMPING * (1 - TARGET))
    return math.exp(min(math.log(STEP_MAX), max(math.log(STEP_MIN), log_step)))


def literal_step(stats: dict[str, Any], lit: Literal, run_step: float, initial: float) -> float:
    """A literal's own step (``PER_LITERAL``) from its record in ``operator_stats``."""
    w, n = stats.get(lit.label, (0, 0))
    if PER_LITERAL == "own":
        log_step = math.log(initial) + (w - LITERAL_TARGET * n) / (DAMPING * (1 - LITERAL_TARGET))
    else:
        wins, trials = stats.get(FAMILY, (0, 0))
        log_step = math.log(run_step) + (w - n * (wins + 1) / (trials + 2)) / LITERAL_DAMPING
    return math.exp(min(math.log(STEP_MAX), max(math.log(STEP_MIN), log_step)))


def literal_weights(found: list[Literal], stats: dict[str, Any]) -> list[float]:
    """Each literal's draw weight: its smoothed success rate over all perturbations' (floats 1,
    integers 1/2 a priori: they are more often counts and indices)."""
    wins, trials = stats.get(FAMILY, (0, 0))
    base = (wins + 1) / (trials + 2)
    out = []
    for lit in found:
        w, n = stats.get(lit.label, (0, 0))
        rate = (w + SMOOTHING * base) / (n + SMOOTHING)
        prior = 0.5 if isinstance(lit.value, int) else 1.0
        out.append(prior * min(CLIP, max(1 / CLIP, rate / base)))
    return out


def moved(value: float | int, s: float, rng: random.Random) -> float | int:
    """``value`` moved by a step ``s`` (never to itself)."""
    z = rng.gauss(0.0, 1.0)
    if isinstance(value, int):
        delta = int(round(s * max(abs(value), 1) * z)) or (1 if z >= 0 else -1)
        return value + delta
    try:
        new = value * math.exp(s * z) if value != 0 else s * z
    except OverflowError:  # a caller's huge step: the value stays, then is nudged below
        new = value
    new = float(f"{new:.10g}") if math.isfinite(new) else value
    return new if new != value else float(f"{value + math.copysign(max(abs(value), 1.0) * 1e-9, z):.12g}")


def propose(parsed: dict[str, ParsedModule], sources: dict[str, str], found: list[Literal],
            stats: dict[str, Any], *, initial_step: float, edits_mean: float,
            rng: random.Random) -> tuple[dict[str, str], list[tuple[Literal, float | int]], float] | None:
    """A perturbed child: ``(changes, [(literal, new value)], step)``, or None if nothing compiles."""
    run_step = step(stats, initial_step)
    factor = math.exp(SPREAD * rng.gauss(0.0, 1.0))
    s = min(STEP_MAX, max(STEP_MIN, run_step * factor))  # a child's step never compounds past the range
    weights = literal_weights(found, stats)
    count = 1
    go_on = 1.0 - 1.0 / max(edits_mean, 1.0)
    while count < len(found) and rng.random() < go_on:
        count += 1
    keyed = sorted(range(len(found)), key=lambda i: math.log(rng.random() or 1e-300) / weights[i], reverse=True)
    chosen = [(found[i], moved(found[i].value, factor * literal_step(stats, found[i], run_step, initial_step)
                               if PER_LITERAL else s, rng)) for i in keyed[:count]]
    return _apply(parsed, sources, chosen, s)


def repeat(parsed: dict[str, ParsedModule], sources: dict[str, str], found: list[Literal],
           moves: list[Any]) -> tuple[dict[str, str], list[tuple[Literal, float | int]], float] | None:
    """The parent's own perturbation once more (a pattern move: each literal it moved, by the
    same factor or difference), or None when those literals are gone."""
    by_label = {lit.label: lit for lit in found}
    chosen: list[tuple[Literal, float | int]] = []
    for label, old, new in moves:
        lit = by_label.get(label)
        if lit is None or lit.value != new:
            return None
        if isinstance(new, int) or old == 0:
            value: float | int = new + (new - old) * (EXPAND if isinstance(new, float) else 1)
        else:
            value = float(f"{new * (new / old) ** EXPAND:.10g}")
        if value != new:
            chosen.append((lit, value))
    return _apply(parsed, sources, chosen, 0.0)


def apply_moves(parsed: dict[str, ParsedModule], sources: dict[str, str],
                chosen: list[tuple[Literal, float | int]]) -> tuple[dict[str, str], list[tuple[Literal, float | int]], float] | None:
    """A child with the given literals set (a line search's move; step 0: outside the step rule)."""
    return _apply(parsed, sources, chosen, 0.0)


def _apply(parsed: dict[str, ParsedModule], sources: dict[str, str], chosen: list[tuple[Literal, float | int]],
           s: float) -> tuple[dict[str, str], list[tuple[Literal, float | int]], float] | None:
    changes: dict[str, str] = {}
    for rel in sorted({lit.rel for lit, _ in chosen}):
        edits = [(replace(lit.site, alternatives=[("perturbed", lambda n, v=v: number(v))]), 0)
                 for lit, v in chosen if lit.rel == rel]
        try:
            new = apply_edits(parsed[rel], edits)
            compile(new, rel, "exec")  # syntax check only; nothing is executed
        except Exception:  # noqa: BLE001 - a literal that cannot take the value: no child
            return None
        if new != sources[rel]:
            changes[rel] = new
    return (changes, chosen, s) if changes else None


def share(option: float | None, restricted: bool, found: list[Literal], multiplier: float) -> float:
    """The probability that an attempt on this parent is a perturbation: ``option`` (``None``:
    0.8 when the code marks evolve blocks or regions and they hold numeric literals, else 0),
    tilted by the parent's frozen bandit multiplier for ``perturb``."""
    base = (0.8 if restricted else 0.0) if option is None else option
    if not found or base <= 0.0:
        return 0.0
    if base >= 1.0:
        return 1.0
    return base * multiplier / (base * multiplier + 1.0 - base)


KINDS = (FAMILY, REPEAT, "perturb-toward", "perturb-line")
"""The labels of perturbation children (plain, pattern move, lineage line search, a literal's line
search from its siblings: :mod:`.linesearch`)."""
ENUM_MIN = 0.05


def next_share(stats: dict[str, Any], enumerated: list[str], base: float) -> float:
    """The share of perturbations for the children of a new variant (frozen on it): the
    enumerated edits keep ``1 - base`` while they improve as often as perturbations do, and
    less in proportion when they improve less often (at least ``ENUM_MIN``)."""
    def rate(labels: Any) -> float:
        wins = sum(stats.get(label, (0, 0))[0] for label in labels)
        trials = sum(stats.get(label, (0, 0))[1] for label in labels)
        return (wins + 1) / (trials + 2)

    enum = (1.0 - base) * min(1.0, rate(enumerated) / rate(KINDS))
    return round(1.0 - max(min(ENUM_MIN, 1.0 - base), enum), 4)
