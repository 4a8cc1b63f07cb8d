"""What a scanned bill-stub barcode says: an account number, and maybe the amount due.

The scanner driver hands the engine the raw text of a barcode. Which part of it is the
account and which the amount is the city's choice of stub layout, so it is a regular
expression in the configuration (``[scanner] stub_pattern``) with named groups ``account``
and, optionally, ``amount`` (whole cents, digits only). The whole code must match.

A misread or a stub from another biller must never turn into a payment to the wrong account,
so nothing here guesses: a code that does not match, an amount that is not digits, or an
account whose check digit fails is a :class:`NotRecognised` with a reason, and the resident
is asked to scan again or type the number. The check digit is the Luhn (mod 10) digit at the
end of the account number, the rule most billing systems print; ``account_check = "none"``
turns it off for a city whose numbers carry none.

This module is part of the core: text in, values out, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Literal

from kiosk.money import Money

if TYPE_CHECKING:  # kiosk.config imports this module for its validator
    from kiosk.config import Scanner

DEFAULT_STUB_PATTERN = r"(?P<account>\d{9})(?P<amount>\d{8})?"
"""The demo's stub: 9-digit account, then the amount due as 8 digits of cents (17 digits).

A plain 9-digit code is an account number alone (a card or sticker without an amount).
"""

AccountCheck = Literal["luhn", "none"]
ACCOUNT_CHECKS: tuple[AccountCheck, ...] = ("luhn", "none")
GROUPS = ("account", "amount")

MAX_CODE_LENGTH = 256
"""Longer text is not a stub; refusing it early keeps a user pattern's matching cheap."""

ACCOUNT_DIGITS = 9
AMOUNT_DIGITS = 8


class Reason(Enum):
    """Why a code was not taken as a bill stub."""

    NO_MATCH = "no_match"
    BAD_AMOUNT = "bad_amount"
    CHECK_DIGIT = "check_digit"


@dataclass(frozen=True, slots=True)
class StubCode:
    """A recognised code. ``amount_due`` is None when the code carries no amount."""

    account: str
    amount_due: Money | None = None


@dataclass(frozen=True, slots=True)
class NotRecognised:
    """A code that is not a usable stub; ``message`` is for logs and technicians."""

    reason: Reason
    message: str


StubResult = StubCode | NotRecognised


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a stub pattern, or raise :class:`ValueError` saying what to fix.

    Used by the configuration's validator, so a bad pattern is reported by
    ``kiosk config check`` with its key and line rather than at the first scan.
    ``re.ASCII`` keeps ``\\d`` to 0-9: other scripts' digits are not a bill's digits.
    """
    try:
        compiled = re.compile(pattern, re.ASCII)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc
    names = set(compiled.groupindex)
    if "account" not in names:
        raise ValueError(
            "needs a named group for the account number, e.g. (?P<account>\\d{9}); "
            "the amount, if the stub has one, goes in (?P<amount>\\d{8})"
        )
    unknown = sorted(names - set(GROUPS))
    if unknown:
        raise ValueError(
            f"unknown named group(s) {', '.join(unknown)}; the groups are account and amount"
        )
    return compiled


def luhn_valid(number: str) -> bool:
    """True when the last digit of ``number`` is its Luhn (mod 10) check digit."""
    if not _digits(number) or len(number) < 2:
        return False
    return luhn_check_digit(number[:-1]) == number[-1]


def luhn_check_digit(body: str) -> str:
    """The digit to append to ``body`` (ASCII digits) to make it pass :func:`luhn_valid`."""
    if not _digits(body):
        raise ValueError(f"not digits: {body!r}")
    total = 0
    # from the right, every second digit of the body (the first, next to the check digit)
    # is doubled and its digits summed
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str(-total % 10)


class StubParser:
    """Parses scanned codes with one configured pattern and check-digit rule."""

    def __init__(
        self, pattern: str = DEFAULT_STUB_PATTERN, account_check: AccountCheck = "luhn"
    ) -> None:
        if account_check not in ACCOUNT_CHECKS:
            raise ValueError(
                f"account_check must be one of {ACCOUNT_CHECKS}, not {account_check!r}"
            )
        self.pattern = compile_pattern(pattern)
        self.account_check: AccountCheck = account_check

    @classmethod
    def from_config(cls, scanner: Scanner) -> StubParser:
        """The parser for a kiosk's ``[scanner]`` section (already validated)."""
        return cls(scanner.stub_pattern, scanner.account_check)

    def parse(self, code: str) -> StubResult:
        """The account (and amount due) in ``code``, or why there is none.

        Surrounding whitespace is ignored; everything else must match the pattern exactly.
        """
        text = code.strip()
        if len(text) > MAX_CODE_LENGTH:
            return NotRecognised(Reason.NO_MATCH, f"code is longer than {MAX_CODE_LENGTH}")
        match = self.pattern.fullmatch(text)
        if match is None:
            return NotRecognised(Reason.NO_MATCH, "code does not match the stub pattern")
        account = match["account"]
        if not account:
            return NotRecognised(Reason.NO_MATCH, "the account number is empty")
        if self.account_check == "luhn" and not luhn_valid(account):
            return NotRecognised(Reason.CHECK_DIGIT, "account number fails its check digit")
        amount_text = match.groupdict().get("amount")
        if not amount_text:  # the group is optional or absent: an account number alone
            return StubCode(account)
        if not _digits(amount_text):
            return NotRecognised(Reason.BAD_AMOUNT, "the amount is not whole cents in digits")
        return StubCode(account, Money(int(amount_text)))


def make_stub_code(account: str, amount_due: Money | None = None) -> str:
    """The default-format code for ``account`` (9 digits) and ``amount_due``.

    For the demo's printed stubs, the emulator's ``scan-stub`` and tests; it writes what
    :data:`DEFAULT_STUB_PATTERN` reads and does not add a check digit: pass a real number.
    """
    if len(account) != ACCOUNT_DIGITS or not _digits(account):
        raise ValueError(f"account must be {ACCOUNT_DIGITS} digits, got {account!r}")
    if amount_due is None:
        return account
    if not 0 <= amount_due.cents < 10**AMOUNT_DIGITS:
        raise ValueError(f"amount must be 0.00 to 999999.99, got {amount_due}")
    return f"{account}{amount_due.cents:0{AMOUNT_DIGITS}d}"


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()
