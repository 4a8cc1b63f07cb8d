"""Translations: the catalogs parse, every receipt message is in Spanish, formats per language."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from kiosk import i18n
from kiosk.i18n import format_date, format_datetime, format_money, format_time, translator
from kiosk.money import Money
from kiosk.ports import ReceiptContent
from kiosk.receipt_text import render_text

ROOT = Path(__file__).resolve().parents[2]
LAYOUTS = [
    ROOT / "kiosk" / "receipt_text.py",
    ROOT / "kiosk" / "slip_text.py",
    ROOT / "devices" / "escpos" / "layout.py",
]
"""Every module that puts words on a receipt."""


def _msgids(path: Path) -> set[str]:
    found = set()
    for _line, message, _comments, _context in extract_from_file("python", str(path)):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(lang: str):  # type: ignore[no-untyped-def]
    with (ROOT / "kiosk" / "locale" / lang / "LC_MESSAGES" / "kiosk.po").open("rb") as handle:
        return read_po(handle)


RECEIPT_MSGIDS = sorted(set().union(*(_msgids(p) for p in LAYOUTS)))


def test_the_layouts_have_messages() -> None:
    assert "Payment receipt" in RECEIPT_MSGIDS
    assert len(RECEIPT_MSGIDS) >= 15


@pytest.mark.parametrize("lang", ["en", "es"])
def test_catalogs_parse_and_compile(lang: str) -> None:
    catalog = _catalog(lang)
    assert catalog.locale is not None and str(catalog.locale) == lang
    assert isinstance(translator(lang).gettext("Payment receipt"), str)


@pytest.mark.parametrize("msgid", RECEIPT_MSGIDS)
def test_every_receipt_message_has_a_spanish_translation(msgid: str) -> None:
    message = _catalog("es").get(msgid)
    assert message is not None, f"{msgid!r} is not in the Spanish catalog: run pybabel update"
    assert message.string, f"{msgid!r} has no Spanish translation"
    assert not message.fuzzy, f"{msgid!r} is only a fuzzy guess"
    assert translator("es").gettext(msgid) == message.string


def test_the_template_is_up_to_date_with_the_layouts() -> None:
    with (ROOT / "kiosk" / "locale" / "kiosk.pot").open("rb") as handle:
        template = read_po(handle)
    missing = [m for m in RECEIPT_MSGIDS if template.get(m) is None]
    assert missing == [], "re-run pybabel extract (see babel.cfg)"


def test_english_is_the_msgid_and_unknown_languages_fall_back_to_it() -> None:
    assert translator("en").gettext("Payment receipt") == "Payment receipt"
    assert translator("fr").gettext("Payment receipt") == "Payment receipt"
    assert translator("es_US").gettext("Payment receipt") == "Recibo de pago"
    assert translator("es") is translator("ES-mx")  # cached per language


@pytest.mark.parametrize(
    ("cents", "en", "es"),
    [
        (4317, "$43.17", "$43.17"),
        (123450, "$1,234.50", "$1,234.50"),
        (0, "$0.00", "$0.00"),
        (-183, "-$1.83", "-$1.83"),
    ],
)
def test_money_per_language(cents: int, en: str, es: str) -> None:
    # es_US: a Spanish speaker paying a US bill reads dollars the US way, not "43,17 US$"
    assert format_money(Money(cents), "en") == en
    assert format_money(Money(cents), "es") == es


def test_bills_are_listed_in_whole_dollars_per_language() -> None:
    bills = [Money(c) for c in (100, 500, 2000, 10000)]
    assert i18n.format_bills(bills, "en") == "$1, $5, $20, and $100"
    assert i18n.format_bills(bills, "es") == "$1, $5, $20 y $100"
    assert i18n.format_bills([Money(500), Money(2000)], "es") == "$5 y $20"
    assert i18n.format_bills([Money(2000)], "en") == "$20"


def test_dates_and_times_per_language() -> None:
    utc = datetime(2026, 11, 20, 21, 42, 7, tzinfo=ZoneInfo("UTC"))
    assert format_date(date(2026, 11, 20), "en") == "Nov 20, 2026"
    assert format_date(date(2026, 11, 20), "es") == "20 nov 2026"
    assert format_time(utc, "en", "America/Chicago").replace("\u202f", " ") == "3:42 PM CST"
    assert format_time(utc, "es", "America/Chicago").replace("\u202f", " ") == "3:42 p.m. CST"
    assert "2026" in format_datetime(utc, "es", ZoneInfo("America/Chicago"))
    naive = datetime(2026, 11, 20, 21, 42, 7)  # naive means UTC in this project
    assert format_datetime(naive, "en", "America/Chicago") == format_datetime(
        utc, "en", "America/Chicago"
    )


def _receipt(**changes: object) -> ReceiptContent:
    base = ReceiptContent(
        city="City of Springfield Water",
        location="City Hall, 100 Main St",
        kiosk_id="k-01",
        paid_at_local=datetime(2026, 11, 20, 15, 42, tzinfo=ZoneInfo("America/Chicago")),
        language="es",
        account_masked="•••••0300",
        service_address_masked="12•• Oak St",
        amount=Money(4500),
        method="cash",
        fee=Money(0),
        total_charged=Money(4500),
        cash_by_denomination=((Money(2000), 2), (Money(500), 1)),
        card_brand="",
        card_last4="",
        card_auth_code="",
        balance_after=Money(-183),
        confirmation="7K3M-Q9XD-R",
        offline=True,
        review=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["cash", "card"])
def test_no_english_is_left_on_a_spanish_receipt(method: str) -> None:
    receipt = _receipt(method=method, card_brand="VISA", card_last4="0119", card_auth_code="1")
    if method == "card":
        receipt = replace(receipt, balance_after=Money(0))
    text = " ".join(" ".join(render_text(receipt)).split())
    for msgid in RECEIPT_MSGIDS:
        if msgid not in {"Cash", "Card"}:  # short words that may occur inside others
            assert msgid not in text and msgid.upper() not in text, msgid
    assert "Recibo de pago".upper() in text
    assert "Forma de pago" in text


def test_spanish_receipt_uses_spanish_dates() -> None:
    text = "\n".join(render_text(_receipt()))
    assert "20 nov 2026" in text and "p.m." in text


def test_i18n_is_core_only() -> None:
    source = Path(i18n.__file__).read_text(encoding="utf-8")
    for library in ("kivy", "serial", "escpos", "requests"):
        assert f"import {library}" not in source and f"from {library}" not in source
