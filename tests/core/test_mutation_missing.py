"""Missing conditions and missing statements: a membership test's conjunct on the looked-up
value (``lookup``), an effect statement transplanted from a sibling function (``transplant``)."""

from __future__ import annotations

from pathlib import Path

from darwin_plugins.mutation.operators import FAMILIES
from darwin_plugins.mutation.operators.lookups import GUARDED, OPERATORS

from mutation_support import texts, weights

WINDOW = ("def longest(text):\n    last = {}\n    start = best = 0\n    for i, ch in enumerate(text):\n"
          "        if ch in last:\n            start = last[ch] + 1\n        last[ch] = i\n"
          "        best = max(best, i - start + 1)\n    return best\n")
CACHE = ("class Cache:\n    def __init__(self, size):\n        self.size = size\n        self.data = {}\n\n"
         "    def get(self, key):\n        return self.data[key]\n\n"
         "    def put(self, name, value):\n        self.data.touch(name)\n        self.data[name] = value\n"
         "        self.hits += 1\n")


def test_families_are_registered_with_a_weight() -> None:
    from darwin_plugins.mutation.generator import PRIORS
    assert {"lookup", "transplant"} <= set(FAMILIES) and PRIORS["lookup"] > 0 and PRIORS["transplant"] > 0


def test_lookup_adds_a_conjunct_on_the_looked_up_integer(tmp_path: Path) -> None:
    found = texts(tmp_path, WINDOW, "lookup")
    assert "        if ch in last and last[ch] >= start:\n" in "".join(found)
    # every operator, each integer name of the function (start, best and the enumerate index i)
    assert len(found) == len(OPERATORS) * 3
    assert not any("last[ch] >= ch" in t or "last[ch] >= text" in t for t in found)
    # the name the guarded block rebinds comes first
    w = weights(tmp_path, WINDOW, "lookup", by_line=False)
    assert abs(w["and `last[ch] >= start`"] - GUARDED * w["and `last[ch] >= best`"]) < 1e-12


def test_lookup_negated_membership_gets_a_disjunct_in_parentheses(tmp_path: Path) -> None:
    source = ("def f(xs, n):\n    pos = {}\n    count = 0\n    for x in xs:\n"
              "        if n > 0 and x not in pos:\n            count += 1\n        pos[x] = count\n    return count\n")
    found = texts(tmp_path, source, "lookup")
    assert any("if n > 0 and (x not in pos or pos[x] < count):" in t for t in found)


def test_lookup_needs_an_integer_map(tmp_path: Path) -> None:
    # values are strings, or the membership is a set's: no conjunct
    strings = "def f(xs):\n    d = {}\n    i = 0\n    for x in xs:\n        if x in d:\n            i += 1\n        d[x] = str(x)\n    return i\n"
    seen = "def f(xs):\n    seen = set()\n    i = 0\n    for x in xs:\n        if x in seen:\n            i += 1\n        seen.add(x)\n    return i\n"
    assert texts(tmp_path, strings, "lookup") == []
    assert texts(tmp_path, seen, "lookup") == []
    # a map whose values come from itself (a distance plus one) is still an integer map
    dist = ("def f(graph, start):\n    dist = {start: 0}\n    hops = 0\n    for a, b in graph:\n"
            "        if b not in dist:\n            dist[b] = dist[a] + 1\n            hops += 1\n    return hops\n")
    assert any("if b not in dist or dist[b] > hops:" in t for t in texts(tmp_path, dist, "lookup"))


def test_transplant_copies_a_siblings_effect_rebinding_parameters(tmp_path: Path) -> None:
    found = texts(tmp_path, CACHE, "transplant")
    fixed = "    def get(self, key):\n        self.data.touch(key)\n        return self.data[key]\n"
    assert any(fixed in t for t in found)  # ``name`` rebound to ``key`` (the same position)
    assert any("        self.hits += 1\n        return self.data[key]\n" in t for t in found)
    # assignments are not effects, the constructor is not a target, and put has what it has
    assert not any("self.data[key] = value" in t or "self.data[key] = " in t.split("def put")[0] for t in found)
    assert all(t.split("def get")[0] == CACHE.split("def get")[0] for t in found)
    assert len(found) == 2


def test_transplant_skips_donors_it_cannot_rebind(tmp_path: Path) -> None:
    # ``item`` is local to the donor and unbound in the target; ``b`` has no counterpart
    source = ("def f(a):\n    return a\n\n\ndef g(a, b):\n    item = a * 2\n    log(item)\n    log(b)\n    log(a)\n")
    found = texts(tmp_path, source, "transplant")
    assert found == ["def f(a):\n    log(a)\n    return a\n\n\ndef g(a, b):\n    item = a * 2\n    log(item)\n    log(b)\n    log(a)\n"]
    # one function alone: nothing to transplant
    assert texts(tmp_path, "def f(xs):\n    xs.sort()\n    return xs\n", "transplant") == []


def test_lookup_never_compares_with_a_comprehension_variable(tmp_path: Path) -> None:
    source = ("def f(xs):\n    pos = {}\n    n = 0\n    for x in xs:\n        if x in pos:\n            n += 1\n"
              "        pos[x] = n\n    return [i for i in range(n)]\n")
    found = texts(tmp_path, source, "lookup")
    assert len(found) == len(OPERATORS) and all("pos[x]" in t and "pos[x] >= i" not in t for t in found)
