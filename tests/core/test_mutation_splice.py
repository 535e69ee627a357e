"""Expression edits spliced into the module's tokens give the code a libcst transform gives."""

from __future__ import annotations

import random

from darwin_plugins.mutation.operators import collector
from darwin_plugins.mutation.operators.collector import apply_edits, parse_module

SOURCE = '''"""Doc."""
import math


def f(xs, k=2):  # odd  spacing
    total = (xs[0] +
             xs[-1])   # a comment inside
    for i, x in enumerate(xs[1:len(xs) - 1]):
        if x > xs[i] and not (x < k or x == -k):
            total += x * i if i else math.floor(x / k)
    return [total, {"k": k}], f"{total!r:>4}"


class A:
    def g(self, n):
        while n > 0 and self.ok(n - 1):
            n -= 1
        return lambda y: y + n
'''


def _transformed(parsed: collector.ParsedModule, edits: list) -> str:
    chunks, splicer = parsed.chunks, parsed.splicer
    parsed.chunks, parsed.splicer = None, None  # the whole-module transform
    try:
        return apply_edits(parsed, edits)
    finally:
        parsed.chunks, parsed.splicer = chunks, splicer


def test_every_single_edit_and_random_pairs_equal_the_transform() -> None:
    parsed = parse_module(SOURCE)
    singles = [(s, a) for s in parsed.sites for a in range(len(s.alternatives))]
    assert len(singles) > 150
    for edit in singles:
        assert apply_edits(parsed, [edit]) == _transformed(parsed, [edit]), edit[0].label
    assert parsed.splicer is not None and parsed.splicer.code([(e[0].node, e[0].alternatives[e[1]][1])
                                                                for e in singles[:1]]) is not None
    rng = random.Random(7)
    pairs = 0
    while pairs < 300:
        a, b = rng.sample(singles, 2)
        if a[0].node is b[0].node:
            continue
        pairs += 1
        assert apply_edits(parsed, [a, b]) == _transformed(parsed, [a, b]), (a[0].label, b[0].label)
