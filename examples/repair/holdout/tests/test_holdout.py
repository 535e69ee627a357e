"""Held-out tests of the repair benchmark: other inputs, never seen by the search."""

import toolbox as tb


def test_is_leap():
    assert [tb.is_leap(y) for y in (2000, 2100, 1996, 1999, 2400)] == [True, False, True, False, True]


def test_binary_search():
    xs = [2, 4, 6, 8, 10, 12]
    assert [tb.binary_search(xs, x) for x in (2, 12, 8, 5, 13, 1)] == [0, 5, 3, -1, -1, -1]
    assert tb.binary_search([], 1) == -1


def test_moving_average():
    assert tb.moving_average([2, 4, 6], 3) == [4.0] and tb.moving_average([1, 2], 1) == [1.0, 2.0]


def test_gcd():
    assert [tb.gcd(a, b) for a, b in ((7, 3), (100, 75), (9, 0), (8, 12))] == [1, 25, 9, 4]


def test_parity():
    assert [tb.parity(n) for n in (0, 1, 6, 11, 255)] == [0, 1, 0, 1, 0]


def test_normalize():
    assert tb.normalize([10, 0, 5]) == [1.0, 0.0, 0.5] and tb.normalize([1]) == [0.0]


def test_count_vowels():
    assert [tb.count_vowels(t) for t in ("", "xyz", "Audio", "queue")] == [0, 0, 4, 4]


def test_shout():
    assert tb.shout("Go") == "go!"


def test_title_case():
    assert tb.title_case(["a", "big", "cat"]) == "A Big Cat"


def test_rotate():
    assert tb.rotate([1, 2, 3], 4) == [2, 3, 1] and tb.rotate([1, 2], 0) == [1, 2]


def test_safe_div():
    assert tb.safe_div(-3, 2) == -1.5 and tb.safe_div(0, 5) == 0


def test_fizzbuzz():
    assert [tb.fizzbuzz(n) for n in (3, 5, 30, 1, 25, 6)] == ["Fizz", "Buzz", "FizzBuzz", "1", "Buzz", "Fizz"]
