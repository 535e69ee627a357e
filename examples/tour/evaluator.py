"""Evaluator of the tour example (OpenEvolve's protocol): ``evaluate(program_path) -> metrics``.

Darwin calls it inside the sandbox. ``length`` (to minimise, no known bound) is the length of
the closed tour over 60 fixed random cities; ``evaluate_holdout`` measures the same program on
cities it never sees during the search.
"""

import importlib.util
import math
import random


def _cities(seed, n=60):
    rng = random.Random(seed)
    return [(rng.random(), rng.random()) for _ in range(n)]


def _load(program_path):
    spec = importlib.util.spec_from_file_location("tour_program", program_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _measure(program_path, seed):
    points = _cities(seed)
    order = list(_load(program_path).solve(list(points)))
    if sorted(order) != list(range(len(points))):
        raise ValueError("solve() did not return a permutation of the cities")
    length = sum(math.dist(points[order[k]], points[order[(k + 1) % len(order)]]) for k in range(len(order)))
    return {"length": length, "combined_score": -length,
            "artifacts": {"feedback": "tour length %.4f over %d cities" % (length, len(points))}}


def evaluate(program_path):
    return _measure(program_path, seed=7)


def evaluate_holdout(program_path):
    return _measure(program_path, seed=11)
