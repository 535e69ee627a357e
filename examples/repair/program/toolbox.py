"""A small toolbox with eleven bugs: a repair benchmark for Darwin's search.

Most bugs are one edit away; ``normalize`` and ``count_vowels`` need two edits each whose
intermediate step passes no more visible test than the buggy code.
"""


def is_leap(year):
    return year % 4 == 0 and year % 100 == 0 or year % 400 == 0


def binary_search(xs, x):
    lo, hi = 0, len(xs)
    while lo < hi:
        mid = (lo + hi) // 2
        if xs[mid] < x:
            lo = mid
        else:
            hi = mid
    if lo < len(xs) and xs[lo] == x:
        return lo
    return -1


def moving_average(xs, k):
    out = []
    for i in range(len(xs) - k):
        out.append(sum(xs[i:i + k]) / k)
    return out


def gcd(a, b):
    while b:
        a, b = a, a % b
    return a


def parity(n):
    p = 0
    while n:
        p |= n & 1
        n >>= 1
    return p


def normalize(xs):
    lo, hi = min(xs), min(xs)
    if hi == lo:
        return [0.0 for _ in xs]
    return [(x - hi) / (hi - lo) for x in xs]


def count_vowels(text):
    return sum(1 for c in text.upper() if c not in "aeiou")


def shout(text):
    return text.lower().strip() + "!"


def title_case(words):
    return " ".join(w[0].upper() + w[2:] for w in words)


def rotate(xs, k):
    if not xs:
        return xs
    k = k % len(xs)
    return xs[:k] + xs[k:]


def safe_div(a, b):
    if b == 0:
        return None
    return a // b


def fizzbuzz(n):
    if n % 15 == 0:
        return "FizzBuzz"
    if n % 3 == 0:
        return "Buzz"
    if n % 5 == 0:
        return "Fizz"
    return str(n)
