"""Fix ingredients from the program itself: boundary-twin equivalents come later, an index for
another name indexing the same sequence (``index``), the missing update of a membership-tested
collection (``update``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from darwin_plugins.mutation.generator import MutationGenerator, MutationOptions
from darwin_plugins.mutation.priors import NEAR, TWIN

from mutation_support import context, root_edits

GRADE = "def grade(s):\n    if s > 80:\n        return 'B'\n    if 70 <= s:\n        return 'C'\n    return 'F'\n"
MERGE = ("def merge(a, b):\n    out = []\n    i = j = 0\n    while i < len(a):\n        out.append(a[i] + b[j])\n"
         "        i += 1\n    out.extend(b[i:])\n    return out\n")
DEDUPE = ("def dedupe(items, key):\n    seen = set()\n    out = []\n    for item in items:\n        marker = key(item)\n"
          "        if marker in seen:\n            continue\n        out.append(item)\n    return out\n")


def proposals(tmp_path: Path, source: str, **options) -> list:
    (tmp_path / "m.py").write_text(source)
    gen = MutationGenerator(MutationOptions(**{"pairs": 0, **options}))
    out = []
    for k in range(5000):
        proposal = gen.propose(context(k, tmp_path))
        if proposal.metadata.get("exhausted"):
            return out
        out.append(proposal)
    raise AssertionError("the neighbourhood never ran out")


def weights(tmp_path: Path, source: str) -> dict[str, float]:
    return {f"{e.site.line}:{e.site.label}:{e.description}": e.weight for e in root_edits(tmp_path, source)}


def test_boundary_twin_equivalents_weigh_less_than_the_twin(tmp_path: Path) -> None:
    w = weights(tmp_path, GRADE)
    twin = w["2:comparison:> -> >="]
    # ``s + 1 > 80`` and ``s > 79`` are ``s >= 80`` on integers: damped; the other direction is not
    assert w["2:comparison-left:left + 1"] < twin and w["2:integer:80 -> 79"] < twin
    assert w["2:comparison-left:left + 1"] / w["2:comparison-left:left - 1"] == pytest.approx(TWIN)
    assert w["2:integer:80 -> 79"] / w["2:integer:80 -> 81"] == pytest.approx(TWIN / NEAR)
    # ``70 <= s``: ``70 + 1 <= s`` is ``70 < s``; ``70 - 1 <= s`` is a new threshold
    assert w["4:integer:70 -> 71"] / w["4:integer:70 -> 69"] == pytest.approx(TWIN / NEAR)


def test_index_family_swaps_names_that_index_the_same_sequence(tmp_path: Path) -> None:
    found = proposals(tmp_path, MERGE, families=["index"])
    texts = [p.changes["m.py"] for p in found]
    assert len(texts) == len(set(texts)) and all(ast.parse(t) for t in texts)
    # b is indexed by j and i: each becomes the other; a is indexed by i only: no edit
    assert sorted(p.description.split(" (")[1].split(")")[0] for p in found) == ["i -> j", "j -> i"]
    assert any("out.extend(b[j:])" in t for t in texts) and any("a[i] + b[i]" in t for t in texts)
    assert all(p.improvement_type == "mutation:index" for p in found)
    # keys of a mapping (not integer names) are left to the ``name`` family
    keys = "def relax(dist, node, nxt, d):\n    if d < dist[node]:\n        dist[nxt] = d\n    return dist\n"
    assert proposals(tmp_path, keys, families=["index"]) == []
    assert proposals(tmp_path, keys.replace("node, nxt, d", "d").replace("    if", "    node = nxt = 0\n    if"),
                     families=["index"])


def test_update_family_inserts_the_missing_add_of_a_tested_set(tmp_path: Path) -> None:
    found = [p for p in proposals(tmp_path, DEDUPE, families=["update"]) if "before the return" not in p.description]
    texts = [p.changes["m.py"] for p in found]
    assert len(texts) == 2 == len(set(texts))
    after = "        if marker in seen:\n            continue\n        seen.add(marker)\n        out.append(item)\n"
    first = "        if marker in seen:\n            seen.add(marker)\n            continue\n"
    assert any(after in t for t in texts) and any(first in t for t in texts)
    for t in texts:
        ast.parse(t)
    # a list is appended to; a collection updated somewhere, a dict or a parameter is left alone
    listed = proposals(tmp_path, DEDUPE.replace("set()", "[]"), families=["update"])
    assert sum("seen.append(marker)" in p.changes["m.py"] for p in listed) == 2
    for other in (DEDUPE.replace("out.append(item)", "out.append(item)\n        seen.add(item)"),
                  DEDUPE.replace("set()", "{}"), DEDUPE.replace("    seen = set()\n", "").replace("key)", "key, seen)")):
        assert not [p for p in proposals(tmp_path, other, families=["update"]) if "seen." in p.description]


RUNS = ("def runs(text):\n    out = []\n    current, count = text[0], 1\n    for ch in text[1:]:\n"
        "        if ch == current:\n            count += 1\n        else:\n            out.append((current, count))\n"
        "            current, count = ch, 1\n    return out\n")


def test_update_family_copies_an_update_of_the_returned_name_before_the_return(tmp_path: Path) -> None:
    found = proposals(tmp_path, RUNS, families=["update"])
    assert [p.description.split(" in m.py")[0] for p in found] == [
        "update-before-return (insert `out.append((current, count))` before the return)"]
    new = found[0].changes["m.py"]
    assert new.endswith("            current, count = ch, 1\n    out.append((current, count))\n    return out\n")
    ast.parse(new)
    # an update in the return's own block, or an unconditional one in a loop, is not copied
    flat = "def total(xs):\n    t = 0\n    t += 1\n    return t\n"
    looped = "def total(xs):\n    t = []\n    for x in xs:\n        t.append(x)\n    return t\n"
    for source in (flat, looped):
        assert proposals(tmp_path, source, families=["update"]) == []


def test_new_families_are_in_the_default_neighbourhood_early(tmp_path: Path) -> None:
    found = proposals(tmp_path, DEDUPE)
    fixed = [k for k, p in enumerate(found) if "        continue\n        seen.add(marker)\n" in p.changes["m.py"]]
    assert len(fixed) == 1 and fixed[0] < 20, fixed
