"""Idiom priors (:mod:`darwin_plugins.mutation.idioms`): step and scale literals moved by one,
and degenerate updates come later in a neighbourhood; comparisons keep their near-miss priors."""

from __future__ import annotations

import pytest

from darwin_plugins.mutation.generator import PRIORS, MutationOptions
from darwin_plugins.mutation.idioms import DEGENERATE, STRIDE, degenerate, overrides
from darwin_plugins.mutation.neighbourhood import build
from darwin_plugins.mutation.operators import parse_module

import libcst as cst

HEAP = '''def push(heap, item):
    heap.append(item)
    i = len(heap) - 1
    while i > 0:
        parent = i // 2
        if heap[parent] <= heap[i]:
            break
        heap[parent], heap[i] = heap[i], heap[parent]
        i = parent
    size = 3
    size -= 1
    return heap[0] == item, size % 25
'''


def _hood(source: str, seed: int = 1, idioms: bool = True):
    parsed = parse_module(source)
    return build({"m.py": parsed}, {"m.py": source}, seed=seed, family_weights=dict(PRIORS),
                 coverage=[{"m.py": list(range(1, 13))}], uncovered_weight=0.01, tried=set(),
                 keep=lambda rel, site: True, sharpness=4.0, idioms=idioms)


def _weights(hood) -> dict[tuple[int, str], float]:
    return {(e.site.line, e.description): e.weight for e in hood.edits}


def test_degenerate_operations_are_recognised() -> None:
    one, zero, two = cst.Integer("1"), cst.Integer("0"), cst.Integer("2")
    assert degenerate(cst.Multiply, one) and degenerate(cst.FloorDivide, one) and degenerate(cst.Power, one)
    assert degenerate(cst.Subtract, zero) and degenerate(cst.Add, zero) and degenerate(cst.Modulo, one)
    assert degenerate(cst.Multiply, zero)
    assert not degenerate(cst.Subtract, one) and not degenerate(cst.FloorDivide, two)
    assert not degenerate(cst.Add, cst.Name("x"))


def test_overrides_name_the_step_scale_and_degenerate_edits_only() -> None:
    parsed = parse_module(HEAP)
    found = {(parsed.sites[i].line, parsed.sites[i].alternatives[alt][0]): p
             for (i, alt), p in overrides(parsed.module, parsed.sites).items()}
    assert found[(5, "2 -> 3")] == STRIDE and found[(5, "2 -> 1")] == DEGENERATE  # i // 1 is i
    assert found[(11, "1 -> 2")] == STRIDE and found[(11, "1 -> 0")] == DEGENERATE  # size -= 0
    assert found[(11, "-= -> *=")] == DEGENERATE and found[(11, "-= -> //=")] == DEGENERATE
    assert found[(11, "-= -> %=")] == DEGENERATE  # size %= 1 is 0
    assert (12, "== -> >=") not in found and (4, "> -> ==") not in found  # comparisons: no override
    assert (12, "25 -> 26") not in found  # a modulus is a size: its fencepost stays a near miss
    assert (3, "1 -> 0") not in found and (4, "> -> >=") not in found and (11, "-= -> +=") not in found
    assert (12, "== -> !=") not in found


def test_idioms_scale_only_their_edits_and_put_the_operand_fix_first() -> None:
    plain, tuned = _weights(_hood(HEAP, idioms=False)), _weights(_hood(HEAP))
    assert tuned[(5, "2 -> 3")] == pytest.approx(plain[(5, "2 -> 3")] * STRIDE / 3.0)  # NEAR no more
    assert tuned[(11, "-= -> *=")] == pytest.approx(plain[(11, "-= -> *=")] * DEGENERATE)
    for key in ((3, "left - 1"), (5, "left - 1"), (11, "-= -> +="), (12, "== -> !="), (4, "> -> >=")):
        assert tuned[key] == pytest.approx(plain[key])  # the family's share is not handed to the others
    assert tuned[(5, "2 -> 3")] < tuned[(5, "left - 1")] < plain[(5, "2 -> 3")]


def test_the_option_is_on_by_default_and_reaches_the_order() -> None:
    assert MutationOptions().idioms is True
    firsts = []
    for seed in range(1, 9):
        hood = _hood(HEAP, seed=seed)
        rank = {(e.site.line, e.description): i for i, e in enumerate(hood.edits)}
        firsts.append(rank[(5, "left - 1")] < rank[(5, "2 -> 3")])
    assert sum(firsts) >= 6
