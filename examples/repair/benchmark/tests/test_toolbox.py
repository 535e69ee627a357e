"""Visible tests of the repair benchmark (the search sees these)."""

import toolbox as tb


def test_is_leap_century():
    assert not tb.is_leap(1900)


def test_is_leap_plain():
    assert tb.is_leap(2024) and not tb.is_leap(2023)


def test_binary_search_found():
    assert tb.binary_search([1, 3, 5, 7, 9], 7) == 3


def test_binary_search_missing():
    assert tb.binary_search([1, 3, 5], 4) == -1


def test_moving_average():
    assert tb.moving_average([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]


def test_gcd():
    assert tb.gcd(12, 18) == 6


def test_parity():
    assert tb.parity(7) == 1 and tb.parity(3) == 0


def test_normalize():
    assert tb.normalize([2, 4, 6]) == [0.0, 0.5, 1.0]


def test_normalize_flat():
    assert tb.normalize([3, 3]) == [0.0, 0.0]


def test_count_vowels():
    assert tb.count_vowels("banana") == 3


def test_shout():
    assert tb.shout("  hey ") == "hey!"


def test_title_case():
    assert tb.title_case(["hello", "world"]) == "Hello World"


def test_rotate():
    assert tb.rotate([1, 2, 3, 4, 5], 2) == [3, 4, 5, 1, 2]


def test_rotate_empty():
    assert tb.rotate([], 3) == []


def test_safe_div():
    assert tb.safe_div(7, 2) == 3.5 and tb.safe_div(1, 0) is None


def test_fizzbuzz_three():
    assert tb.fizzbuzz(9) == "Fizz"


def test_fizzbuzz_five():
    assert tb.fizzbuzz(10) == "Buzz"


def test_fizzbuzz_other():
    assert tb.fizzbuzz(15) == "FizzBuzz" and tb.fizzbuzz(7) == "7"
