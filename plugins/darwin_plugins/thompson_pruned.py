"""Thompson sampling over groups of equal Beta shape, most groups never drawn: their draws are
shown to lie below the best so far by a dominating Beta, exactly (a coupling, not a bound).

The groups are put in blocks of similar ``n = a + b`` (a factor :data:`RATIO` apart), each block
in descending order of the mean (:class:`Plan`, kept as the groups change); for the groups from position ``k`` on, ``Beta(A_k, B_k)`` with
``A_k`` the largest ``a`` and ``B_k`` the smallest ``b`` among them dominates every one of them
(Beta grows stochastically with ``a`` and falls with ``b``). Couple each candidate's draw to one
uniform, ``theta_i = Q_i(U_i) <= Q_D(U_i)``: every candidate whose ``U_i <= D(M)`` lies below the
best draw ``M`` so far, and the number above is ``Binomial(N_k, 1 - D(M))``. A draw:

1. draws the head group of every block exactly (its maximum, :func:`.thompson.group_max`);
2. for each block in turn, while groups remain: if none of the rest is likely above ``M``
   (``D(M) ** N_k >=`` :data:`RESOLVE`), draws how many are (0 with that probability, else the binomial
   conditioned on >= 1), which ones (uniform among the rest) and their draws (``Q_i`` at a uniform
   point above ``D(M)``), and closes the block; else draws the next group exactly;
3. takes the largest draw: a member of the winning group uniformly, or the winning candidate.

Every decision depends only on draws already made, and each part is drawn from its exact
conditional law, so the pick has the law of one independent draw per candidate. The cost is
about one CDF evaluation per block plus the groups drawn, O(log N) in practice.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from typing import Sequence

from .beta_max import lower, quantile_upper
from .thompson import Groups, Shape, beta_sampler, group_max

RATIO = 1.25
"""Blocks hold shapes whose ``a + b`` are within this factor (a tighter dominating Beta)."""
RESOLVE = 0.5
"""The rest of a block is resolved through the coupling once none of it is above the best with
at least this probability (then fewer than 0.7 of them are drawn on average; 0 resolves every
block at once, as the tests do to exercise the coupling)."""

Block = tuple[list[Shape], list[float], list[float], list[int]]
"""Shapes by descending mean (then ascending), and from each position on: the largest ``a``, the
smallest ``b`` and the number of candidates (``a`` and ``b`` of the dominating Beta)."""


def _bucket(shape: Shape) -> int:
    return int(math.floor(math.log(shape[0] + shape[1]) / math.log(RATIO)))


class Plan:
    """The blocks of a :class:`.thompson.Groups`, kept as it changes: a block is rebuilt (O(its
    size)) only when one of its shapes gained or lost members."""

    def __init__(self) -> None:
        self.keys: dict[int, list[tuple[float, Shape]]] = {}  # bucket -> (-mean, shape), sorted
        self.blocks: dict[int, Block] = {}
        self.ratio = RATIO

    def update(self, groups: Groups) -> list[Block]:
        """The blocks in ascending ``a + b``, after the shapes ``groups.changed`` (then cleared)."""
        if self.ratio != RATIO:  # a test changed the factor: start again
            self.__init__()  # type: ignore[misc]
            groups.changed = set(groups.members)
        dirty = set()
        for shape in groups.changed:
            bucket = _bucket(shape)
            keys = self.keys.setdefault(bucket, [])
            key = (-shape[0] / (shape[0] + shape[1]), shape)
            at = bisect.bisect_left(keys, key)
            held = at < len(keys) and keys[at] == key
            if shape in groups.members and not held:
                keys.insert(at, key)
            elif held and shape not in groups.members:
                del keys[at]
            dirty.add(bucket)
        groups.changed = set()
        for bucket in dirty:
            keys = self.keys[bucket]
            if not keys:
                del self.keys[bucket]
                self.blocks.pop(bucket, None)
                continue
            size = len(keys)
            top, bottom, count = [0.0] * (size + 1), [math.inf] * (size + 1), [0] * (size + 1)
            for k in range(size - 1, -1, -1):
                a, b = shape = keys[k][1]
                top[k], bottom[k] = max(a, top[k + 1]), min(b, bottom[k + 1])
                count[k] = count[k + 1] + len(groups.members[shape])
            self.blocks[bucket] = ([key[1] for key in keys], top, bottom, count)
        return [self.blocks[bucket] for bucket in sorted(self.blocks)]


def blocks(groups: Groups) -> list[Block]:
    """The blocks of ``groups`` built at once (what a :class:`Plan` holds)."""
    groups.changed = set(groups.members)
    return Plan().update(groups)


def _at_least_one(rng: random.Random, n: int, p: float, none: float) -> int:
    """``Binomial(n, p)`` conditioned on >= 1 (``none`` = ``(1 - p) ** n``), by inverse CDF (the
    case a draw meets, ``none >= 1/2``: the terms are far from underflow)."""
    if none < 0.5:  # (1 - p) ** (n - 1) may underflow: n Bernoulli trials until one succeeds
        while True:
            if k := sum(rng.random() < p for _ in range(n)):
                return k
    u = rng.random() * (1.0 - none)
    k, term = 1, n * p * math.exp((n - 1) * math.log1p(-p))
    total = term
    while total <= u and k < n:
        term *= (n - k) / (k + 1) * p / (1.0 - p)
        k += 1
        total += term
    return k


def pruned_thompson(rng: random.Random, groups: Groups, plan: list[Block], n: int) -> list[str]:
    """``n`` Thompson picks over the members of ``groups`` (ids in ascending order per shape)
    with ``plan`` its blocks."""
    beta = beta_sampler(rng)
    members = groups.members
    picks = []
    for _ in range(n):
        best_theta, best_shape, best_id = -1.0, None, ""
        for order, *_ in plan:  # 1. every block's head group
            theta = group_max(rng, beta, *order[0], len(members[order[0]]))
            if theta > best_theta:
                best_theta, best_shape = theta, order[0]
        for order, top, bottom, count in plan:  # 2. the rest of each block
            k = 1
            while k < len(order):
                above = lower(bottom[k], top[k], 1.0 - best_theta)  # P(D > M) = I_{1-M}(B, A)
                total = count[k]
                none = math.exp(total * math.log1p(-above)) if above < 1.0 else 0.0
                if none >= RESOLVE:
                    if rng.random() >= none:  # some of the rest above M: which, and their draws
                        chosen = rng.sample(range(total), _at_least_one(rng, total, above, none))
                        sizes = list(itertools.accumulate(len(members[shape]) for shape in order[k:]))
                        for index in sorted(chosen):
                            at = bisect.bisect_right(sizes, index)
                            shape = order[k + at]
                            theta = quantile_upper(*shape, above * (1.0 - rng.random()))
                            if theta > best_theta:
                                rank = index - (sizes[at - 1] if at else 0)
                                best_theta, best_shape, best_id = theta, None, members[shape][rank]
                    break
                shape = order[k]
                theta = group_max(rng, beta, *shape, len(members[shape]))
                if theta > best_theta:
                    best_theta, best_shape = theta, shape
                k += 1
        if best_shape is not None:  # 3. a uniform member of the winning group
            group = members[best_shape]
            best_id = group[min(int(rng.random() * len(group)), len(group) - 1)]
        picks.append(best_id)
    return picks
