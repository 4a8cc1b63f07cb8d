"""A receipt says what reached the account and what the card was charged, where to ask about
the payment (the city's customer service, from the settings), and its QR code is a link a
phone opens, the plain confirmation number beside it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import ValidationError

from devices.emulators.escpos_emulator import sample_receipts
from kiosk.config import DEMO_RECEIPT, Contact, KioskConfig, Receipt
from kiosk.ports import ReceiptContent
from kiosk.receipt_text import WIDTH, Qr, receipt_sections, render_text

LINK = "https://pay.example.gov/lookup?c={confirmation}"


def card_receipt(language: str = "en", **changes: object) -> ReceiptContent:
    """The printer's sample card receipt ($43.17 and a $1.08 fee), with the demo's settings."""
    base = replace(
        sample_receipts()[f"card-{language}"],
        lookup_link=Receipt(lookup_url=LINK).link("4F2H-8WNC-6"),
        contact_phone="(555) 010-0100",
        contact_web="springfield.example.gov/pay",
        contact_address="City Hall, 100 Main St",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def qr_codes(receipt: ReceiptContent) -> list[str]:
    return [b.data for s in receipt_sections(receipt) for b in s.blocks if isinstance(b, Qr)]


def test_the_qr_code_is_a_link_and_the_number_is_beside_it() -> None:
    receipt = card_receipt()
    assert qr_codes(receipt) == ["https://pay.example.gov/lookup?c=4F2H-8WNC-6"]
    text = "\n".join(render_text(receipt))
    assert "4F2H-8WNC-6" in text
    assert "Scan the code with a phone" in text
    # without a link in the settings the code holds the number, and nothing asks to scan it
    plain = card_receipt(lookup_link="")
    assert qr_codes(plain) == ["4F2H-8WNC-6"]
    assert "Scan the code" not in "\n".join(render_text(plain))


@pytest.mark.parametrize("language", ["en", "es"])
def test_credited_charged_and_where_to_ask(language: str) -> None:
    lines = render_text(card_receipt(language))
    assert all(len(line) <= WIDTH for line in lines)
    text = "\n".join(lines)
    assert "$43.17" in text and "$1.08" in text and "$44.25" in text
    assert "(555) 010-0100" in text and "springfield.example.gov/pay" in text
    if language == "en":
        assert "Credited to your account" in text and "Total charged to your card" in text
        assert "Questions about this payment?" in text
    else:
        assert "Abonado a su cuenta" in text and "Total cobrado a su tarjeta" in text
        assert "¿Preguntas sobre este pago?" in text


def test_a_receipt_without_contact_settings_has_no_questions_part() -> None:
    receipt = card_receipt(contact_phone="", contact_web="", contact_address="")
    assert "Questions" not in "\n".join(render_text(receipt))


def test_the_link_template() -> None:
    assert Receipt().link("7K3M-Q9XD-R") == "7K3M-Q9XD-R"  # none set: the number alone
    assert DEMO_RECEIPT.link("7K3M-Q9XD-R") == "https://pay.example.gov/lookup?c=7K3M-Q9XD-R"
    odd = Receipt(lookup_url="https://x.example/p/{confirmation}").link("A B/C")
    assert odd == "https://x.example/p/A%20B%2FC"  # a number can not break out of its place


@pytest.mark.parametrize(
    "url",
    [
        "pay.example.gov/lookup?c={confirmation}",  # not a link a phone opens
        "https://pay.example.gov/lookup",  # no place for the number
        "https://pay.example.gov/{confirmation}/{kiosk}",  # a field that is not known
        "https://pay.example.gov/ lookup?c={confirmation}",
    ],
)
def test_a_wrong_link_template_is_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        Receipt(lookup_url=url)


def test_the_settings_default_to_saying_nothing_made_up() -> None:
    config = KioskConfig()
    assert config.contact == Contact(phone="", address="", web="")
    assert config.receipt.lookup_url == ""
