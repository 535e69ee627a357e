"""Evaluator of the spread example: ``evaluate(program_path) -> metrics`` (OpenEvolve's protocol).

Darwin calls it inside the sandbox. ``spread`` (to maximise, no fixed bound in the protocol) is
the sum over the 24 points of the distance to the nearest other point; ``min_distance`` is the
closest pair's distance and ``valid`` is 1 for a configuration of 24 finite points inside the
unit square (else every metric is 0 and the reason is an artifact).
"""

import importlib.util
import math

COUNT = 24
TOLERANCE = 1e-9


def _load(program_path):
    spec = importlib.util.spec_from_file_location("spread_program", program_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _invalid(reason):
    return {"spread": 0.0, "min_distance": 0.0, "valid": 0.0, "artifacts": {"feedback": reason}}


def evaluate(program_path):
    try:
        points = [(float(x), float(y)) for x, y in _load(program_path).construct()]
    except Exception as exc:  # a crashing construction is an invalid configuration, not a broken evaluator
        return _invalid("construct() failed: %s: %s" % (type(exc).__name__, exc))
    if len(points) != COUNT:
        return _invalid("construct() returned %d points, not %d" % (len(points), COUNT))
    for x, y in points:
        if not (math.isfinite(x) and math.isfinite(y)):
            return _invalid("a coordinate is not finite")
        if not (-TOLERANCE <= x <= 1 + TOLERANCE and -TOLERANCE <= y <= 1 + TOLERANCE):
            return _invalid("point (%.4f, %.4f) lies outside the unit square" % (x, y))
    nearest = [min(math.dist(p, q) for j, q in enumerate(points) if j != i) for i, p in enumerate(points)]
    spread = sum(nearest)
    return {"spread": spread, "min_distance": min(nearest), "valid": 1.0,
            "artifacts": {"feedback": "spread %.4f, closest pair %.4f" % (spread, min(nearest))}}
