"""Money as integer cents.

A float can not hold 0.10 exactly, and a kiosk that is off by a cent a thousand times a day
fails reconciliation, so every amount in the core is a :class:`Money` of whole cents. Locale
formatting happens only at the edges (screens, receipts, reports).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_AMOUNT = re.compile(r"^\s*(?P<sign>-)?\$?\s*(?P<whole>[0-9]{1,9})(?:\.(?P<frac>[0-9]{1,2}))?\s*$")


class MoneyError(ValueError):
    """An amount that can not be represented exactly in cents."""


@dataclass(frozen=True, order=True, slots=True)
class Money:
    """A whole number of cents in the kiosk's single currency."""

    cents: int

    def __post_init__(self) -> None:
        if isinstance(self.cents, bool) or not isinstance(self.cents, int):
            raise MoneyError(f"Money needs integer cents, got {type(self.cents).__name__}")

    @classmethod
    def zero(cls) -> Money:
        return cls(0)

    @classmethod
    def parse(cls, text: str) -> Money:
        """Parse ``"43.17"``, ``"$20"`` or ``"-1.5"``: decimal text, never a float."""
        match = _AMOUNT.match(text)
        if match is None:
            raise MoneyError(f"not an amount: {text!r} (expected e.g. 43.17)")
        frac = (match["frac"] or "").ljust(2, "0")
        cents = int(match["whole"]) * 100 + int(frac or "0")
        return cls(-cents if match["sign"] else cents)

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.cents + other.cents)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.cents - other.cents)

    def __mul__(self, factor: int) -> Money:
        """Whole multiples only (``bill * count``); a fraction of a cent has no meaning."""
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self.cents * factor)

    def __neg__(self) -> Money:
        return Money(-self.cents)

    def __bool__(self) -> bool:
        return self.cents != 0

    def is_positive(self) -> bool:
        return self.cents > 0

    def plain(self) -> str:
        """Locale-neutral ``"43.17"``, for logs, journal text and the CLI."""
        sign = "-" if self.cents < 0 else ""
        whole, frac = divmod(abs(self.cents), 100)
        return f"{sign}{whole}.{frac:02d}"

    def __str__(self) -> str:
        return self.plain()


def total(amounts: list[Money]) -> Money:
    return Money(sum(a.cents for a in amounts))
