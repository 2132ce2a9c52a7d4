"""個人番号 (individual number): the official check digit.

Rule (番号利用法施行令 第8条): for the first 11 digits, let Pn be the n-th digit counted from
the right (n = 1..11) and Qn = n + 1 for n <= 6, n - 5 for n >= 7. With r = sum(Pn * Qn) mod 11,
the check digit is 0 when r <= 1, else 11 - r.
"""

from __future__ import annotations

import random

INDIVIDUAL_NUMBER_LENGTH = 12


def check_digit(first11: str) -> int:
    """The check digit for an 11-digit prefix."""
    if len(first11) != 11 or not first11.isascii() or not first11.isdigit():
        raise ValueError(f"expected 11 ASCII digits, got {first11!r}")
    total = 0
    for n, ch in enumerate(reversed(first11), start=1):
        q = n + 1 if n <= 6 else n - 5
        total += int(ch) * q
    r = total % 11
    return 0 if r <= 1 else 11 - r


def validate_individual_number(number: str) -> str:
    """Return `number` if it is 12 ASCII digits with a correct check digit, else raise ValueError."""
    if len(number) != INDIVIDUAL_NUMBER_LENGTH or not number.isascii() or not number.isdigit():
        raise ValueError(f"individual number: expected 12 ASCII digits, got {number!r}")
    expected = check_digit(number[:11])
    if int(number[11]) != expected:
        raise ValueError(f"individual number {number}: check digit is {number[11]}, expected {expected}")
    return number


def is_valid_individual_number(number: str) -> bool:
    try:
        validate_individual_number(number)
    except ValueError:
        return False
    return True


def synthetic_individual_number(rng: random.Random) -> str:
    """A random, well-formed individual number (synthetic: drawn from `rng`, not issued)."""
    first11 = "".join(str(rng.randrange(10)) for _ in range(11))
    return first11 + str(check_digit(first11))
