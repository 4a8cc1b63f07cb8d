"""Translations and locale formatting for everything a resident reads (screens, receipts).

Residents are English or Spanish speakers (DESIGN.md, "Users"), so every string they see is a
gettext message, and every amount and date is formatted for their language at the edge (rule
1: money is integer cents until it is shown). The catalogs are the ``.po`` files under
``kiosk/locale/<lang>/LC_MESSAGES/kiosk.po``, extracted with Babel (see ``babel.cfg``):

    pybabel extract -F babel.cfg -o kiosk/locale/kiosk.pot --no-location .
    pybabel update -i kiosk/locale/kiosk.pot -d kiosk/locale -D kiosk

They are compiled in memory when first used (``read_po`` -> ``write_mo`` -> a
:class:`gettext.GNUTranslations`), so there is no build step to forget when a kiosk is
upgraded in place, and no generated ``.mo`` file to keep in step with its ``.po``.

Spanish uses Babel's ``es_US`` data: a Spanish speaker paying a US bill expects "$43.17"
(``es`` alone would give the Spain-style "43,17 US$"), and Spanish month names.

This module is part of the core: it imports Babel and the standard library only.
"""

from __future__ import annotations

import functools
import gettext
import io
import threading
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as _babel_format_date
from babel.dates import format_datetime as _babel_format_datetime
from babel.dates import get_time_format
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency

from kiosk.money import Money

DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT_LANGUAGE = "en"
LOCALES: dict[str, str] = {"en": "en_US", "es": "es_US"}
"""Kiosk language -> the Babel locale used to format numbers and dates for it."""

CURRENCY = "USD"

_lock = threading.Lock()


def language_of(lang: str) -> str:
    """``"es"``, ``"es_US"``, ``"ES-mx"`` -> ``"es"``; anything unknown -> the default.

    A receipt or a screen must come out in *some* language even if the session carries a
    language the kiosk does not have: English, never an exception.
    """
    head = lang.replace("-", "_").split("_", 1)[0].strip().lower()
    return head if head in LOCALES else DEFAULT_LANGUAGE


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / language_of(lang) / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _load(lang: str) -> gettext.NullTranslations:
    path = catalog_path(lang)
    if not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=LOCALES[lang], domain=DOMAIN)
    buffer = io.BytesIO()
    # fuzzy entries are guesses by ``pybabel update``; a resident should never read one
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translator(lang: str) -> gettext.NullTranslations:
    """The translations for ``lang`` (cached per language); English text is the msgid."""
    with _lock:  # functools.cache may run the loader twice from two threads; harmless but wasteful
        return _load(language_of(lang))


def babel_locale(lang: str) -> Locale:
    return Locale.parse(LOCALES[language_of(lang)])


def format_money(amount: Money, lang: str) -> str:
    """``Money(4317)`` -> ``"$43.17"`` (en_US and es_US alike); negative -> ``"-$1.83"``."""
    value = Decimal(amount.cents).scaleb(-2)
    return format_currency(value, CURRENCY, locale=LOCALES[language_of(lang)])


def format_bills(bills: Sequence[Money], lang: str) -> str:
    """``[$1, $5, $20]`` -> ``"$1, $5, and $20"`` / ``"$1, $5 y $20"``: bills in whole dollars
    (they are all whole), joined the way the language lists things."""
    locale = LOCALES[language_of(lang)]
    dollars = [
        format_currency(
            Decimal(bill.cents // 100),
            CURRENCY,
            locale=locale,
            format="¤#,##0",
            currency_digits=False,
        )
        for bill in bills
    ]
    return format_list(dollars, locale=locale)


def _zone(tz: tzinfo | str | None, when: datetime) -> tzinfo:
    if isinstance(tz, str):
        return ZoneInfo(tz)
    if tz is not None:
        return tz
    return when.tzinfo if when.tzinfo is not None else ZoneInfo("UTC")


def _aware(when: datetime) -> datetime:
    """Naive datetimes are UTC in this project (DESIGN.md rule 6: store UTC)."""
    return when if when.tzinfo is not None else when.replace(tzinfo=ZoneInfo("UTC"))


def format_datetime(
    when: datetime, lang: str, tz: tzinfo | str | None = None, *, width: str = "medium"
) -> str:
    """Date and time in ``tz`` (default: the datetime's own zone), e.g. "Nov 20, 2026, 9:42:00 AM".

    Babel puts a narrow no-break space before AM/PM; a screen shows it as a space and the
    receipt printer's layout replaces it with one.
    """
    when = _aware(when)
    return _babel_format_datetime(
        when, width, tzinfo=_zone(tz, when), locale=LOCALES[language_of(lang)]
    )


def format_date(day: date | datetime, lang: str, *, width: str = "medium") -> str:
    """ "Nov 20, 2026" / "20 nov 2026"."""
    return _babel_format_date(day, width, locale=LOCALES[language_of(lang)])


def format_time(when: datetime, lang: str, tz: tzinfo | str | None = None) -> str:
    """Short local time with the zone's abbreviation: "9:42 AM CST" / "9:42 a.m. CST".

    The zone is printed because a receipt is proof of *when* a resident paid (rule 6), and a
    kiosk's clock zone is not obvious to whoever reads the receipt later.
    """
    when = _aware(when)
    locale = LOCALES[language_of(lang)]
    pattern = get_time_format("short", locale=locale).pattern + " zzz"
    return _babel_format_datetime(when, pattern, tzinfo=_zone(tz, when), locale=locale)
