"""What a screen needs to speak the resident's language: gettext, money and dates.

Screens keep their words in Python (marked with ``_`` or ``N_`` so ``pybabel extract``
finds them, see ``babel.cfg``), never in the ``.kv`` files, and translate at the moment of
drawing with the snapshot's language. The catalogs are the core's (:mod:`kiosk.i18n`), so a
receipt and the screen before it always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from kiosk import i18n
from kiosk.money import Money


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated when shown."""
    return message


class Texts:
    """One language's view of the catalogs, handed to a screen when it draws."""

    def __init__(self, language: str) -> None:
        self.language = i18n.language_of(language)
        self._translator = i18n.translator(self.language)

    def _(self, message: str) -> str:
        return self._translator.gettext(message)

    def money(self, amount: Money) -> str:
        return i18n.format_money(amount, self.language)

    def bills(self, bills: Sequence[Money]) -> str:
        return i18n.format_bills(bills, self.language)

    def day(self, when: date) -> str:
        return i18n.format_date(when, self.language, width="long")

    def month(self, month: str) -> str:
        """``"2026-10"`` -> ``"Oct"`` / ``"oct"``: the usage chart's labels."""
        from babel.dates import format_date

        year, number = (int(part) for part in month.split("-", 1))
        return format_date(date(year, number, 1), "MMM", locale=i18n.LOCALES[self.language])
