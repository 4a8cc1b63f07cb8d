"""The card convenience fee, shown to the resident before they choose card.

Rounding rule (also in docs/configuration.md): the percent part is ``amount * percent_bp /
10000`` computed exactly in integers and rounded half up to the cent; the flat part is added;
then the minimum, then the maximum, apply. Integer arithmetic only, so the same amount gives
the same fee on every kiosk and at the hub.
"""

from __future__ import annotations

from kiosk.config import CardFee
from kiosk.money import Money


def _percent_half_up(cents: int, basis_points: int) -> int:
    numerator = cents * basis_points
    whole, remainder = divmod(numerator, 10_000)
    return whole + (1 if remainder * 2 >= 10_000 else 0)


def card_fee(amount: Money, rule: CardFee) -> Money:
    if amount.cents <= 0:
        return Money(0)
    fee = rule.flat_cents + _percent_half_up(amount.cents, rule.percent_bp)
    fee = max(fee, rule.minimum_cents)
    if rule.maximum_cents is not None:
        fee = min(fee, rule.maximum_cents)
    return Money(fee)
