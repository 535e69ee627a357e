"""Evaluator of the packing example: ``evaluate(program_path) -> metrics`` (OpenEvolve's protocol).

Darwin calls it inside the sandbox. ``sum_radii`` (to maximise, raw) is the sum of the 26
radii that ``construct_packing()`` returns; ``valid`` is 1 for a packing of 26 finite circles
with non-negative radii, each inside the unit square and no two overlapping (both up to
``TOLERANCE``); otherwise every metric is 0 and the reason is an artifact.
"""

import importlib.util
import math

COUNT = 26
TOLERANCE = 1e-9


def _load(program_path):
    spec = importlib.util.spec_from_file_location("packing_program", program_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _invalid(reason):
    return {"sum_radii": 0.0, "smallest": 0.0, "valid": 0.0, "artifacts": {"feedback": reason}}


def check(centres, radii):
    """The reason the packing is invalid, or None when it is valid."""
    if len(centres) != COUNT or len(radii) != COUNT:
        return "construct_packing() returned %d centres and %d radii, not %d" % (len(centres), len(radii), COUNT)
    for (x, y), r in zip(centres, radii):
        if not all(math.isfinite(v) for v in (x, y, r)):
            return "a centre or radius is not finite"
        if r < 0:
            return "radius %.6g is negative" % r
        if x - r < -TOLERANCE or y - r < -TOLERANCE or x + r > 1 + TOLERANCE or y + r > 1 + TOLERANCE:
            return "circle at (%.4f, %.4f) of radius %.4f leaves the unit square" % (x, y, r)
    for i in range(COUNT):
        for j in range(i + 1, COUNT):
            gap = math.dist(centres[i], centres[j]) - radii[i] - radii[j]
            if gap < -TOLERANCE:
                return "circles %d and %d overlap by %.3g" % (i, j, -gap)
    return None


def evaluate(program_path):
    try:
        centres, radii = _load(program_path).construct_packing()
        centres = [(float(x), float(y)) for x, y in centres]
        radii = [float(r) for r in radii]
    except Exception as exc:  # a crashing construction is an invalid packing, not a broken evaluator
        return _invalid("construct_packing() failed: %s: %s" % (type(exc).__name__, exc))
    reason = check(centres, radii)
    if reason is not None:
        return _invalid(reason)
    total = sum(radii)
    return {"sum_radii": total, "smallest": min(radii), "valid": 1.0,
            "artifacts": {"feedback": "sum of radii %.4f, smallest %.4f" % (total, min(radii))}}
