"""Pack 26 circles into the unit square, as large as they can be: maximise the sum of radii.

``construct_packing()`` returns ``(centres, radii)``: 26 ``(x, y)`` pairs and 26 radii. The
evaluator checks that every circle lies inside ``[0, 1] x [0, 1]`` and that no two overlap,
and scores the sum of the radii (raw; an invalid packing scores 0). Only the code between the
EVOLVE-BLOCK markers is meant to change.
"""

import math

COUNT = 26

# EVOLVE-BLOCK-START
MIDDLE = 1
"""Circles around the middle of the square (on a small ring when more than one)."""
MIDDLE_RING = 0.05
INNER = 8
"""Circles on the inner ring; the outer ring takes the rest."""
INNER_RING = 0.12
"""Distance of the inner ring's centres from the middle."""
INNER_TURN = 0.2
"""Angle of the inner ring's first circle (radians)."""
OUTER_RING = 0.3
OUTER_TURN = 0.4
MARGIN = 0.02
"""No centre comes closer than this to a side."""


def ring(count, distance, turn):
    """``count`` centres evenly spaced on a circle around the middle, kept inside the margins."""
    placed = []
    for k in range(count):
        angle = turn + 2 * math.pi * k / max(count, 1)
        x = 0.5 + distance * math.cos(angle)
        y = 0.5 + distance * math.sin(angle)
        placed.append((min(max(x, MARGIN), 1 - MARGIN), min(max(y, MARGIN), 1 - MARGIN)))
    return placed


def fit_radii(centres):
    """Each radius the largest that fits between the sides and the other circles: sweeps of a
    greedy fit (each circle takes the room the others leave it) until nothing changes."""
    walls = [min(x, y, 1 - x, 1 - y) for x, y in centres]
    radii = list(walls)
    for _ in range(len(centres)):
        before = list(radii)
        for i, (x, y) in enumerate(centres):
            room = walls[i]
            for j, (u, v) in enumerate(centres):
                if j != i:
                    room = min(room, math.hypot(x - u, y - v) - radii[j])
            radii[i] = max(room, 0.0)
        if max(abs(a - b) for a, b in zip(radii, before)) < 1e-12:
            break
    return radii


def construct_packing():
    middle = max(0, min(MIDDLE, COUNT))
    inner = max(0, min(INNER, COUNT - middle))
    centres = ring(middle, MIDDLE_RING if middle > 1 else 0.0, 0.0)
    centres += ring(inner, INNER_RING, INNER_TURN)
    centres += ring(COUNT - middle - inner, OUTER_RING, OUTER_TURN)
    return centres, fit_radii(centres)
# EVOLVE-BLOCK-END
