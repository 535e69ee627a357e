"""Ingredients from the builtin API and the function's own statements: a method's sibling
(``method_swap``), a string transform (``transform``), a call wrap (``wrap``), a reset copied into
a loop (``reset``)."""

from __future__ import annotations

from pathlib import Path

from darwin_plugins.mutation.operators.library import MIRROR, ONE_PATH, siblings

from mutation_support import texts, weights

PREFIX = ("def strip_prefix(names, prefix):\n    out = []\n    for name in names:\n"
          "        if name.startswith(prefix):\n            out.append(name.lstrip(prefix))\n    return out\n")
INITIALS = ("def initials(name, dots):\n    letters = [word[0] for word in name.split()]\n    if dots:\n"
            "        return '.'.join(letters)\n    return ''.join(letters)\n")
MERGE = ("def merge(intervals):\n    merged = []\n    for start, end in intervals:\n"
         "        if merged and start <= merged[-1][1]:\n            merged[-1][1] = max(merged[-1][1], end)\n"
         "        else:\n            merged.append([start, end])\n    return merged\n")
DURATION = ("def minutes(text):\n    total = 0\n    number = ''\n    for ch in text:\n        if ch.isdigit():\n"
            "            number += ch\n        elif ch == 'h':\n            total += int(number) * 60\n"
            "        else:\n            raise ValueError(text)\n    return total\n")


def test_method_swap_offers_siblings_the_call_accepts_with_mirrors_first(tmp_path: Path) -> None:
    found = texts(tmp_path, PREFIX, "method_swap")
    assert any("out.append(name.removeprefix(prefix))" in t for t in found)
    assert any("name.endswith(prefix)" in t for t in found) and any("out.extend(" in t for t in found)
    # ``out`` is a list: no set or deque methods; ``lstrip(prefix)`` has one argument: no ``lower()``
    assert not any(".add(" in t or ".appendleft(" in t or ".lower(" in t for t in found)
    assert siblings("strip", 0) == ["lstrip", "rstrip"]
    assert "removeprefix" in siblings("lstrip", 1) and "removeprefix" not in siblings("lstrip", 0)
    w = weights(tmp_path, PREFIX, "method_swap")
    assert abs(w["5: .lstrip -> .removeprefix"] - MIRROR * w["5: .lstrip -> .strip"]) < 1e-12


def test_transform_gives_an_evident_string_a_transform(tmp_path: Path) -> None:
    found = texts(tmp_path, INITIALS, "transform")
    assert any("[word[0].upper() for word in name.split()]" in t for t in found)
    assert any("''.join(letters).lower()" in t for t in found)  # a string method's result
    # one of several returns changes one path only: it comes after the value's source
    w = weights(tmp_path, INITIALS, "transform")
    assert len(w) == 9 and all(abs(w[f"{line}: `.upper()` added"] - ONE_PATH * w["2: `.upper()` added"]) < 1e-12
                               for line in (4, 5))
    # ``xs`` is not evidently a string: its subscript is not transformed
    assert texts(tmp_path, "def f(xs):\n    return xs[0]\n", "transform") == []
    # a name bound to a string literal and returned
    assert sorted(texts(tmp_path, "def f():\n    s = 'a'\n    return s\n", "transform")) == [
        f"def f():\n    s = 'a'\n    return s.{m}()\n" for m in ("lower", "strip", "upper")]


def test_wrap_sorts_reverses_or_dedupes_an_iterable_and_takes_abs_and_len(tmp_path: Path) -> None:
    found = texts(tmp_path, MERGE, "wrap")
    assert sorted(t.splitlines()[2].strip() for t in found if t.splitlines()[2] != MERGE.splitlines()[2]) == [
        f"for start, end in {w}(intervals):" for w in ("reversed", "set", "sorted")]
    found = texts(tmp_path, "def f(xs, a, b):\n    for i in range(xs):\n        a = xs[i] - b\n    return a\n", "wrap")
    assert "    for i in reversed(range(xs)):\n" in "".join(found)
    assert any("range(len(xs))" in t for t in found) and any("a = abs(xs[i] - b)" in t for t in found)
    assert not any("sorted(range" in t for t in found)


def test_reset_copies_an_initialisation_after_its_consumer_in_the_loop(tmp_path: Path) -> None:
    found = texts(tmp_path, DURATION, "reset")
    assert found == [DURATION.replace("* 60\n", "* 60\n            number = ''\n")]
    # an accumulator the loop only updates or indexes (``merged.append``, ``merged[-1]``) is never reset
    assert texts(tmp_path, MERGE, "reset") == []


def test_break_stops_a_search_loop_at_its_first_match(tmp_path: Path) -> None:
    search = ("def first(items, target):\n    found = -1\n    for i, item in enumerate(items):\n"
              "        if item == target:\n            found = i\n    return found\n")
    assert texts(tmp_path, search, "break") == [search.replace("found = i\n", "found = i\n            break\n")]
    # a count the loop accumulates under an ``if`` and never reads afterwards: no site
    counting = search.replace("    return found\n", "    return 0\n")
    assert texts(tmp_path, counting, "break") == []
