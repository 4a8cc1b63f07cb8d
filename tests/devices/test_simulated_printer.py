"""The simulated printer prints collection slips as it prints receipts, as text."""

from __future__ import annotations

from pathlib import Path

from devices.emulators.escpos_emulator import sample_receipts, sample_slips
from devices.simulated import SimulatedPrinter
from kiosk.ports import ReceiptDone
from kiosk.printout import render_printable
from kiosk.receipt_text import render_text
from kiosk.slip_text import render_slip_text

SLIP = sample_slips()["slip-en"]
RECEIPT = sample_receipts()["cash-en"]


def _printer(folder: Path, seen: list[object]) -> SimulatedPrinter:
    printer = SimulatedPrinter(folder / "p.json", render=render_printable)
    printer.attach(seen.append)
    printer.open()
    return printer


def test_a_slip_and_a_receipt_print_as_their_own_text(tmp_path: Path) -> None:
    seen: list[object] = []
    printer = _printer(tmp_path, seen)
    printer.print_receipt(SLIP)
    assert printer.last_text == render_slip_text(SLIP)
    printer.print_receipt(RECEIPT)
    assert printer.last_text == render_text(RECEIPT)
    assert [e for e in seen if isinstance(e, ReceiptDone)] == [
        ReceiptDone(SLIP.confirmation, printed=True),
        ReceiptDone(RECEIPT.confirmation, printed=True),
    ]
    again = SimulatedPrinter(tmp_path / "p.json")  # its memory outlives the kiosk process
    assert again.was_printed(SLIP.confirmation) is True


def test_a_slip_without_paper_is_not_printed(tmp_path: Path) -> None:
    seen: list[object] = []
    printer = _printer(tmp_path, seen)
    printer.set_paper(False)
    printer.print_receipt(SLIP)
    assert ReceiptDone(SLIP.confirmation, printed=False, reason="paper_out") in seen
    assert printer.was_printed(SLIP.confirmation) is False
    assert printer.last_text == []
