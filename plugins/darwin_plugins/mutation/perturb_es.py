"""Lineage evolution strategy: the numeric perturbation's step size and search direction carried
along each lineage in the children's metadata, a (1+1)-ES with the success rule and an
evolution path (Rechenberg; Hansen's cumulation, Igel et al.'s (1+1)-CMA-ES, rank one).

A perturbation child records ``metadata["es"]``: ``base`` (its parent's score), ``step`` (the
step it was drawn with) and ``path`` (an exponentially smoothed sum of the normalised moves of
its lineage, ``{literal label: component}``). When it is drawn as a parent, the state it hands
its own children follows from that record and its score alone:

* it beat its parent: the step grows (``x exp(UP)``) and its path holds its own move;
* it did not: the step shrinks (``x exp(-DOWN)``) and the path is its parent's;
* the ``j``-th perturbation attempt on the same parent (``j`` from ``sibling_index``: the
  earlier ones did not replace it, else selection would draw the better child) shrinks the step
  by ``exp(-DOWN)`` per earlier attempt (at most ``PATIENCE`` of them), the failures of the
  success rule. Target success rate ``DOWN / (UP + DOWN)``.

A move changes ``1 + Geometric`` floats (mean ``edits_mean``) drawn by the literal weights, each
by ``step * scale * y`` (``scale = max(|x|, FLOOR)``, ``y`` standard normal over ``sqrt(k)``),
plus, when the lineage has a path, a component along it (its sign mostly forward). An integer
drawn first is a structural move on its own (``round(step |n| z)``, at least 1).

A parent with a better *inspiration* of the same code but its constants (a descendant on the
parent's own lineage, or another elite) gets a line search with probability ``TOWARD``: the
constants move from the parent's through the inspiration's and beyond (``x + t (x_I - x)``,
``t`` log-uniform in ``[T_MIN, T_MAX]``, never 1), so `best`'s draws on the best's ancestors
extrapolate the climb. Everything is a function of the archive: a resume proposes the same.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any, Callable

from .perturb import Literal

UP, DOWN = 0.4, 0.1
"""Log-step change per success and per failure (target success rate 0.2)."""
PATIENCE = 40
STEP_MIN, STEP_MAX = 1e-4, 1.0
SPREAD = 0.5
"""Standard deviation of a child's log-step around the lineage's step."""
FLOOR = 0.05
"""Smallest scale of a float's move (a literal 0 still moves)."""
CUMULATION = 0.4
"""Weight of the newest move in the path (``c`` of ``(1 - c) p + sqrt(c (2 - c)) y``)."""
ALONG = 0.5
"""Share of a move's variance along the path when the lineage has one."""
FORWARD = 0.8
"""Probability that the path component points forward (its sign)."""
FADE = 4.0
"""Failed attempts on a parent that halve the path's share (a direction that stopped working)."""
"""Probability that the path component points forward (its sign)."""
RUN_STEP = False
RESET = 0.3
"""Share of moves drawn at the initial step on one literal, whatever the lineage's step (an
adapted step that shrank into a narrow basin still tries moves of the first scale)."""
TOWARD = 0.8
"""Probability that a parent with a better inspiration of the same code gets a line search."""
TOWARD_LABEL = "perturb-toward"
T_MIN, T_MAX = 1.25, 3.0
_NUMBER = re.compile(r"(?<![\w.])(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")


def lineage(es: dict[str, Any] | None, improved: bool, j: int, initial: float) -> tuple[float, dict[str, float]]:
    """The step and path of the ``j``-th perturbation attempt on a parent whose record is ``es``
    (None: not made by a perturbation) and which did or did not beat its own parent."""
    if not es:
        step, path = initial, {}
    elif improved:
        step, path = float(es["step"]) * math.exp(UP), dict(es.get("path") or {})
    else:
        step, path = float(es["step"]) * math.exp(-DOWN), dict(es.get("prior") or {})
    step *= math.exp(-DOWN * min(j, PATIENCE))
    return min(STEP_MAX, max(STEP_MIN, step)), path


def _scale(value: float) -> float:
    return max(abs(value), FLOOR)


def _float(value: float) -> float:
    return float(f"{value:.10g}")


def sample(found: list[Literal], weights: list[float], step: float, path: dict[str, float], *,
           edits_mean: float, rng: random.Random, along: float = 0.0,
           initial: float = 0.1) -> list[tuple[Literal, float | int]]:
    """A move of several floats (plus a component along the path), or of one integer."""
    if rng.random() < RESET:  # a move at the initial scale, one literal: the step's restart
        s, edits_mean, along = initial, 1.0, 0.0
    else:
        s = step * math.exp(SPREAD * rng.gauss(0.0, 1.0))
    keyed = sorted(range(len(found)), key=lambda i: math.log(rng.random() or 1e-300) / weights[i], reverse=True)
    first = found[keyed[0]]
    if isinstance(first.value, int):
        z = rng.gauss(0.0, 1.0)
        delta = int(round(s * max(abs(first.value), 1) * z)) or (1 if z >= 0 else -1)
        return [(first, first.value + delta)]
    floats = [i for i in keyed if isinstance(found[i].value, float)]
    count, go_on = 1, 1.0 - 1.0 / max(edits_mean, 1.0)
    while count < len(floats) and rng.random() < go_on:
        count += 1
    y = {found[i].label: rng.gauss(0.0, 1.0) / math.sqrt(count) for i in floats[:count]}
    norm = math.sqrt(sum(v * v for v in path.values()))
    if norm > 0 and along > 0:
        g = abs(rng.gauss(0.0, 1.0)) * (1 if rng.random() < FORWARD else -1)
        y = {k: v * math.sqrt(1 - along) for k, v in y.items()}
        for label, v in path.items():
            y[label] = y.get(label, 0.0) + math.sqrt(along) * g * v / norm
    by_label = {lit.label: lit for lit in found if isinstance(lit.value, float)}
    out: list[tuple[Literal, float | int]] = []
    for label, v in y.items():
        lit = by_label.get(label)
        if lit is None:
            continue
        new = _float(float(lit.value) + s * _scale(float(lit.value)) * v)
        if new != lit.value:
            out.append((lit, new))
    return out


def skeleton(source: str, lines: set[int]) -> str:
    """``source`` with the numbers of ``lines`` blanked (two versions differing only there match)."""
    rows = source.splitlines()
    return "\n".join(_NUMBER.sub("#", row) if n in lines else row for n, row in enumerate(rows, start=1))


def points(found: list[Literal], sources: dict[str, str], inspirations: list[Any],
           read: Callable[[str, str], list[Literal] | None]) -> list[tuple[float, dict[str, float | int], Any]]:
    """``(score, {label: value})`` of each inspiration whose code equals the parent's but for the
    values of ``found`` (``read(rel, source)``: the literals of another version of a file)."""
    lines: dict[str, set[int]] = {}
    for lit in found:
        lines.setdefault(lit.rel, set()).add(lit.site.line)
    labels = {lit.label for lit in found}
    out = []
    for insp in inspirations:
        score = getattr(insp.variant, "score", None)
        if score is None:
            continue
        target: dict[str, float | int] = {}
        for rel, source in sources.items():
            other = insp.files.get(rel)
            if other is None or skeleton(other, lines.get(rel, set())) != skeleton(source, lines.get(rel, set())):
                target = {}
                break
            for lit in (read(rel, other) or []) if rel in lines else []:
                target[lit.label] = lit.value
        if target and set(target) == labels:
            out.append((float(score), target, insp.variant))
    return out


def toward(found: list[Literal], targets: list[tuple[float, dict[str, float | int], Any]], parent_score: float,
           sign: float, rng: random.Random) -> tuple[list[tuple[Literal, float | int]], Any] | None:
    """A line search from the parent's constants through a better target's and beyond (with the
    target's variant), or None when no target is better (``sign``: -1 when the objective minimises)."""
    for score, target, variant in targets:
        if not sign * score > sign * parent_score + 1e-12:
            continue
        t = math.exp(rng.uniform(math.log(T_MIN), math.log(T_MAX)))
        out: list[tuple[Literal, float | int]] = []
        for lit in found:
            aim = target.get(lit.label, lit.value)
            if aim == lit.value:
                continue
            if isinstance(lit.value, int) or isinstance(aim, int):
                out.append((lit, aim))
            else:
                out.append((lit, _float(float(lit.value) + t * (float(aim) - float(lit.value)))))
        if out:
            return out, variant
    return None


def record(chosen: list[tuple[Literal, float | int]], step: float, path: dict[str, float],
           parent_score: float) -> dict[str, Any]:
    """The ``metadata["es"]`` of a child made by ``chosen`` (its move folded into the path)."""
    c = CUMULATION
    y = {}
    for lit, new in chosen:
        if isinstance(lit.value, float):
            y[lit.label] = (float(new) - float(lit.value)) / (max(step, STEP_MIN) * _scale(float(lit.value)))
    new_path = {k: (1 - c) * v for k, v in path.items()}
    for k, v in y.items():
        new_path[k] = new_path.get(k, 0.0) + math.sqrt(c * (2 - c)) * v
    norm = math.sqrt(sum(v * v for v in new_path.values()))
    if norm > 3.0:  # a huge jump (a line search's) does not swamp the direction
        new_path = {k: 3.0 * v / norm for k, v in new_path.items()}
    return {"base": parent_score, "step": round(step, 8),
            "path": {k: round(v, 6) for k, v in new_path.items() if abs(v) > 1e-9},
            "prior": {k: round(v, 6) for k, v in path.items()}}


def repeat(hood: Any, moves: list[Any]) -> Any:
    """The parent's own move once more, each literal by the same difference (Hooke and Jeeves's
    pattern move; a ratio would creep towards 0 by ever smaller gains), or None."""
    from . import perturb as numeric

    by_label = {lit.label: lit for lit in hood.literals}
    chosen: list[tuple[Literal, float | int]] = []
    for label, old, new in moves:
        lit = by_label.get(label)
        if lit is None or lit.value != new:
            return None
        value = new + (new - old) if isinstance(new, int) else _float(float(new) + float(new) - float(old))
        if value != new:
            chosen.append((lit, value))
    return numeric._apply(hood.parsed, hood.sources, chosen, 0.0) if chosen else None


def sign_of(benchmark: Any) -> float:
    """-1 when the run's objective minimises, else 1."""
    objective = getattr(benchmark, "objective", None)
    if callable(objective) and not hasattr(objective, "direction"):
        try:
            objective = objective()
        except Exception:  # noqa: BLE001 - a benchmark without a usable objective maximises
            objective = None
    return -1.0 if str(getattr(objective, "direction", "maximise")).startswith("min") else 1.0


def propose(hood: Any, parent: Any, j: int, stats: dict[str, Any], *, inspirations: list[Any], sign: float,
            initial_step: float, edits_mean: float, rng: random.Random,
            read: Callable[[str, str], list[Literal] | None]) -> tuple[Any, str, dict[str, Any]] | None:
    """The ``j``-th perturbation of ``parent``: ``((changes, chosen, step), kind, es record)``,
    kind ``perturb-repeat`` (its own move again), ``perturb-toward`` (a line search through a
    better inspiration) or ``perturb``; None when nothing compiles."""
    from . import perturb as numeric

    meta = parent.metadata or {}
    score = sign * float(parent.score or 0.0)
    es = meta.get("es") if isinstance(meta.get("es"), dict) else {}
    improved = bool(es) and score > sign * float(es.get("base", 0.0)) + 1e-12
    step, path = lineage(es, improved, j, initial_step)
    if RUN_STEP:  # the step from the whole run's success rate instead (perturb.step)
        step = numeric.step(stats, initial_step)
    made, kind = None, numeric.FAMILY
    if meta.get("moves") and j == 0 and (improved or not es):
        made, kind = repeat(hood, meta["moves"]), numeric.REPEAT
    if made is None and inspirations and rng.random() < TOWARD:
        targets = points(hood.literals, hood.sources, inspirations, read)
        line = toward(hood.literals, [(sign * s, t, v) for s, t, v in targets], score, 1.0, rng)
        if line:  # the child goes on with the target's state: it continues the target's climb
            made, kind = numeric._apply(hood.parsed, hood.sources, line[0], step), TOWARD_LABEL
            other = (line[1].metadata or {}).get("es")
            other = other if isinstance(other, dict) else {}
            if not RUN_STEP:
                step, path = lineage(other, bool(other) and sign * float(line[1].score or 0.0)
                                     > sign * float(other.get("base", 0.0)) + 1e-12, 0, initial_step)
    if made is None:
        weights = numeric.literal_weights(hood.literals, stats)
        for _ in range(4):  # a draw that rounds to no change is drawn again
            chosen = sample(hood.literals, weights, step, path, edits_mean=edits_mean, rng=rng,
                            along=ALONG * 0.5 ** (j / FADE), initial=initial_step)
            made, kind = (numeric._apply(hood.parsed, hood.sources, chosen, step) if chosen else None), numeric.FAMILY
            if made is not None:
                break
    if made is None:
        return None
    return made, kind, record(made[1], step, path, float(parent.score or 0.0))
