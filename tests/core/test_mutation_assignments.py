"""Assignment operators, unpacking order and length checks: ``t = e`` made ``t += e`` when ``t``
holds a value (``assign``), a tuple target's elements swapped (``unpack``), a subscripting test
given a length check (``length_check``)."""

from __future__ import annotations

from pathlib import Path

from darwin_plugins.mutation.operators.assignments import OTHER

from mutation_support import texts, weights

ACCOUNT = ("class Account:\n    def __init__(self, balance):\n        self.balance = balance\n        self.log = []\n\n"
           "    def deposit(self, amount):\n        self.balance = amount\n        self.note = amount\n"
           "        return self.balance\n")
COUNTS = ("def counts(values, bins):\n    out = [0] * bins\n    total = 0\n    name = ''\n    for v in values:\n"
          "        out[v % bins] = 1\n        total = v\n        fresh = v\n        total = total + v\n"
          "        name = 'x'\n    return out, total\n")


def test_assign_augments_an_attribute_bound_in_another_method(tmp_path: Path) -> None:
    found = texts(tmp_path, ACCOUNT, "assign")
    assert ACCOUNT.replace("self.balance = amount", "self.balance += amount") in found
    assert ACCOUNT.replace("self.balance = amount", "self.balance -= amount") in found
    # the constructor's first binding, and an attribute no other method binds, are left alone
    assert not any("self.balance += balance" in t or "self.note +=" in t or "self.log +=" in t for t in found)
    w = weights(tmp_path, ACCOUNT, "assign")
    assert abs(w["7: = -> *="] - OTHER * w["7: = -> +="]) < 1e-12 and w["7: = -> -="] == w["7: = -> +="]


def test_assign_augments_a_subscript_and_a_name_bound_before(tmp_path: Path) -> None:
    found = texts(tmp_path, COUNTS, "assign")
    assert COUNTS.replace("out[v % bins] = 1", "out[v % bins] += 1") in found
    assert COUNTS.replace("total = v", "total += v") in found
    assert COUNTS.replace("total = v", "total -= v") in found
    # ``= 1``: no ``*=``/``/=``/``//=``/``**=`` (they change nothing); ``fresh`` is bound first here;
    # ``total = total + v`` already reads its target; ``out = [0] * bins`` is the first binding;
    # a string only ``+=``; ``total = 0`` at the start and ``+= 0`` never
    assert not any(f"out[v % bins] {op} 1" in t for t in found for op in ("*=", "/=", "//=", "**="))
    assert not any("fresh +=" in t or "total += total + v" in t or "out +=" in t or "total += 0" in t for t in found)
    assert COUNTS.replace("name = 'x'", "name += 'x'") in found
    assert not any(f"name {op} 'x'" in t for t in found for op in ("-=", "*=")) and not any("name += ''" in t for t in found)
    assert texts(tmp_path, "x = 1\nx = 2\n", "assign") == []  # module level: not a function's state


def test_assign_follows_parameters_and_loop_targets(tmp_path: Path) -> None:
    source = "def f(n, xs):\n    for x in xs:\n        x = n\n        n = x\n    return n\n"
    found = texts(tmp_path, source, "assign")
    assert source.replace("x = n\n", "x += n\n") in found and source.replace("n = x\n", "n += x\n") in found


def test_unpack_swaps_a_tuple_target_not_its_uses(tmp_path: Path) -> None:
    source = ("def f(stack, pairs):\n    a, b = stack.pop(), stack.pop()\n    for i, x in pairs:\n"
              "        a = a - b\n    c, c = 1, 2\n    return a\n")
    found = texts(tmp_path, source, "unpack")
    assert sorted(found) == sorted([source.replace("a, b = stack", "b, a = stack"),
                                    source.replace("for i, x in", "for x, i in")])
    assert texts(tmp_path, "def f(xs):\n    first, *rest = xs\n    return first\n", "unpack") == []


def test_length_check_guards_a_subscripting_test(tmp_path: Path) -> None:
    source = ("def f(parts):\n    for part in parts:\n        if part[0] == '0' or part[-1] == '.':\n            return False\n"
              "        if len(part) > 3 and part[1] == 'x':\n            return False\n    return True\n")
    found = texts(tmp_path, source, "length_check")
    test = "part[0] == '0' or part[-1] == '.'"
    assert sorted(found) == sorted(source.replace(f"if {test}", f"if {g} and ({test})")
                                   for g in ("len(part) > 0", "len(part) > 1"))
    # a test that already checks the length, a slice, a non-literal index: no length check
    assert texts(tmp_path, "def f(s, i):\n    if s[1:] or s[i]:\n        return 1\n", "length_check") == []
    while_source = "def f(xs):\n    while xs[2]:\n        xs.pop()\n"
    assert while_source.replace("while xs[2]", "while len(xs) > 3 and xs[2]") in texts(tmp_path, while_source, "length_check")


def test_rounding_siblings_from_math_only_where_the_file_calls_math(tmp_path: Path) -> None:
    source = "import math\n\n\ndef f(x, y):\n    return math.floor(x) + round(y) + round(y, 2)\n"
    found = texts(tmp_path, source, "builtin")
    for new in ("math.ceil(x)", "math.trunc(x)", "int(x)", "round(x)"):
        assert source.replace("math.floor(x)", new) in found
    assert source.replace("round(y) +", "math.floor(y) +") in found
    assert source.replace("round(y) +", "int(y) +") in found  # the builtin swap, as before
    assert not any("math.floor(y, 2)" in t or "math.ceil(y, 2)" in t for t in found)  # one argument only
    plain = "def f(x):\n    return int(x / 2)\n"
    assert sorted(texts(tmp_path, plain, "builtin")) == sorted(plain.replace("int(", f"{b}(") for b in ("float", "round"))
