"""Missing sub-expressions over sequence lengths: ``len(s)`` to ``len(s) - i`` (``extend``), a
negated slice bound to ``len(s) - k`` (``negative_bound``)."""

from __future__ import annotations

from pathlib import Path

from darwin_plugins.mutation.generator import PRIORS
from darwin_plugins.mutation.operators import FAMILIES

from mutation_support import texts

MERGE = ("def merge(left, right):\n    out, count = [], 0\n    i = j = 0\n"
         "    while i < len(left) and j < len(right):\n        if left[i] <= right[j]:\n"
         "            out.append(left[i])\n            i += 1\n        else:\n"
         "            out.append(right[j])\n            j += 1\n            count += len(left)\n"
         "    return out, count\n")


def test_extend_subtracts_an_integer_name_that_indexes_the_sequence(tmp_path: Path) -> None:
    found = texts(tmp_path, MERGE, "extend")
    assert found == [MERGE.replace("count += len(left)", "count += (len(left) - i)")]
    # the loop test reads ``i`` and ``j`` already: ``i < len(left) - i`` is not offered
    assert not any("len(right) - j" in t for t in found)


def test_extend_needs_an_integer_index_bound_before_the_call(tmp_path: Path) -> None:
    # ``mid`` is bound by the statement itself (circular), and after ``len(xs) <= 1``
    halves = ("def halves(xs):\n    if len(xs) <= 1:\n        return xs\n    mid = len(xs) // 2\n"
              "    return xs[:mid], xs[mid:]\n")
    assert texts(tmp_path, halves, "extend") == []
    # a loop variable bound after the call (a later ``for``) is not in scope yet
    later = "def f(xs):\n    n = len(xs)\n    for i in range(n):\n        xs[i] = 0\n    return n\n"
    assert texts(tmp_path, later, "extend") == []
    # ``key`` indexes ``d`` but is not an integer; ``k`` is an integer that indexes another sequence
    other = ("def f(d, key, ys):\n    k = 0\n    d[key] = ys[k]\n    total = 0\n"
             "    total += len(d)\n    return total\n")
    assert texts(tmp_path, other, "extend") == []
    # the same with ``k`` indexing ``d``: offered
    assert texts(tmp_path, other.replace("ys[k]", "d[k]"), "extend") == [
        other.replace("ys[k]", "d[k]").replace("total += len(d)", "total += (len(d) - k)")]


def test_negative_bound_rewrites_a_negated_name_as_length_minus_it(tmp_path: Path) -> None:
    trim = "def trim(values, k):\n    ordered = sorted(values)\n    return ordered[k:-k]\n"
    assert texts(tmp_path, trim, "negative_bound") == [trim.replace("[k:-k]", "[k:len(ordered) - k]")]
    tail = "def tail(self, k):\n    return self.items[-k:]\n"
    assert texts(tmp_path, tail, "negative_bound") == [tail.replace("[-k:]", "[len(self.items) - k:]")]


def test_negative_bound_leaves_literals_indexes_and_calls(tmp_path: Path) -> None:
    # ``-1`` is never zero; ``xs[-k]`` is an index, not a slice; ``f(xs)`` would be called twice
    for source in ("def f(xs):\n    return xs[:-1]\n", "def f(xs, k):\n    return xs[-k]\n",
                   "def f(g, xs, k):\n    return g(xs)[:-k]\n", "xs = [1, 2]\nk = 1\nys = xs[:-k]\n"):
        assert texts(tmp_path, source, "negative_bound") == [], source


def test_the_families_have_their_own_labels_and_weights() -> None:
    for family in ("extend", "negative_bound"):
        assert family in FAMILIES and 0 < PRIORS[family] <= 1
