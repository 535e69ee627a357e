"""A small module with bugs for the tutorial's search to repair."""


def clamp(x, lo, hi):
    """``x`` limited to ``[lo, hi]``."""
    if x > lo:
        return lo
    if x > hi:
        return hi
    return x


def is_adult(age):
    return age > 18


def sign(x):
    if x >= 0:
        return 1
    if x < 0:
        return -1
    return 0
