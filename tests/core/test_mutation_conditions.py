"""Condition templates with the function's own conditions as ingredients: ``if <cond>: continue``
first in a loop (``continue``), a test joined with another condition by ``and`` (``strengthen``)
or ``or`` (``weaken``); and a guard of what the statement does not use itself weighs less."""

from __future__ import annotations

from pathlib import Path

import pytest

from darwin_plugins.mutation.operators.conditions import NEGATED
from darwin_plugins.mutation.operators.templates import LOOSE

from mutation_support import texts, weights

SKIP = ("def total(xs, seen):\n    n = 0\n    for x in xs:\n        if x > n:\n            n = x\n"
        "        n += x in seen\n    return n\n")
LINES = "def words(lines):\n    out = []\n    for line in lines:\n        out.append(line.strip())\n    return out\n"
SIGN = "def sign(x, y):\n    if x > 0:\n        return 1\n    if y:\n        return -1\n    return 0\n"
INTS = ("def ints(text):\n    out = []\n    for part in text.split(','):\n        out.append(int(part.strip()))\n"
        "    return out\n")


def skipping(test: str, source: str = SKIP, loop: str = "    for x in xs:\n") -> str:
    return source.replace(loop, f"{loop}        if {test}:\n            continue\n")


def test_continue_guards_a_loop_with_the_functions_own_conditions(tmp_path: Path) -> None:
    # the loop variable falsy, the membership the function tests, its comparison of the loop variable
    assert sorted(texts(tmp_path, SKIP, "continue")) == sorted(
        skipping(t) for t in ("not x", "x in seen", "x > n"))
    # ``v.strip() == ''`` once the file strips; ``not line`` weighs less: the body only strips ``line``
    loop = "    for line in lines:\n"
    assert sorted(texts(tmp_path, LINES, "continue")) == sorted(
        skipping(t, LINES, loop) for t in ("not line", "line.strip() == ''"))
    w = weights(tmp_path, LINES, "continue", by_line=False)
    assert w["`if not line: continue` first in the loop"] == pytest.approx(
        LOOSE * w["`if line.strip() == '': continue` first in the loop"])
    # a loop whose variable the body never reads, and module-level loops: no site
    assert texts(tmp_path, "def f(xs):\n    n = 0\n    for _ in xs:\n        n += 1\n    return n\n", "continue") == []
    assert texts(tmp_path, "for x in []:\n    print(x)\n", "continue") == []


def test_removing_a_continue_guard_is_the_delete_familys(tmp_path: Path) -> None:
    guarded = skipping("x in seen")
    found = texts(tmp_path, guarded, "delete")
    assert guarded.replace("        if x in seen:\n            continue\n", "        pass\n") in found
    assert guarded.replace("            continue\n", "            pass\n") in found


def test_strengthen_and_weaken_join_a_test_with_another_condition_of_the_function(tmp_path: Path) -> None:
    def joined(word: str) -> list[str]:
        out = []
        for other in ("y", "not y"):
            out.append(SIGN.replace("if x > 0:", f"if x > 0 {word} {other}:"))
        for other in ("x > 0", "not (x > 0)"):
            out.append(SIGN.replace("if y:", f"if y {word} {other}:"))
        return sorted(out)
    assert sorted(texts(tmp_path, SIGN, "strengthen")) == joined("and")
    assert sorted(texts(tmp_path, SIGN, "weaken")) == joined("or")
    w = weights(tmp_path, SIGN, "strengthen", by_line=False)
    assert w["and not y"] == pytest.approx(NEGATED * w["and y"])
    # an ``or`` operand is parenthesised; a condition already part of the test is no ingredient
    both = "def f(a, b):\n    if a or b:\n        return 1\n    if b:\n        return 2\n    return 0\n"
    found = texts(tmp_path, both, "strengthen")
    assert sorted(found) == sorted([both.replace("if b:", "if b and (a or b):"),
                                    both.replace("if b:", "if b and not (a or b):"),
                                    both.replace("if b:", "if b and a:"),
                                    both.replace("if b:", "if b and not a:")])


def test_a_while_is_strengthened_never_weakened(tmp_path: Path) -> None:
    loop = ("def drain(xs, limit):\n    n = 0\n    while xs:\n        n += xs.pop()\n"
            "        if n > limit:\n            break\n    return n\n")
    strengthened = texts(tmp_path, loop, "strengthen")
    assert loop.replace("while xs:", "while xs and n > limit:") in strengthened
    weakened = texts(tmp_path, loop, "weaken")
    assert weakened and all("while xs:" in t for t in weakened)  # only the ``if`` is weakened


def test_a_guard_of_the_statements_own_operand_comes_first(tmp_path: Path) -> None:
    """``int(part.strip())`` fails on a blank ``part.strip()``: ``if part:`` lets ``' '`` through."""
    w = weights(tmp_path, INTS, "guard", by_line=False)
    assert w["guarded by `if part:`"] == pytest.approx(LOOSE * w["guarded by `if part.strip():`"])
    # where the statement reads the variable itself, ``if v:`` is its own operand
    bare = INTS.replace("int(part.strip())", "int(part)")
    w = weights(tmp_path, bare, "guard", by_line=False)
    assert w["guarded by `if part.strip():`"] == pytest.approx(LOOSE * w["guarded by `if part:`"])


def test_a_binding_the_rest_of_the_loop_reads_is_never_guarded(tmp_path: Path) -> None:
    """``if raw.strip(): line = raw.strip()`` leaves ``line`` stale for the statements after it."""
    loop = ("def keys(text):\n    out = []\n    for raw in text.splitlines():\n        line = raw.strip()\n"
            "        out.append((line, raw))\n    return out\n")
    found = texts(tmp_path, loop, "guard")
    assert found and all("            line = raw.strip()\n" not in t for t in found)
    assert any("        if raw:\n            out.append((line, raw))\n" in t for t in found)
