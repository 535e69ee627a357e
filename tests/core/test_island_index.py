"""``islands`` with its incremental state draws what the scan draws, seed for seed: every rule,
island counts, migration periods, both directions of the objective, retries of old generations."""

from __future__ import annotations

import random

import pytest

from darwin_core.archive import Archive
from darwin_hookspecs import Objective, Variant

from .test_selection_index import ScanOnly, grow, strategy

RULES = ["best", "score_child_prop", "score_child_prop_mad", "score_prop", "random", "latest", "cmp"]


@pytest.mark.parametrize("direction", ["maximise", "minimise"])
@pytest.mark.parametrize("seed", range(8))
def test_islands_index_draws_what_the_scan_draws(seed: int, direction: str) -> None:
    rng = random.Random(seed)
    options = {"islands": rng.randint(1, 5), "migrate_every": rng.randint(1, 4),
               "rules": rng.sample(RULES, rng.randint(1, 4))}
    archive = Archive(objective=Objective(direction=direction))
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=0.3))
    fast, scan = strategy("islands", **options), strategy("islands", **options)
    resumed = None
    for generation in range(1, 36):
        grow(archive, rng, generation, rng.randint(1, 6), zero_scores=seed == 7)
        if rng.random() < 0.1 and generation > 3:  # a retry: a variant of an old generation, late
            old = rng.randrange(1, generation)
            archive.add(Variant(id=f"v{old:04d}a{90 + generation:03d}", parent_id="v0000root", generation=old,
                                status="accepted", score=rng.random()))
        n = rng.randint(1, 5)
        draw_seed = rng.randrange(2**32)
        want = scan.select(ScanOnly(archive), n, random.Random(draw_seed))
        assert fast.select(archive, n, random.Random(draw_seed)) == want, f"generation {generation}"
        assert fast._state is not None and scan._state is None  # indexed, and scanned
        if generation == 20:  # a resume: a new strategy rebuilds its state from the archive once
            resumed = strategy("islands", **options)
        if resumed is not None:
            assert resumed.select(archive, n, random.Random(draw_seed)) == want


def test_islands_follow_a_replaced_variant() -> None:
    archive = Archive()
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=0.3))
    for g in range(1, 8):
        for i in range(3):
            archive.add(Variant(id=f"v{g:04d}a{i:03d}", parent_id="v0000root", generation=g,
                                status="accepted", score=(g * 7 + i) % 10 / 10))
    options = {"islands": 3, "migrate_every": 2, "rules": ["best", "random"]}
    fast, scan = strategy("islands", **options), strategy("islands", **options)
    assert fast.select(archive, 3, random.Random(1)) == scan.select(ScanOnly(archive), 3, random.Random(1))
    archive.replace(Variant(id="v0006a001", parent_id="v0000root", generation=6, status="rejected", score=0.9))
    for seed in range(5):
        picks = fast.select(archive, 3, random.Random(seed))
        assert picks == scan.select(ScanOnly(archive), 3, random.Random(seed)) and "v0006a001" not in picks


INDEXED_RULES = {"cmp": ("prior", [0.5, 1.0, 2.0], "clades", 30),
                 "score_child_prop_mad": ("steepness", [0.5, 1.0, 4.0], "index", 36)}
"""Rule: (its option, values drawn for it, the incremental structure's attribute, generations)."""


@pytest.mark.parametrize("rule", sorted(INDEXED_RULES))
@pytest.mark.parametrize("direction", ["maximise", "minimise"])
@pytest.mark.parametrize("seed", range(6))
def test_indexed_rule_draws_what_the_scan_draws(rule: str, seed: int, direction: str) -> None:
    option, values, structure, generations = INDEXED_RULES[rule]
    rng = random.Random(seed)
    archive = Archive(objective=Objective(direction=direction))
    archive.add(Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=0.3))
    value = rng.choice(values)
    fast, scan = strategy(rule, **{option: value}), strategy(rule, **{option: value})
    for generation in range(1, generations):
        grow(archive, rng, generation, rng.randint(1, 6), zero_scores=seed == 5)
        n = rng.randint(1, 5)
        draw_seed = rng.randrange(2**32)
        want = scan.select(ScanOnly(archive), n, random.Random(draw_seed))
        assert fast.select(archive, n, random.Random(draw_seed)) == want, f"generation {generation}"
        # the fast one indexed every variant, the other really scanned
        assert getattr(fast, structure).seen == len(archive) and getattr(scan, structure).seen == 0
