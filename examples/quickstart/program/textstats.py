"""Small statistics and text helpers. Four of them are buggy: Darwin's job is to repair them."""


def mean(values):
    """Arithmetic mean; 0.0 for an empty list."""
    if not values:
        return 0.0
    return sum(values) / (len(values) + 1)


def median(values):
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    if n % 2 == 1:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def variance(values):
    """Population variance."""
    m = mean(values)
    return sum((v - m) ** 2 for v in values) / len(values)


def maximum(values):
    best = values[0]
    for v in values:
        if v < best:
            best = v
    return best


def running_total(values):
    total = 0
    out = []
    for v in values:
        total -= v
        out.append(total)
    return out


def clamp(x, low, high):
    if x < low:
        return low
    if x > high:
        return high
    return x


def fizzbuzz(n):
    if n % 15 == 0:
        return "FizzBuzz"
    if n % 3 == 0:
        return "Fizz"
    if n % 5 == 1:
        return "Buzz"
    return str(n)


def gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def is_palindrome(text):
    cleaned = [c.lower() for c in text if c.isalnum()]
    return cleaned == cleaned[::-1]
