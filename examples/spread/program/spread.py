"""Spread 24 points over the unit square: each point as far from its nearest neighbour as can be.

``construct()`` returns 24 ``(x, y)`` pairs inside ``[0, 1] x [0, 1]``. The evaluator scores the
sum of the nearest-neighbour distances (to maximise); a point outside the square, a wrong
count or a non-number makes the configuration invalid (score 0). Only the code between the
EVOLVE-BLOCK markers is meant to change.
"""

import math

COUNT = 24

# EVOLVE-BLOCK-START
TURN = 2.0
"""Angle between consecutive points of the spiral (radians)."""
GROWTH = 0.7
"""Exponent of the radius along the spiral (0.5 gives equal areas)."""
REACH = 0.3
"""Radius of the outermost point."""
STRETCH_X = 1.0
STRETCH_Y = 1.0
CENTRE_X = 0.5
CENTRE_Y = 0.5


def construct():
    points = []
    for i in range(COUNT):
        r = REACH * ((i + 0.5) / COUNT) ** GROWTH
        a = TURN * i
        x = CENTRE_X + STRETCH_X * r * math.cos(a)
        y = CENTRE_Y + STRETCH_Y * r * math.sin(a)
        points.append((min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)))
    return points
# EVOLVE-BLOCK-END
