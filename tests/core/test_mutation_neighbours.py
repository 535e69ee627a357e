"""A neighbour comparison given its other side (``mirror``); two comparisons of a chain with
crossed operands (``bound_swap``); a stale size (``stale_length``)."""

from __future__ import annotations

from pathlib import Path

from darwin_plugins.mutation.generator import PRIORS
from darwin_plugins.mutation.operators import FAMILIES

from mutation_support import root_edits, texts

PEAKS = ("def peaks(xs):\n    out = []\n    for i in range(1, len(xs) - 1):\n"
         "        if xs[i] > xs[i - 1]:\n            out.append(i)\n    return out\n")


def test_mirror_is_a_registered_family_with_a_weight() -> None:
    assert "mirror" in FAMILIES and 0 < PRIORS["mirror"] < 1


def test_mirror_adds_the_other_neighbours_comparison(tmp_path: Path) -> None:
    assert texts(tmp_path, PEAKS, "mirror") == [
        PEAKS.replace("if xs[i] > xs[i - 1]:", "if xs[i] > xs[i - 1] and xs[i] > xs[i + 1]:")]
    # every offset index of the comparison is mirrored; ``+`` becomes ``-``; an ``or`` is grouped
    lcs = PEAKS.replace("xs[i] > xs[i - 1]", "xs[i + 1] == ys[i + 2] or i == 0")
    assert texts(tmp_path, lcs, "mirror") == [
        lcs.replace("if xs[i + 1] == ys[i + 2] or i == 0:", "if (xs[i + 1] == ys[i + 2] or i == 0) and xs[i - 1] == ys[i - 2]:")]


def test_mirror_leaves_tests_without_offsets_or_already_mirrored(tmp_path: Path) -> None:
    for test in ("xs[i] > xs[j]", "xs[i] > xs[0]", "xs[i] > xs[i - 1] and xs[i] > xs[i + 1]", "xs[i] > xs[n - k]",
                 "0 < xs[i - 1] < 9"):
        assert texts(tmp_path, PEAKS.replace("xs[i] > xs[i - 1]", test), "mirror") == [], test


GRID = ("def inside(grid, r, c):\n    if 0 <= r < len(grid[0]) and 0 <= c < len(grid) and grid[r][c]:\n"
        "        return True\n    return False\n")


def test_bound_swap_exchanges_the_last_differing_operand_of_two_comparisons(tmp_path: Path) -> None:
    assert "bound_swap" in FAMILIES and 0 < PRIORS["bound_swap"] < 1
    assert texts(tmp_path, GRID, "bound_swap") == [
        GRID.replace("0 <= r < len(grid[0]) and 0 <= c < len(grid)", "0 <= r < len(grid) and 0 <= c < len(grid[0])")]


def test_bound_swap_leaves_reorderings_and_unlike_comparisons(tmp_path: Path) -> None:
    for test in ("a > 0 and b > 0",            # one differing operand: a reordering
                 "0 <= r < n and r > m",        # different operators
                 "a < b or c"):                 # one comparison
        source = f"def f(a, b, c, n, m, r):\n    if {test}:\n        return 1\n    return 0\n"
        assert texts(tmp_path, source, "bound_swap") == [], test


CIRCLE = ("def last(n, k):\n    people = list(range(1, n + 1))\n    i = 0\n    while len(people) > 1:\n"
          "        i = (i + k - 1) % n\n        people.pop(i)\n    return people[0], n\n")


def test_stale_length_reads_the_changed_sequence_s_length_in_the_loop(tmp_path: Path) -> None:
    assert "stale_length" in FAMILIES and 0 < PRIORS["stale_length"] < 1
    # ``n`` made ``people``; the loop pops from it: inside the loop only (``k`` did not make it)
    assert texts(tmp_path, CIRCLE, "stale_length") == [CIRCLE.replace("% n\n", "% len(people)\n")]
    counted = CIRCLE.replace("    i = 0\n", "    i = 0\n    m = len(people)\n").replace("% n\n", "% m\n")
    assert texts(tmp_path, counted, "stale_length") == [counted.replace("% m\n", "% len(people)\n")]


def test_stale_length_offers_a_name_inside_nested_loops_once(tmp_path: Path) -> None:
    # both loops change ``people``: the inner one's ``n`` is one site, not one per loop
    nested = CIRCLE.replace("        i = (i + k - 1) % n\n        people.pop(i)\n",
                            "        for _ in range(1):\n            i = (i + k - 1) % n\n            people.pop(i)\n")
    edits = root_edits(tmp_path, nested, families=["stale_length"])
    assert [e.description for e in edits] == ["n -> len(people)"]


def test_stale_length_needs_a_loop_that_changes_the_sequence_and_keeps_the_name(tmp_path: Path) -> None:
    unchanged = CIRCLE.replace("        people.pop(i)\n", "        print(people[i])\n")
    rebound = CIRCLE.replace("        people.pop(i)\n", "        people.pop(i)\n        n -= 1\n")
    for source in (unchanged, rebound):
        assert texts(tmp_path, source, "stale_length") == [], source
