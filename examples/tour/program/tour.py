"""A travelling-salesman heuristic: visit every city once and return, as short as possible.

Only the code between the EVOLVE-BLOCK markers is meant to change (LLM generators are told
so); `solve(points)` must return a permutation of ``range(len(points))``.
"""

from math import dist

# EVOLVE-BLOCK-START
PASSES = 0
"""Rounds of 2-opt improvement after the greedy tour."""


def solve(points):
    n = len(points)
    order = [0]
    left = set(range(1, n))
    while left:
        last = points[order[-1]]
        nearest = min(left, key=lambda j: dist(last, points[j]))
        order.append(nearest)
        left.remove(nearest)
    for _ in range(PASSES):
        improved = False
        for i in range(1, n - 1):
            for j in range(i + 1, n):
                a, b = points[order[i - 1]], points[order[i]]
                c, d = points[order[j]], points[order[(j + 1) % n]]
                if dist(a, c) + dist(b, d) < dist(a, b) + dist(c, d) - 1e-12:
                    order[i:j + 1] = reversed(order[i:j + 1])
                    improved = True
        if not improved:
            break
    return order
# EVOLVE-BLOCK-END
