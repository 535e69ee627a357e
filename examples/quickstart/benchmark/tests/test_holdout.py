"""Held-out tests: never shown to the search, run on each new best (see tasks.toml).

They check the same functions on other inputs, so a "repair" that only fits the training tests
(``n % 5 != 1`` passes test_fizzbuzz_buzz, yet fizzbuzz(7) becomes "Buzz") shows up here.
"""

import textstats as ts


def test_holdout_fizzbuzz():
    assert [ts.fizzbuzz(n) for n in (5, 7, 20, 21, 45, 46)] == ["Buzz", "7", "Buzz", "Fizz", "FizzBuzz", "46"]


def test_holdout_mean():
    assert ts.mean([2, 4]) == 3
    assert ts.mean([-1, 1, 3]) == 1


def test_holdout_maximum():
    assert ts.maximum([1, 5, 3]) == 5
    assert ts.maximum([0]) == 0


def test_holdout_running_total():
    assert ts.running_total([5, -1, 2]) == [5, 4, 6]


def test_holdout_variance():
    assert ts.variance([1, 1, 1]) == 0
    assert abs(ts.variance([1, 3]) - 1.0) < 1e-9
