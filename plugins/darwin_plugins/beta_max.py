"""The largest of ``m`` independent ``Beta(a, b)`` draws, drawn at once: its CDF is ``F(x) ** m``,
so it is ``F``'s quantile at ``U ** (1 / m)`` (inverse transform, one uniform). ``F`` is the
regularized incomplete beta function (Lentz's continued fraction, as in Numerical Recipes), its
quantile found by Newton's method kept inside a bisection bracket, to about 1e-14 (relative).

The upper tail ``1 - U ** (1 / m)`` is computed directly (``-expm1(log(U) / m)``) and the
quantile solved on whichever side of the median holds it, so a large ``m`` loses no precision.
"""

from __future__ import annotations

import math
from statistics import NormalDist

_TINY, _EPS = 1e-300, 1e-16
_STANDARD = NormalDist()


def _fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of ``I_x(a, b)`` (converges fast for ``x < (a + 1) / (a + b + 2)``)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def _log_norm(a: float, b: float) -> float:
    return math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)


def lower(a: float, b: float, x: float, norm: float | None = None) -> float:
    """``I_x(a, b)``, the CDF of ``Beta(a, b)`` at ``x``."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    norm = _log_norm(a, b) if norm is None else norm
    front = math.exp(norm + a * math.log(x) + b * math.log1p(-x))
    if front == 0.0:  # far in a tail (the fraction is O(1)): no need to evaluate it
        return 0.0 if x < a / (a + b) else 1.0
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _fraction(a, b, x) / a
    return 1.0 - front * _fraction(b, a, 1.0 - x) / b


def _solve(a: float, b: float, p: float) -> float:
    """``x`` with ``I_x(a, b) = p``, for ``p <= 1/2`` (the lower side, computed without
    cancellation): Newton's method on ``log I_x`` (nearly linear in a tail), from the small-``x``
    asymptote ``I_x ~ x^a / (a B(a, b))`` or a normal approximation, kept in a bisection bracket."""
    norm, target = _log_norm(a, b), math.log(p)
    mean = a / (a + b)
    x = math.exp((target + math.log(a) - norm) / a)  # the asymptote near 0
    if not 0.0 < x < mean:
        sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0)))
        x = mean - _STANDARD.inv_cdf(1.0 - p) * sd
        if not 0.0 < x < 1.0:
            x = mean / 2
    lo, hi = 0.0, 1.0
    for _ in range(200):
        value = lower(a, b, x, norm)
        if value <= 0.0:
            lo, new = x, (x + hi) / 2.0 if hi < 1.0 else (x + 1.0) / 2.0
        else:
            f = math.log(value) - target
            if f == 0.0:
                return x
            if f > 0.0:
                hi = x
            else:
                lo = x
            log_slope = norm + (a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x) - math.log(value)
            new = x - f / math.exp(log_slope) if -700.0 < log_slope < 700.0 else -1.0
            if lo <= new <= hi and abs(new - x) <= 1e-14 * x:
                return new
            if not lo < new < hi:  # Newton left the bracket: bisect (geometrically near 0)
                new = math.sqrt(lo * hi) if lo > 0.0 and hi < 1e-3 else (lo + hi) / 2.0
        if abs(new - x) <= 1e-14 * new or hi - lo <= 1e-14 * hi:
            return new
        x = new
    return x


def quantile_upper(a: float, b: float, tail: float) -> float:
    """The ``x`` whose upper tail ``1 - I_x(a, b)`` is ``tail``."""
    if tail <= 0.0:
        return 1.0
    if tail >= 1.0:
        return 0.0
    if tail <= 0.5:  # 1 - I_x(a, b) = I_{1-x}(b, a)
        return 1.0 - _solve(b, a, tail)
    return _solve(a, b, 1.0 - tail)


def max_of(a: float, b: float, m: int, uniform: float) -> float:
    """The largest of ``m`` ``Beta(a, b)`` draws, from one ``uniform`` in [0, 1)."""
    tail = -math.expm1(math.log1p(-uniform) / m)  # 1 - V ** (1/m), V = 1 - uniform in (0, 1]
    return quantile_upper(a, b, tail)
