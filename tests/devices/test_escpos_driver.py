"""The ESC/POS receipt printer driver against the emulator, over real pseudo-terminals."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from devices.emulators.escpos_emulator import EscposEmulator, sample_receipts, sample_slips
from devices.escpos.driver import EscposPrinter
from devices.escpos.layout import receipt_chunks
from kiosk.ports import (
    DeviceFault,
    DeviceHealth,
    DeviceNotice,
    DeviceRecovered,
    Health,
    Printable,
    ReceiptDone,
)
from kiosk.receipt_text import TIMES

SAMPLES = sample_receipts()
SLIPS = sample_slips()


class Events:
    """What the driver emitted, as the engine's queue would hold it."""

    def __init__(self) -> None:
        self.all: list[object] = []
        self._changed = threading.Condition()

    def __call__(self, event: object) -> None:
        with self._changed:
            self.all.append(event)
            self._changed.notify_all()

    def wait(self, predicate: Callable[[list[object]], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.all):
                left = deadline - time.monotonic()
                assert left > 0, f"timed out; events so far: {self.all}"
                self._changed.wait(left)

    def done(self, confirmation: str, timeout: float = 5.0) -> ReceiptDone:
        def found(events: list[object]) -> bool:
            return any(
                isinstance(e, ReceiptDone) and e.confirmation == confirmation for e in events
            )

        self.wait(found, timeout)
        [done] = [
            e for e in self.all if isinstance(e, ReceiptDone) and e.confirmation == confirmation
        ]
        return done

    def expect(self, event: object, timeout: float = 5.0) -> None:
        """Wait for ``event``: the driver updates its health first and emits afterwards, so
        a health seen changed does not mean its notice has arrived yet."""
        self.wait(lambda events: event in events, timeout)

    def of(self, kind: type) -> list[object]:
        with self._changed:
            return [e for e in self.all if isinstance(e, kind)]


@pytest.fixture
def printer_emulator(tmp_path: Path) -> Iterator[EscposEmulator]:
    emulator = EscposEmulator(tmp_path / "receipt-printer")
    emulator.start()
    yield emulator
    emulator.stop()


def _driver(emulator: EscposEmulator, tmp_path: Path, **options: object) -> EscposPrinter:
    settings: dict[str, object] = {
        "poll_interval": 0.1,
        "reply_timeout": 0.3,
        "confirm_timeout": 0.3,
        "settle_time": 0.0,
        "reconnect_interval": 0.05,
        "state_path": tmp_path / "printer-state.json",
    }
    settings.update(options)
    return EscposPrinter(emulator.port.path, **settings)  # type: ignore[arg-type]


@pytest.fixture
def rig(
    printer_emulator: EscposEmulator, tmp_path: Path
) -> Iterator[tuple[EscposEmulator, EscposPrinter, Events]]:
    events = Events()
    driver = _driver(printer_emulator, tmp_path)
    driver.attach(events)
    driver.open()
    assert driver.wait_ready(5.0)
    assert driver.health() == DeviceHealth()
    yield printer_emulator, driver, events
    driver.close()


def _wait_health(driver: EscposPrinter, expected: DeviceHealth, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while driver.health() != expected:
        assert time.monotonic() < deadline, f"health stayed {driver.health()}, not {expected}"
        time.sleep(0.02)


Rig = tuple[EscposEmulator, EscposPrinter, Events]


def _print(rig: Rig, content: Printable, timeout: float = 5.0) -> ReceiptDone:
    _emulator, driver, events = rig
    driver.print_receipt(content)
    return events.done(content.confirmation, timeout)


def test_cash_receipt_prints(rig: Rig) -> None:
    emulator, driver, _events = rig
    content = SAMPLES["cash-en"]
    started = time.monotonic()
    driver.print_receipt(content)
    assert time.monotonic() - started < 0.05  # queued: the engine thread does not wait
    assert rig[2].done(content.confirmation) == ReceiptDone(content.confirmation, printed=True)
    [receipt] = emulator.receipts
    text = receipt.text
    assert "$45.00" in text and "*****0300" in text and "12** Oak St" in text
    assert f"2 {TIMES} $20.00" in text and f"1 {TIMES} $5.00" in text and "Cash" in text
    assert "Credit on account" in text and "$1.83" in text
    assert content.confirmation in text
    assert receipt.qr_data == [content.confirmation]
    assert emulator.counters()["confirmations"] == [content.confirmation]
    assert driver.was_printed(content.confirmation) is True
    from io import BytesIO

    import zxingcpp  # a dev dependency: the QR code must really decode
    from PIL import Image

    image = Image.open(BytesIO(receipt.png()))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [content.confirmation]


def test_card_receipt_prints(rig: Rig) -> None:
    emulator, _driver, _events = rig
    content = SAMPLES["card-en"]
    assert _print(rig, content).printed
    text = emulator.receipts[0].text
    assert "VISA ****0119" in text and "083215" in text
    assert "$43.17" in text and "$1.08" in text and "$44.25" in text
    assert "Convenience fee" in text and "Total charged" in text
    assert "APPROVED" in text  # the terminal's own lines
    assert "No change given" not in text  # cash only
    assert emulator.receipts[0].confirmation == content.confirmation


def test_spanish_receipt(rig: Rig) -> None:
    emulator, _driver, _events = rig
    content = replace(SAMPLES["card-es"], amount=replace(SAMPLES["card-es"].amount, cents=123456))
    assert _print(rig, content).printed
    text = emulator.receipts[0].text
    assert "RECIBO DE PAGO" in text and "Forma de pago" in text and "¡Gracias!" in text
    assert "$1,234.56" in text  # es_US: a Spanish speaker in the US reads dollars this way
    assert "20 nov 2026" in text and "p.m." in text
    assert "Payment receipt" not in text and "Amount paid" not in text


SPANISH_NAMES = ("Peña", "Muñoz", "Núñez", "Ibáñez", "Güemes", "ÁNGEL", "ÍÑIGO", "ÓSCAR", "ÚRSULA")


def test_spanish_letters_print_in_code_page_850(rig: Rig) -> None:
    """Names such as Peña and Muñoz: sent as CP850 bytes (ñ is A4, Ñ A5; ESC t 2 selects the
    page) and read back the same from what the printer decoded."""
    emulator, _driver, _events = rig
    base = SAMPLES["card-es"]
    content = replace(
        base,
        city="Agua de Villa Peña",
        location="Oficina Muñoz, Av. Núñez 5",
        service_address_masked="12** Calle Ibáñez",
        terminal_lines=(*base.terminal_lines, "Güemes ÁNGEL ÍÑIGO ÓSCAR ÚRSULA ¿¡"),
    )
    data = b"".join(chunk.data for chunk in receipt_chunks(content))
    assert b"\x1bt\x02" in data  # ESC t 2: code page 850
    assert b"Pe\xa4a" in data and b"Mu\xa4oz" in data and b"\xd6\xa5IGO" in data
    assert _print(rig, content).printed
    text = emulator.receipts[0].text
    for name in (*SPANISH_NAMES, "¿", "¡"):
        assert name in text, name


def test_a_slip_with_spanish_names(rig: Rig) -> None:
    emulator, _driver, _events = rig
    slip = replace(
        SLIPS["slip-es"], technician="José Peña Muñoz", location="Plaza Núñez, Peñalolén"
    )
    assert _print(rig, slip).printed
    text = emulator.receipts[0].text
    assert "José Peña Muñoz" in text and "Plaza Núñez, Peñalolén" in text


def test_a_printer_that_answers_late_has_still_printed_the_receipt(
    printer_emulator: EscposEmulator, tmp_path: Path
) -> None:
    """Under load the status answers come after the driver's first wait: the driver asks
    again (DLE EOT) before it decides, and the receipt the printer printed counts as
    printed, not as "receipt unavailable"."""
    events = Events()
    driver = _driver(printer_emulator, tmp_path, reply_timeout=0.1, confirm_timeout=1.0)
    driver.attach(events)
    driver.open()
    try:
        assert driver.wait_ready(5.0)
        printer_emulator.status_delay = 0.2  # later than the reply_timeout of 0.1 s
        content = SAMPLES["cash-en"]
        done = _print((printer_emulator, driver, events), content, timeout=30.0)
        assert done == ReceiptDone(content.confirmation, printed=True)
        assert printer_emulator.counters()["confirmations"] == [content.confirmation]
        assert driver.counters()["status_confirmations"] >= 1
        assert driver.was_printed(content.confirmation) is True
    finally:
        driver.close()


def test_a_receipt_that_failed_can_be_printed_again(rig: Rig) -> None:
    emulator, driver, _events = rig
    content = SAMPLES["card-en"]
    emulator.paper_out_after(5)
    done = _print(rig, content)
    assert (done.printed, done.reason) == (False, "paper_out")
    assert driver.was_printed(content.confirmation) is False
    emulator.load_paper()
    _wait_health(driver, DeviceHealth())
    events = rig[2]
    events.all.clear()  # the reprint's answer is the one wanted now
    assert _print(rig, content).printed
    assert driver.was_printed(content.confirmation) is True
    assert emulator.counters()["confirmations"] == [content.confirmation]


def test_a_collection_slip_prints_and_the_printer_counts_it_by_its_id(rig: Rig) -> None:
    emulator, driver, _events = rig
    slip = SLIPS["slip-en"]
    assert _print(rig, slip) == ReceiptDone("SLIP-springfield-city-hall-01-00003", printed=True)
    [paper] = emulator.receipts
    assert paper.qr_data == [slip.confirmation]
    assert emulator.counters()["confirmations"] == [slip.confirmation]
    assert driver.was_printed(slip.confirmation) is True
    text = paper.text
    assert "CASH-BOX COLLECTION" in text and "AGREED" in text and "$1,003.00" in text
    assert f"31 {TIMES}  $20.00" in text and "Dana Ruiz" in text
    from io import BytesIO

    import zxingcpp  # finance scans the slip's id off the paper
    from PIL import Image

    image = Image.open(BytesIO(paper.png()))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [slip.confirmation]


def test_a_slip_cut_short_by_paper_out_is_not_printed(rig: Rig) -> None:
    emulator, driver, events = rig
    emulator.paper_out_after(20)  # in the cash table
    slip = SLIPS["slip-es"]
    done = _print(rig, slip)
    assert done == ReceiptDone(slip.confirmation, printed=False, reason="paper_out")
    assert emulator.counters()["receipts_printed"] == 0
    assert emulator.counters()["receipts_cut_short"] == 1
    [notice] = [n for n in events.of(DeviceNotice) if getattr(n, "kind", "") == "receipt_cut_short"]
    assert isinstance(notice, DeviceNotice)
    assert notice.detail == f"{slip.confirmation}: paper_out while printing the cash section"
    assert driver.was_printed(slip.confirmation) is False
    # the technician loads paper and prints the slip again, marked as a copy
    emulator.load_paper()
    _wait_health(driver, DeviceHealth())
    driver.print_receipt(replace(slip, copy=True))  # the same id: it is the same document

    def answered_twice(seen: list[object]) -> bool:
        dones = [e for e in seen if isinstance(e, ReceiptDone)]
        return [d.confirmation for d in dones] == [slip.confirmation] * 2

    events.wait(answered_twice)
    assert events.of(ReceiptDone)[-1] == ReceiptDone(slip.confirmation, printed=True)
    assert driver.was_printed(slip.confirmation) is True
    assert "COPIA" in emulator.receipts[0].text


def test_a_slip_queued_when_the_printer_closes_gets_its_answer(rig: Rig) -> None:
    emulator, driver, events = rig
    emulator.controls()["silent"].handler(["on"])  # the receipt ahead costs a reply timeout
    driver.print_receipt(SAMPLES["cash-en"])
    driver.print_receipt(SLIPS["slip-en"])
    driver.close(timeout=0.05)
    assert events.done(SLIPS["slip-en"].confirmation) == ReceiptDone(
        SLIPS["slip-en"].confirmation, printed=False, reason="printer_closed"
    )


def test_paper_out_before_printing(rig: Rig) -> None:
    emulator, driver, events = rig
    emulator.run_out_of_paper()
    _wait_health(driver, DeviceHealth(Health.FAULT, "paper_out"))
    done = _print(rig, SAMPLES["cash-en"])
    assert done == ReceiptDone(SAMPLES["cash-en"].confirmation, printed=False, reason="paper_out")
    counters = emulator.counters()
    assert counters["receipts_printed"] == 0 and counters["receipts_cut_short"] == 0
    assert driver.was_printed(SAMPLES["cash-en"].confirmation) is False
    events.expect(DeviceFault("receipt_printer", "paper_out"))


def test_paper_out_mid_receipt(rig: Rig) -> None:
    emulator, driver, events = rig
    emulator.paper_out_after(9)
    content = SAMPLES["cash-en"]
    done = _print(rig, content)
    assert done == ReceiptDone(content.confirmation, printed=False, reason="paper_out")
    assert driver.health() == DeviceHealth(Health.FAULT, "paper_out")
    assert emulator.counters()["receipts_printed"] == 0
    assert emulator.counters()["receipts_cut_short"] == 1
    [notice] = [n for n in events.of(DeviceNotice) if getattr(n, "kind", "") == "receipt_cut_short"]
    assert isinstance(notice, DeviceNotice) and content.confirmation in notice.detail
    assert driver.was_printed(content.confirmation) is False
    # a new roll: health recovers and the next receipt prints in full
    emulator.load_paper()
    _wait_health(driver, DeviceHealth())
    assert _print(rig, SAMPLES["card-en"]).printed
    assert emulator.counters()["receipts_printed"] == 1


def test_paper_low_is_degraded_but_prints(rig: Rig) -> None:
    emulator, driver, events = rig
    emulator.set_paper_low()
    _wait_health(driver, DeviceHealth(Health.DEGRADED, "paper_low"))
    events.expect(DeviceNotice("receipt_printer", "paper_low"))
    assert _print(rig, SAMPLES["cash-es"]).printed
    assert driver.health() == DeviceHealth(Health.DEGRADED, "paper_low")


def test_cover_open_is_a_fault(rig: Rig) -> None:
    emulator, driver, events = rig
    emulator.open_cover()
    _wait_health(driver, DeviceHealth(Health.FAULT, "cover_open"))
    done = _print(rig, SAMPLES["cash-en"])
    assert (done.printed, done.reason) == (False, "cover_open")
    emulator.close_cover()
    _wait_health(driver, DeviceHealth())
    events.expect(DeviceRecovered("receipt_printer"))


def test_a_cutter_that_jams_on_the_cut_means_not_printed(rig: Rig) -> None:
    emulator, driver, _events = rig
    emulator.jam_cutter(at_next_cut=True)
    done = _print(rig, SAMPLES["cash-en"])
    assert (done.printed, done.reason) == (False, "cutter_error")
    assert emulator.cut_short[0].reason == "cutter_error"
    assert driver.health() == DeviceHealth(Health.FAULT, "cutter_error")
    done = _print(rig, replace(SAMPLES["cash-en"], confirmation="NEXT-0000-0"))
    assert (done.printed, done.reason) == (False, "cutter_error")  # refused before printing
    assert len(emulator.cut_short) == 1


def test_unplug_mid_receipt_then_replug(rig: Rig) -> None:
    emulator, driver, events = rig
    emulator.unplug_after(12)
    content = SAMPLES["card-en"]
    done = _print(rig, content)
    assert (done.printed, done.reason) == (False, "disconnected")
    assert emulator.counters()["receipts_cut_short"] == 1
    _wait_health(driver, DeviceHealth(Health.FAULT, "disconnected"))
    emulator.replug()
    _wait_health(driver, DeviceHealth())
    events.wait(
        lambda seen: any(
            getattr(n, "kind", "") == "reconnected" for n in seen if isinstance(n, DeviceNotice)
        )
    )
    again = replace(SAMPLES["cash-en"], confirmation="9ZZZ-ZZZZ-1")
    assert _print(rig, again).printed
    assert emulator.counters()["confirmations"] == ["9ZZZ-ZZZZ-1"]


def test_a_printer_that_does_not_answer_is_a_fault(rig: Rig) -> None:
    emulator, driver, _events = rig
    emulator.controls()["silent"].handler(["on"])
    _wait_health(driver, DeviceHealth(Health.FAULT, "no_response"))
    done = _print(rig, SAMPLES["cash-en"])
    assert (done.printed, done.reason) == (False, "no_response")
    emulator.controls()["silent"].handler(["off"])
    _wait_health(driver, DeviceHealth())


def test_status_bytes_with_wrong_fixed_bits_are_not_trusted(rig: Rig) -> None:
    emulator, driver, _events = rig
    emulator.controls()["garble"].handler(["on"])
    _wait_health(driver, DeviceHealth(Health.FAULT, "bad_status"))
    assert not _print(rig, SAMPLES["cash-en"]).printed
    assert emulator.counters()["receipts_printed"] == 0


def test_receipts_queue_and_each_gets_exactly_one_answer(rig: Rig) -> None:
    emulator, driver, events = rig
    contents = [replace(SAMPLES["cash-en"], confirmation=f"AAAA-000{i}-X") for i in range(4)]
    for content in contents:
        driver.print_receipt(content)
    for content in contents:
        events.done(content.confirmation)
    time.sleep(0.2)
    dones = events.of(ReceiptDone)
    assert sorted(d.confirmation for d in dones) == sorted(c.confirmation for c in contents)  # type: ignore[attr-defined]
    assert emulator.counters()["confirmations"] == [c.confirmation for c in contents]


def test_was_printed_survives_a_restart(printer_emulator: EscposEmulator, tmp_path: Path) -> None:
    events = Events()
    first = _driver(printer_emulator, tmp_path)
    first.attach(events)
    first.open()
    assert first.wait_ready(5.0)
    first.print_receipt(SAMPLES["cash-en"])
    events.done(SAMPLES["cash-en"].confirmation)
    first.close()
    second = _driver(printer_emulator, tmp_path)
    assert second.was_printed(SAMPLES["cash-en"].confirmation) is True
    assert second.was_printed("NEVER-SEEN-0") is None


def test_a_missing_port_is_disconnected_and_a_closed_driver_answers(tmp_path: Path) -> None:
    events = Events()
    driver = EscposPrinter(str(tmp_path / "nothing"), poll_interval=0.05, reply_timeout=0.1)
    driver.attach(events)
    driver.print_receipt(SAMPLES["cash-en"])  # not open yet: answered at once, not raised
    assert events.done(SAMPLES["cash-en"].confirmation).reason == "printer_closed"
    driver.open()
    try:
        assert not driver.wait_ready(0.5)
        assert driver.health() == DeviceHealth(Health.FAULT, "disconnected")
        driver.print_receipt(SAMPLES["card-en"])
        assert events.done(SAMPLES["card-en"].confirmation).reason == "disconnected"
    finally:
        driver.close()


def test_an_emit_that_raises_does_not_stop_the_worker(rig: Rig) -> None:
    _emulator, driver, events = rig
    calls: queue.Queue[object] = queue.Queue()

    def fussy(event: object) -> None:
        calls.put(event)
        raise RuntimeError("engine queue closed")

    driver.attach(fussy)
    driver.print_receipt(SAMPLES["cash-en"])
    assert isinstance(calls.get(timeout=5), ReceiptDone)
    driver.attach(events)
    assert _print(rig, SAMPLES["card-en"]).printed


def test_closing_answers_every_queued_receipt_once(rig: Rig) -> None:
    emulator, driver, events = rig
    emulator.controls()["silent"].handler(["on"])  # each receipt now costs a reply timeout
    contents = [replace(SAMPLES["cash-en"], confirmation=f"BBBB-000{i}-X") for i in range(4)]
    for content in contents:
        driver.print_receipt(content)
    driver.close(timeout=0.1)
    for content in contents:
        events.done(content.confirmation)
    time.sleep(0.5)  # a worker still busy at close finishes its one receipt, then stops
    answered = [getattr(d, "confirmation", "") for d in events.of(ReceiptDone)]
    assert sorted(answered) == sorted(c.confirmation for c in contents)
    assert "printer_closed" in {getattr(d, "reason", "") for d in events.of(ReceiptDone)}
    driver.print_receipt(SAMPLES["card-en"])
    assert events.done(SAMPLES["card-en"].confirmation).reason == "printer_closed"
