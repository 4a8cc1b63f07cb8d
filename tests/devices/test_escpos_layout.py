"""The ESC/POS layout: what python-escpos generates for a receipt, read back by the emulator."""

from __future__ import annotations

from dataclasses import replace

import pytest

from devices.emulators.escpos_emulator import EscposEmulator, sample_receipts, sample_slips
from devices.emulators.escpos_render import QrSymbol, TextLine
from devices.escpos.layout import ENCODING, printable, receipt_bytes, receipt_chunks
from kiosk.ports import Printable
from kiosk.printout import render_printable, sections_of
from kiosk.receipt_text import TIMES, WIDTH

SAMPLES = sample_receipts()
SLIPS = sample_slips()


def _printed(content: Printable) -> EscposEmulator:
    printer = EscposEmulator()
    printer.feed(receipt_bytes(content))
    assert len(printer.receipts) == 1 and printer.cut_short == []
    return printer


@pytest.mark.parametrize(
    "content",
    [SAMPLES["cash-en"], SLIPS["slip-en"]],
    ids=["receipt", "slip"],
)
def test_a_printout_starts_with_init_and_code_page_and_ends_with_a_partial_cut(
    content: Printable,
) -> None:
    chunks = receipt_chunks(content)
    assert [c.name for c in chunks] == [s.name for s in sections_of(content)]
    assert len(chunks) == 6  # one chunk per section, a status check after each
    assert chunks[0].data.startswith(b"\x1b@")
    assert b"\x1bt\x02" in chunks[0].data  # CP850, after ESC @ reset it
    assert chunks[0].data.index(b"\x1b@") < chunks[0].data.index(b"\x1bt\x02")
    assert [c.last for c in chunks] == [False] * 5 + [True]
    assert chunks[-1].data.endswith(b"\x1bd\x06\x1dV\x01")  # feed past the cutter, partial cut
    assert sum(c.data.count(b"\x1dV") for c in chunks) == 1


def test_the_qr_code_is_native_and_holds_the_confirmation() -> None:
    data = receipt_bytes(SAMPLES["card-en"])
    assert b"\x1d(k" in data
    assert b"1P0" + SAMPLES["card-en"].confirmation.encode() in data
    assert b"\x1d(k\x03\x001Q0" in data  # print the stored symbol


@pytest.mark.parametrize("name", sorted(SAMPLES) + sorted(SLIPS))
def test_every_line_fits_42_columns_and_matches_the_plain_text(name: str) -> None:
    content = {**SAMPLES, **SLIPS}[name]
    receipt = _printed(content).receipts[0]
    for item in receipt.page.items:
        if isinstance(item, TextLine):
            assert item.dots <= 504, item.text  # the printer never had to wrap a line
    expected = [printable(line) for line in render_printable(content)]
    got = [line for line in receipt.text.splitlines() if not line.lstrip().startswith("[QR ")]
    assert [line.strip() for line in got] == [line.strip() for line in expected]
    assert all(len(line) <= WIDTH for line in render_printable(content))


def test_the_confirmation_is_large_and_bold() -> None:
    receipt = _printed(SAMPLES["cash-en"]).receipts[0]
    [line] = [
        i
        for i in receipt.page.items
        if isinstance(i, TextLine) and i.text == SAMPLES["cash-en"].confirmation
    ]
    assert all(s.bold and s.width == 2 and s.height == 2 for s in line.spans)
    assert line.align == "center"
    [qr] = [i for i in receipt.page.items if isinstance(i, QrSymbol)]
    assert qr.data == SAMPLES["cash-en"].confirmation and qr.align == "center"


def test_spanish_letters_survive_the_code_page() -> None:
    text = _printed(SAMPLES["card-es"]).receipts[0].text
    for word in ("CONFIRMACIÓN", "Código de autorización", "Dirección", "¡Gracias!"):
        assert word in text
    assert ENCODING == "CP850"


def test_masking_dots_are_printed_as_asterisks() -> None:
    text = _printed(SAMPLES["cash-en"]).receipts[0].text
    assert "*****0300" in text and "12** Oak St" in text
    assert "100200300" not in text and "1234 Oak" not in text


def test_a_long_location_and_unprintable_characters_do_not_break_the_layout() -> None:
    content = replace(
        SAMPLES["cash-en"],
        city="Ciudad de Springfield \u2014 Departamento de Agua y Alcantarillado",
        location="Biblioteca \u201cCentral\u201d \u2603, 1234 Avenida de los Árboles Muy Largos",
        terminal_lines=("X" * 60,),
    )
    receipt = _printed(content).receipts[0]
    assert all(
        i.dots <= 504 for i in receipt.page.items if isinstance(i, TextLine)
    )  # wrapped by the layout, not by the printer
    assert "Springfield - Departamento de" in receipt.text  # the em dash became a hyphen
    assert 'Biblioteca "Central" ?,' in receipt.text  # a snowman has no code page


@pytest.mark.parametrize("name", sorted(SLIPS))
def test_a_slips_qr_code_is_native_and_holds_its_document_id(name: str) -> None:
    slip = SLIPS[name]
    data = receipt_bytes(slip)
    assert b"1P0" + slip.confirmation.encode() + b"\x1d(k\x03\x001Q0" in data  # store, print
    printed = _printed(slip).receipts[0]
    assert printed.qr_data == [slip.confirmation]
    assert printed.confirmation == slip.confirmation


def test_a_slips_spanish_letters_and_signs_survive_the_code_page() -> None:
    text = _printed(SLIPS["slip-es"]).receipts[0].text
    for words in (
        "RECOLECCIÓN DE LA CAJA",
        "Técnico",
        "Versión del software",
        f"26 {TIMES}  $20.00",
    ):
        assert words in text
    assert "1188-1301" in text  # the en dash, which CP850 lacks, printed as a hyphen
