"""Money as integer cents: what goes in, what comes out, and what is refused.

Every amount a resident pays passes through :class:`Money`; a cent lost to a float or to a
misread "1.5" shows up as a reconciliation variance, so the edges are pinned here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.money import Money, MoneyError, total

# the largest amount parse accepts: nine digits of dollars
LIMIT = 999_999_999_99
cents = st.integers(min_value=-LIMIT, max_value=LIMIT)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("43.17", 4317),
        ("43.1", 4310),
        ("43", 4300),
        ("0.05", 5),
        ("0", 0),
        ("-0", 0),
        ("$20", 2000),
        ("$ 20.00", 2000),
        ("-1.5", -150),
        ("-$1.05", -105),
        ("  7.25 ", 725),
        ("007.00", 700),
        ("999999999.99", LIMIT),
    ],
)
def test_parse_valid(text: str, expected: int) -> None:
    assert Money.parse(text) == Money(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "abc",
        "1.",
        ".5",
        "1.234",
        "1,000",
        "1,5",
        "1e3",
        "+1",
        "--1",
        "$-1",
        "1 000",
        "1000000000",
        "nan",
        "inf",
        "20$",
        "USD 20",
    ],
)
def test_parse_invalid(text: str) -> None:
    with pytest.raises(MoneyError, match="not an amount"):
        Money.parse(text)


def test_money_error_is_a_value_error() -> None:
    """Callers validating input catch ValueError without knowing about this module."""
    with pytest.raises(ValueError):
        Money.parse("x")


@pytest.mark.parametrize("text", ["\u0663", "\uff11\uff12.\uff10\uff10"])
def test_parse_refuses_non_ascii_digits(text: str) -> None:
    with pytest.raises(MoneyError):
        Money.parse(text)


@pytest.mark.parametrize("value", [1.5, 1.0, True, False, "100", Decimal("1"), None])
def test_refuses_anything_but_int_cents(value: Any) -> None:
    with pytest.raises(MoneyError, match="integer cents"):
        Money(value)


def test_arithmetic() -> None:
    a, b = Money(1050), Money(275)
    assert a + b == Money(1325)
    assert a - b == Money(775)
    assert b - a == Money(-775)
    assert -a == Money(-1050)
    assert a * 3 == Money(3150)
    assert a * 0 == Money.zero()
    assert total([a, b, -b]) == a
    assert total([]) == Money.zero()


def test_truthiness_and_sign() -> None:
    assert not Money.zero()
    assert Money(-1)
    assert Money(1).is_positive()
    assert not Money(0).is_positive()
    assert not Money(-1).is_positive()


@pytest.mark.parametrize("factor", [1.5, 0.5, True])
def test_multiplying_by_a_float_or_bool_is_refused(factor: Any) -> None:
    with pytest.raises((TypeError, MoneyError)):
        Money(500) * factor


def test_adding_a_plain_number_is_refused() -> None:
    with pytest.raises(TypeError):
        Money(500) + 1  # type: ignore[operator]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (9, "0.09"),
        (10, "0.10"),
        (99, "0.99"),
        (100, "1.00"),
        (4317, "43.17"),
        (-1, "-0.01"),
        (-99, "-0.99"),
        (-100, "-1.00"),
        (-4317, "-43.17"),
        (123456789, "1234567.89"),
    ],
)
def test_plain(value: int, text: str) -> None:
    assert Money(value).plain() == text
    assert str(Money(value)) == text


def test_ordering() -> None:
    amounts = [Money(500), Money(-1), Money(0), Money(499), Money(-100)]
    assert sorted(amounts) == [Money(-100), Money(-1), Money(0), Money(499), Money(500)]
    assert Money(1) < Money(2) <= Money(2) < Money(3)
    assert max(amounts) == Money(500)
    with pytest.raises(TypeError):
        _ = Money(1) < 2  # type: ignore[operator]


def test_equal_amounts_hash_alike() -> None:
    assert {Money(5), Money(5), Money(6)} == {Money(5), Money(6)}
    plain_five: object = 5
    assert Money(5) != plain_five


def test_is_immutable() -> None:
    money = Money(5)
    with pytest.raises(AttributeError):
        money.cents = 6  # type: ignore[misc]


@given(cents)
def test_parse_plain_round_trip(value: int) -> None:
    assert Money.parse(Money(value).plain()) == Money(value)


@given(cents)
def test_parse_accepts_a_dollar_sign(value: int) -> None:
    plain = Money(value).plain()
    with_sign = f"-${plain[1:]}" if value < 0 else f"${plain}"
    assert Money.parse(with_sign) == Money(value)


@given(cents, cents)
def test_arithmetic_matches_integer_cents(a: int, b: int) -> None:
    assert (Money(a) + Money(b)).cents == a + b
    assert (Money(a) - Money(b)) + Money(b) == Money(a)
    assert (Money(a) < Money(b)) == (a < b)
    assert total([Money(a), Money(b)]) == Money(a) + Money(b)
