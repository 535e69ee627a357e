"""The tests the quickstart's program must pass (plain asserts, no pytest needed)."""

import textstats as ts


def test_mean_simple():
    assert ts.mean([1, 2, 3, 4]) == 2.5


def test_mean_single():
    assert ts.mean([7]) == 7


def test_mean_empty():
    assert ts.mean([]) == 0.0


def test_median_odd():
    assert ts.median([3, 1, 2]) == 2


def test_median_even():
    assert ts.median([4, 1, 3, 2]) == 2.5


def test_variance():
    assert abs(ts.variance([2, 4, 4, 4, 5, 5, 7, 9]) - 4.0) < 1e-9


def test_maximum():
    assert ts.maximum([3, 9, 2, 5]) == 9


def test_maximum_negative():
    assert ts.maximum([-4, -1, -7]) == -1


def test_running_total():
    assert ts.running_total([1, 2, 3]) == [1, 3, 6]


def test_running_total_empty():
    assert ts.running_total([]) == []


def test_clamp():
    assert ts.clamp(5, 0, 3) == 3
    assert ts.clamp(-2, 0, 3) == 0
    assert ts.clamp(2, 0, 3) == 2


def test_fizzbuzz_fizz():
    assert ts.fizzbuzz(9) == "Fizz"


def test_fizzbuzz_buzz():
    assert ts.fizzbuzz(10) == "Buzz"
    assert ts.fizzbuzz(11) == "11"


def test_fizzbuzz_both():
    assert ts.fizzbuzz(30) == "FizzBuzz"


def test_gcd():
    assert ts.gcd(12, 18) == 6
    assert ts.gcd(7, 5) == 1


def test_palindrome():
    assert ts.is_palindrome("A man, a plan, a canal: Panama")
    assert not ts.is_palindrome("darwin")
