"""Another amount is typed in dollars, as it is written: cents only after the decimal point,
never filled from the cents (2, 0 is $20, not $0.20); integer cents all the way."""

from __future__ import annotations

from functools import reduce

import pytest

from kiosk.money import Money
from screens.amount import COMMON_AMOUNTS, cents_of, offered, typed_amount_with, typed_for


def typed(keys: list[str]) -> str:
    return reduce(typed_amount_with, keys, "")


@pytest.mark.parametrize(
    ("keys", "shown", "cents"),
    [
        (["2", "0"], "20", 2000),
        (["2", "0", ".", "5"], "20.5", 2050),
        (["2", "0", ".", "5", "0"], "20.50", 2050),
        (["2", "0", ".", "5", "0", "9"], "20.50", 2050),  # two digits after the point
        ([".", "7", "5"], "0.75", 75),
        (["0", "0", "7"], "7", 700),  # no leading zeros
        (["0", ".", "0", "5"], "0.05", 5),
        (["4", "3", ".", ".", "1", "7"], "43.17", 4317),  # one point
        (["1", "2", "3", "4", "5", "6"], "12345", 1234500),  # five digits of dollars
        (["2", "5", "back", "0"], "20", 2000),
        (["2", "5", "clear", "9"], "9", 900),
        (["1", "2", ".", "back", "back"], "1", 100),
    ],
)
def test_keys_type_dollars_then_cents(keys: list[str], shown: str, cents: int) -> None:
    assert typed(keys) == shown
    got = cents_of(shown)
    assert got == Money(cents) and isinstance(got.cents, int)


@pytest.mark.parametrize("cents", [5, 75, 100, 2000, 2050, 4317, 200_000])
def test_an_amount_is_typed_back_to_itself(cents: int) -> None:
    assert cents_of(typed(list(typed_for(Money(cents))))) == Money(cents)


def test_round_amounts_within_the_limits_and_not_the_amount_due() -> None:
    assert offered(Money(4317), Money(100), Money(200_000)) == list(COMMON_AMOUNTS)
    assert offered(Money(5000), Money(100), Money(200_000)) == [Money(2000), Money(10000)]
    assert offered(Money(4317), Money(100), Money(6000)) == [Money(2000), Money(5000)]
    assert offered(Money(4317), Money(3000), Money(6000)) == [Money(5000)]
