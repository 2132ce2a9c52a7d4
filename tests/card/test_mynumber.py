import random

import pytest

from mockgateway.card.mynumber import (
    check_digit,
    is_valid_individual_number,
    synthetic_individual_number,
    validate_individual_number,
)


def test_check_digit_of_the_published_example() -> None:
    # 12345678901 → 8 (worked by hand in mockgateway/card/mynumber.py's rule)
    assert check_digit("12345678901") == 8
    assert validate_individual_number("123456789018") == "123456789018"


@pytest.mark.parametrize(
    ("first11", "expected"),
    [
        ("00000000000", 0),  # r = 0 → 0
        ("00000000001", 9),  # P1 = 1, Q1 = 2: r = 2 → 11 - 2
        ("00000100000", 4),  # P6 = 1, Q6 = 7: r = 7 → 11 - 7
        ("10000000000", 5),  # P11 = 1, Q11 = 6: r = 6 → 11 - 6
    ],
)
def test_check_digit_rule(first11: str, expected: int) -> None:
    assert check_digit(first11) == expected


def test_remainder_one_gives_zero() -> None:
    # P7 = 1 has weight Q7 = 2; P1 = 5 has weight 2: r = 12 mod 11 = 1 → check digit 0.
    assert check_digit("00001000005") == 0


@pytest.mark.parametrize("bad", ["123456789017", "12345678901", "1234567890188", "12345678901a", "１23456789018"])
def test_invalid_numbers_are_rejected(bad: str) -> None:
    assert not is_valid_individual_number(bad)
    with pytest.raises(ValueError, match="individual number"):
        validate_individual_number(bad)


def test_synthetic_numbers_are_valid_and_deterministic() -> None:
    a = [synthetic_individual_number(random.Random(7)) for _ in range(3)]
    assert len(set(a)) == 1
    rng = random.Random(1)
    assert all(is_valid_individual_number(synthetic_individual_number(rng)) for _ in range(200))
