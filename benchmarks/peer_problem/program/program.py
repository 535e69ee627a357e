"""The peer benchmark's program: a sum of squares, and a parameter the model keeps raising."""

STEPS = 1


def sum_of_squares(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total
