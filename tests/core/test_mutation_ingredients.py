"""Edits whose ingredient is a convention rather than code nearby: another number base, a ``None``
default, the order a ``join`` / ``enumerate`` reads its parts in, a negated sort key, the bounds
check before a look-ahead, and the state a method reads but never records."""

from __future__ import annotations

from pathlib import Path

from mutation_support import texts

HEX = ("def parse(s):\n    value = 0\n    for ch in s:\n        value = value * 10 + int(ch, 16)\n"
       "    return value\n")
DIGITS = ("def to_base(n, base):\n    digits = []\n    while n:\n        n, r = divmod(n, base)\n"
          "        digits.append(str(r))\n    return ''.join(digits)\n")
PEEK = ("def pairs(line):\n    out = 0\n    i = 0\n    while i < len(line):\n"
        "        if line[i] == 'a' and line[i + 1] == 'b':\n            out += 1\n"
        "        if line[i - 1] == 'c':\n            out -= 1\n        i += 1\n    return out\n")
BUCKET = ("class Bucket:\n    def __init__(self, size, now):\n        self.size = size\n        self.items = {}\n"
          "        self.updated = now\n\n    def refill(self, now):\n"
          "        self.size = self.size + (now - self.updated)\n        return self.items\n")


def test_a_radix_becomes_another_radix(tmp_path: Path) -> None:
    found = texts(tmp_path, HEX, "constant")
    assert any("value * 16 + int(ch, 16)" in t for t in found)
    assert any("value * 8 + int(ch, 16)" in t for t in found)
    assert any("value * 10 + int(ch, 10)" in t for t in found)
    # an integer that is no radix keeps only its arithmetic neighbours
    assert not any("return 16" in t for t in texts(tmp_path, "def f():\n    return 7\n", "constant"))


def test_a_literal_default_becomes_none(tmp_path: Path) -> None:
    found = texts(tmp_path, "def split(text, sep=' ', n=2):\n    return text.split(sep)[:n]\n", "constant")
    assert any("def split(text, sep=None, n=2):" in t for t in found)
    assert any("def split(text, sep=' ', n=None):" in t for t in found)
    assert not texts(tmp_path, "def split(text, sep=None):\n    return text.split(sep)\n", "constant")


def test_the_parts_a_join_reads_are_reversed_or_sorted(tmp_path: Path) -> None:
    found = texts(tmp_path, DIGITS, "wrap")
    assert any("return ''.join(reversed(digits))" in t for t in found)
    assert any("return ''.join(sorted(digits))" in t for t in found)


def test_the_sequence_enumerate_reads_is_reversed(tmp_path: Path) -> None:
    source = "def luhn(digits):\n    total = 0\n    for i, d in enumerate(digits):\n        total += i * d\n    return total\n"
    found = texts(tmp_path, source, "wrap")
    assert any("enumerate(reversed(digits))" in t for t in found)
    assert not any("reversed(enumerate(digits))" in t for t in found)  # enumerate itself is not reversible


def test_a_sort_key_or_one_of_its_elements_is_negated(tmp_path: Path) -> None:
    source = "def top(counts):\n    return sorted(counts.items(), key=lambda kv: (kv[1], kv[0], 'x'))\n"
    found = texts(tmp_path, source, "arithmetic")
    assert any("key=lambda kv: (-kv[1], kv[0], 'x')" in t for t in found)
    assert any("key=lambda kv: (kv[1], -kv[0], 'x')" in t for t in found)
    assert not any("-'x'" in t for t in found)  # a string literal is never negated
    whole = texts(tmp_path, "def top(xs):\n    return min(xs, key=lambda x: x % 7)\n", "arithmetic")
    assert any("key=lambda x: -(x % 7)" in t for t in whole)


def test_a_look_ahead_or_behind_gets_its_bounds_check(tmp_path: Path) -> None:
    found = texts(tmp_path, PEEK, "length_check")
    assert any("if i + 1 < len(line) and line[i] == 'a' and line[i + 1] == 'b':" in t for t in found)
    assert any("if i - 1 >= 0 and line[i - 1] == 'c':" in t for t in found)
    checked = PEEK.replace("line[i] == 'a'", "i + 1 < len(line) and line[i] == 'a'")
    assert not any("i + 1 < len(line) and i + 1 < len(line)" in t for t in texts(tmp_path, checked, "length_check"))


def test_a_method_records_the_state_it_reads_from_its_own_parameter(tmp_path: Path) -> None:
    found = texts(tmp_path, BUCKET, "transplant")
    fixed = ("        self.size = self.size + (now - self.updated)\n        self.updated = now\n"
             "        return self.items\n")
    assert any(fixed in t for t in found)
    # ``self.size`` is assigned in refill; ``self.items = {}`` reads no parameter; nothing after a return
    assert not any("self.size = size" in t.split("def refill")[1] for t in found)
    assert not any("self.items = {}" in t.split("def refill")[1] for t in found)
    assert not any("return self.items\n        self." in t for t in found)
    assert all(t.split("def refill")[0] == BUCKET.split("def refill")[0] for t in found)


def test_a_statement_crosses_the_edge_of_a_loop_or_an_if(tmp_path: Path) -> None:
    source = ("def all_within(values, lo, hi):\n    for value in values:\n        if value < lo or value > hi:\n"
              "            return False\n        total = value\n    return True\n")
    found = texts(tmp_path, source, "indentation")
    dedented = ("    for value in values:\n        if value < lo or value > hi:\n            return False\n"
                "    total = value\n    return True\n")
    indented = "        total = value\n        return True\n"
    assert any(dedented in t for t in found) and any(indented in t for t in found)
    # nothing is indented after a jump, where it could never run
    assert not any("            return False\n            total = value\n" in t for t in found)


def test_a_chain_pairing_three_names_gets_its_missing_pair(tmp_path: Path) -> None:
    source = "def kind(a, b, c):\n    if a == b or b == c:\n        return 1\n    return 0\n"
    assert any("if a == b or b == c or a == c:" in t for t in texts(tmp_path, source, "weaken"))
    both = "def kind(a, b, c):\n    if a < b and b < c:\n        return 1\n    return 0\n"
    assert any("if a < b and b < c and a < c:" in t for t in texts(tmp_path, both, "strengthen"))
    mixed = "def kind(a, b, c):\n    if a == b or b < c:\n        return 1\n    return 0\n"
    assert not any("a == c" in t or "a < c" in t for t in texts(tmp_path, mixed, "weaken"))
