"""Thompson sampling's parts: candidates grouped by Beta shape, a group's maximum, single draws.

The candidates sharing a shape ``(a, b)`` are exchangeable: the largest of their draws is one
draw of the group's maximum (the largest of ``m`` i.i.d. draws: directly when ``m`` is small,
else by inverse transform through the Beta quantile, :mod:`.beta_max`), and the candidate that
drew it a uniform member (by its rank in id order). :mod:`.thompson_pruned` draws with them.
Everything is keyed by shapes and ids, never by arrival order, so a draw depends only on the
candidates and the random stream: a resumed run draws what the uninterrupted one would.

Single Beta draws reproduce :meth:`random.Random.betavariate`'s arithmetic and random numbers
exactly, with each shape's constants computed once (about 2x faster than calling it).
"""

from __future__ import annotations

import bisect
import math
import random
from typing import Callable, Iterable

from .beta_max import max_of

_LOG4, _SG_MAGIC, _E = math.log(4.0), 1.0 + math.log(4.5), math.e  # as in the random module
Constants = tuple[float, ...]
Shape = tuple[float, float]
"""A candidate's Beta parameters ``(a, b)``."""

DIRECT = 24
"""Groups up to this size draw their members one by one; larger ones by the quantile (whose
cost, 6-130 us in pure Python, is about that of 5-60 single draws)."""


def _constants(alpha: float) -> Constants:
    """``gammavariate(alpha, 1)``'s constants: (1, alpha, ainv, bbb, ccc) for Cheng's method
    (alpha > 1), (0,) for the exponential (alpha = 1), (-1, alpha, b, 1 / alpha, alpha - 1) for
    Kennedy & Gentle's GS (alpha < 1)."""
    if alpha > 1.0:
        ainv = math.sqrt(2.0 * alpha - 1.0)
        return (1.0, alpha, ainv, alpha - _LOG4, alpha + ainv)
    if alpha == 1.0:
        return (0.0,)
    return (-1.0, alpha, (_E + alpha) / _E, 1.0 / alpha, alpha - 1.0)


def beta_sampler(rng: random.Random) -> Callable[[float, float], float]:
    """``(a, b) -> rng.betavariate(a, b)``, the same floats from the same random numbers."""
    if type(rng).betavariate is not random.Random.betavariate or \
            type(rng).gammavariate is not random.Random.gammavariate:  # a custom sampler: its own
        return rng.betavariate
    uniform, log, exp = rng.random, math.log, math.exp
    cache: dict[float, Constants] = {}

    def gamma(c: Constants) -> float:
        if c[0] > 0.0:
            _, alpha, ainv, bbb, ccc = c
            while True:
                u1 = uniform()
                if not 1e-7 < u1 < 0.9999999:
                    continue
                u2 = 1.0 - uniform()
                v = log(u1 / (1.0 - u1)) / ainv
                x = alpha * exp(v)
                z = u1 * u1 * u2
                r = bbb + ccc * v - x
                if r + _SG_MAGIC - 4.5 * z >= 0.0 or r >= log(z):
                    return x
        if c[0] == 0.0:
            return -log(1.0 - uniform())
        _, alpha, b, inverse, less = c
        while True:
            u = uniform()
            p = b * u
            x = p ** inverse if p <= 1.0 else -log((b - p) / alpha)
            u1 = uniform()
            if p > 1.0:
                if u1 <= x ** less:
                    break
            elif u1 <= exp(-x):
                break
        return x

    def beta(a: float, b: float) -> float:
        ca = cache.get(a) or cache.setdefault(a, _constants(a))
        cb = cache.get(b) or cache.setdefault(b, _constants(b))
        y = gamma(ca)
        return y / (y + gamma(cb)) if y else 0.0

    return beta


class Groups:
    """Candidates by shape: ``{shape: ids in ascending order}``, updated one candidate at a time;
    ``changed`` collects the shapes whose members moved (for :class:`.thompson_pruned.Plan`)."""

    def __init__(self, items: Iterable[tuple[str, Shape]] = ()) -> None:
        self.members: dict[Shape, list[str]] = {}
        self.shape: dict[str, Shape] = {}
        self.changed: set[Shape] = set()
        for vid, shape in items:
            self.put(vid, shape)

    def __len__(self) -> int:
        return len(self.shape)

    def put(self, vid: str, shape: Shape | None) -> None:
        """``vid`` now has ``shape`` (``None``: no longer a candidate)."""
        old = self.shape.get(vid)
        if old == shape:
            return
        if old is not None:
            group = self.members[old]
            del group[bisect.bisect_left(group, vid)]
            if not group:
                del self.members[old]
            del self.shape[vid]
            self.changed.add(old)
        if shape is not None:
            bisect.insort(self.members.setdefault(shape, []), vid)
            self.shape[vid] = shape
            self.changed.add(shape)


def group_max(rng: random.Random, beta: Callable[[float, float], float], a: float, b: float, m: int) -> float:
    """The largest of ``m`` ``Beta(a, b)`` draws: one by one up to :data:`DIRECT`, else at once."""
    if m == 1:
        return beta(a, b)
    if m <= DIRECT:
        return max(beta(a, b) for _ in range(m))
    return max_of(a, b, m, rng.random())
