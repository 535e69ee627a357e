"""The largest of ``m`` independent ``Beta(a, b)`` draws, drawn at once: its CDF is ``F(x) ** m``,
so it is ``F``'s quantile at ``U ** (1 / m)`` (inverse transform, one uniform). ``F`` is the
regularized incomplete beta function (Lentz's continued fraction, as in Numerical Recipes), its
quantile found by Newton's method kept inside a bisection bracket, to about 1e-15.

The upper tail ``1 - U ** (1 / m)`` is computed directly (``-expm1(log(U) / m)``) and the
quantile solved on whichever side of the median holds it, so a large ``m`` loses no precision.
"""

from __future__ import annotations

import math

_TINY, _EPS = 1e-300, 1e-16


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
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _fraction(a, b, x) / a
    return 1.0 - front * _fraction(b, a, 1.0 - x) / b


def _solve(a: float, b: float, p: float) -> float:
    """``x`` with ``I_x(a, b) = p``, for ``p <= 1/2`` (the lower side, computed without
    cancellation)."""
    norm = _log_norm(a, b)
    lo, hi = 0.0, 1.0
    x = min(max(a / (a + b), 1e-300), 1.0 - 1e-16)
    for _ in range(200):
        f = lower(a, b, x, norm) - p
        if f == 0.0:
            return x
        if f > 0.0:
            hi = x
        else:
            lo = x
        log_density = norm + (a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x)
        new = x - f / math.exp(log_density) if -700.0 < log_density < 700.0 else -1.0
        if not lo < new < hi:  # Newton left the bracket: bisect (geometrically near 0)
            new = math.sqrt(lo * hi) if lo > 0.0 and hi < 1e-3 else (lo + hi) / 2.0
        if abs(new - x) <= 4e-16 * max(new, 1e-300) or hi - lo <= 4e-16 * max(hi, 1e-300):
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
