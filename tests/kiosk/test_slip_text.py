"""The collection slip's layout: what finance reads off the paper, in English and Spanish."""

from __future__ import annotations

from dataclasses import replace

import pytest

from devices.emulators.escpos_emulator import sample_receipts, sample_slips
from kiosk.money import Money
from kiosk.ports import CollectionSlip
from kiosk.printout import render_printable, sections_of
from kiosk.receipt_text import TIMES, WIDTH, Qr, Text, render_text
from kiosk.slip_text import render_slip_text, slip_sections

SLIPS = sample_slips()
AGREED = SLIPS["slip-en"]


def _slip(**changes: object) -> CollectionSlip:
    return replace(AGREED, **changes)  # type: ignore[arg-type]


def _text(slip: CollectionSlip) -> str:
    return "\n".join(render_slip_text(slip))


def _words(slip: CollectionSlip) -> str:
    """The slip's text with its line breaks and alignment gone (a wrapped phrase reads whole)."""
    return " ".join(" ".join(render_slip_text(slip)).split())


def _line_with(slip: CollectionSlip, start: str, *, after: str = "") -> str:
    """The one line starting with ``start`` (after the line starting with ``after``)."""
    lines = render_slip_text(slip)
    if after:
        lines = lines[next(i for i, line in enumerate(lines) if line.startswith(after)) :]
    [line] = [line for line in lines if line.startswith(start)]
    return line


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"copy": True},
        {"previous_collected_at_local": None},
        {"terminal_ok": False, "terminal_count": 0, "terminal_total": Money(0)},
        {"bills": ()},
        {
            "kiosk_id": "riverside-community-center-lobby-east-07",
            "location": "Riverside Community Center, 4500 East Riverside Drive, Lobby",
            "technician": "Maria Fernanda Gutierrez-Villanueva de la Cruz",
            "bills": ((Money(100), 12345), (Money(10000), 999)),
            "card_total": Money(123456789),
            "terminal_total": Money(123456788),
        },
    ],
    ids=["agreed", "copy", "first", "silent", "empty", "long"],
)
def test_every_line_fits_its_columns(language: str, variant: dict[str, object]) -> None:
    slip = _slip(language=language, **variant)
    for section in slip_sections(slip):
        for block in section.blocks:
            if isinstance(block, Text):
                assert len(block.text) <= block.columns, block
    assert all(len(line) <= WIDTH for line in render_slip_text(slip))


def test_the_parts_come_in_order() -> None:
    sections = slip_sections(AGREED)
    assert [s.name for s in sections] == [
        "header",
        "details",
        "cash",
        "cards",
        "confirmation",
        "signatures",
    ]
    text = _text(AGREED)
    order = [
        "City of Springfield Water",
        "CASH-BOX COLLECTION",
        "City Hall, 100 Main St",
        "springfield-city-hall-01",
        "Slip number",
        "B001042",
        "This collection",
        "Last collection",
        "Dana Ruiz",
        "CB-0117",
        "S-448210",
        "Cash by denomination",
        "Cash total",
        "Rejected bills",
        "Payments",
        "Journal entries",
        "Card approvals",
        "Terminal end of day",
        "AGREED",
        "Software version",
        "SLIP-springfield-city-hall-01-00003",
        "Technician\n",
        "Witness",
    ]
    positions = [text.index(words) for words in order]
    assert positions == sorted(positions)


def test_the_details_are_the_slips_own() -> None:
    assert _line_with(AGREED, "Slip number").endswith(" 00003")
    assert _line_with(AGREED, "Batch").endswith(" B001042")
    assert _line_with(AGREED, "Bag / seal number").endswith(" S-448210")
    assert _line_with(AGREED, "This collection").endswith("Nov 20, 2026 4:05\u202fPM CST")
    assert _line_with(AGREED, "Last collection").endswith("Nov 13, 2026 9:12\u202fAM CST")
    assert _line_with(AGREED, "Payments").endswith(" 41")
    assert _line_with(AGREED, "Journal entries").endswith(" 1042\N{EN DASH}1187")
    assert _line_with(AGREED, "Software version").endswith(" 0.1.0")


def test_cash_is_counted_per_denomination_lowest_first() -> None:
    slip = _slip(bills=((Money(2000), 31), (Money(100), 23), (Money(10000), 1)))
    rows = [line for line in render_slip_text(slip) if TIMES in line]
    assert rows == [
        f"  23 {TIMES}   $1.00" + "$23.00".rjust(WIDTH - 14),
        f"  31 {TIMES}  $20.00" + "$620.00".rjust(WIDTH - 14),
        f"   1 {TIMES} $100.00" + "$100.00".rjust(WIDTH - 14),
    ]
    assert _line_with(slip, "Bills ").endswith(" 55")
    assert _line_with(slip, "Cash total").endswith(" $743.00")
    assert slip.cash_total == Money(74300)
    assert _line_with(slip, "Rejected bills").endswith(" 4")


def test_an_empty_cash_box_says_so() -> None:
    slip = _slip(bills=())
    assert "No bills in the cash box." in _text(slip)
    assert _line_with(slip, "Cash total").endswith(" $0.00")


def test_agreed_card_totals() -> None:
    text = _text(AGREED)
    assert _line_with(AGREED, "Kiosk", after="Card approvals").endswith("12  $532.17")
    assert _line_with(AGREED, "Terminal end of day").endswith("12  $532.17")
    assert "AGREED" in text and "NOT AGREED" not in text
    assert "differ" not in text


def test_a_count_mismatch_is_not_agreed_and_says_by_how_much() -> None:
    slip = _slip(terminal_count=11)
    words = _words(slip)
    assert "NOT AGREED" in words
    assert "The counts differ by 1." in words
    assert "totals differ" not in words


def test_a_total_mismatch_is_not_agreed_and_says_by_how_much() -> None:
    slip = _slip(terminal_total=Money(53217 + 4425))
    words = _words(slip)
    assert "NOT AGREED" in words
    assert "The totals differ by $44.25." in words
    assert "counts differ" not in words
    assert _line_with(slip, "Terminal end of day").endswith("12  $576.42")


def test_a_terminal_that_gives_no_count_is_judged_by_its_total() -> None:
    slip = _slip(terminal_count=None)
    words = _words(slip)
    assert "AGREED" in words and "NOT AGREED" not in words
    assert _line_with(slip, "Terminal end of day").endswith("\N{EM DASH}  $532.17")
    words = _words(_slip(terminal_count=None, terminal_total=Money(100)))
    assert "NOT AGREED" in words and "counts differ" not in words


def test_a_silent_terminal_is_not_agreed_even_with_equal_figures() -> None:
    slip = _slip(terminal_ok=False)  # the figures match, but nobody vouched for them
    words = _words(slip)
    assert "NOT AGREED" in words
    assert "The card terminal did not answer its end of day." in words
    assert _line_with(slip, "Terminal end of day").endswith("no answer")
    assert "differ" not in words


def test_the_verdict_in_spanish() -> None:
    assert "COINCIDE" in _words(_slip(language="es"))
    assert "NO COINCIDE" not in _words(_slip(language="es"))
    words = _words(SLIPS["slip-es"])
    assert "NO COINCIDE" in words
    assert "Las cantidades difieren en 1." in words
    assert "Los totales difieren en $44.25." in words
    silent = _words(_slip(language="es", terminal_ok=False))
    assert "La terminal de tarjetas no respondió al cierre del día." in silent
    assert "sin respuesta" in silent


def test_a_reprint_is_marked_as_a_copy() -> None:
    assert "COPY" not in _text(AGREED)
    [header] = [s for s in slip_sections(_slip(copy=True)) if s.name == "header"]
    [mark] = [b for b in header.blocks if isinstance(b, Text) and b.text == "COPY"]
    assert mark.big and mark.bold and mark.align == "center"
    assert "COPIA" in _text(_slip(copy=True, language="es"))


def test_the_first_collection_has_no_previous_time() -> None:
    slip = _slip(previous_collected_at_local=None)
    assert _line_with(slip, "Last collection").endswith(" first collection")
    spanish = _slip(previous_collected_at_local=None, language="es")
    assert _line_with(spanish, "La anterior").endswith(" primera recolección")


def test_the_qr_code_holds_the_document_id() -> None:
    qrs = [b for s in slip_sections(AGREED) for b in s.blocks if isinstance(b, Qr)]
    assert qrs == [Qr("SLIP-springfield-city-hall-01-00003")]
    # the plain text has no QR code, so it shows the id in words
    assert AGREED.confirmation in [line.strip() for line in render_slip_text(AGREED)]


def test_signature_lines_for_technician_and_witness() -> None:
    lines = render_slip_text(AGREED)
    technician, witness = lines.index("Technician"), lines.index("Witness")
    for person in (lines[technician:witness], lines[witness:]):
        writable = [line.split(" _")[0] for line in person if " _" in line]
        assert writable == ["Name", "Signature", "Date"]
    assert all(len(line) == WIDTH for line in lines if line.endswith("_" * 20))
    spanish = render_slip_text(_slip(language="es"))
    assert "Técnico" in spanish and "Testigo" in spanish
    assert sum(line.startswith("Firma _") for line in spanish) == 2


def test_spanish_dates_and_words() -> None:
    text = _text(SLIPS["slip-es"])
    assert "RECOLECCIÓN DE LA CAJA" in text
    assert "27 nov 2026 3:48\u202fp.m. CST" in text
    for english in ("Cash total", "Technician", "Witness", "Signature", "Payments"):
        assert english not in text


def test_printers_pick_the_layout_by_kind() -> None:
    assert sections_of(AGREED) == slip_sections(AGREED)
    assert render_printable(AGREED) == render_slip_text(AGREED)
    receipt = sample_receipts()["card-es"]
    assert render_printable(receipt) == render_text(receipt)
