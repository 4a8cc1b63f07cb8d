"""A whole payment through the real drivers and the device emulators over real ptys.

The engine, the journal, the EBDS driver, the ESC/POS driver and the scanner driver run as in
the kiosk; only the hardware is emulated. Each test ends by comparing the journal with the
emulators' own counters (the hardware's truth).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from composition.wiring import Kiosk, build_kiosk
from contract import entries as E
from devices.ebds.driver import Capability, EbdsAcceptor
from devices.emulators import ebds_emulator
from kiosk.bill_stub import make_stub_code
from kiosk.config import Devices, KioskConfig, Limits, Locale, Storage
from kiosk.engine import inputs as ui
from kiosk.engine.snapshot import Snapshot
from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import Health

ACCOUNT = "100200302"  # demo account, balance 43.17


class Running:
    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk
        self.latest: Snapshot = kiosk.engine.snapshot
        self.changed = threading.Condition()
        kiosk.engine.subscribe(self._seen)
        kiosk.engine.start()

    def _seen(self, snapshot: Snapshot) -> None:
        with self.changed:
            self.latest = snapshot
            self.changed.notify_all()

    def until(self, what: Callable[[Snapshot], bool], timeout: float = 10.0) -> Snapshot:
        with self.changed:
            assert self.changed.wait_for(lambda: what(self.latest), timeout), self.latest
            return self.latest

    def at(self, state: State, **want: object) -> Snapshot:
        return self.until(
            lambda s: s.state is state and all(getattr(s, k) == v for k, v in want.items())
        )

    def emulator(self, name: str):  # type: ignore[no-untyped-def]
        return self.kiosk.hardware.controls.emulators[name]

    def entries(self, type_: str) -> list[dict[str, object]]:
        return [dict(e.payload) for e in self.kiosk.journal.entries() if e.type == type_]

    def credited_cents(self) -> int:
        return sum(int(str(b["denomination_cents"])) for b in self.entries(E.BILL_STACKED))


def _running(data_dir: Path, devices: Devices | None = None) -> Iterator[Running]:
    config = KioskConfig(
        storage=Storage(data_dir=data_dir),
        limits=Limits(max_overpayment_cents=500),
        devices=devices or Devices(),
    )
    kiosk = build_kiosk(config)
    run = Running(kiosk)
    yield run
    kiosk.close()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    yield from _running(tmp_path)


@pytest.fixture
def on_an_apex(tmp_path: Path) -> Iterator[Running]:
    """The same kiosk with a Pyramid Apex: type 6 is telemetry there, and it keeps no count."""
    yield from _running(tmp_path, Devices(emulated_acceptor_model="apex"))


def _to_cash(run: Running) -> None:
    controls = run.kiosk.hardware.controls
    controls.scan(make_stub_code(ACCOUNT, Money(4317)))
    run.at(State.CONFIRM_ACCOUNT)
    run.kiosk.engine.submit(ui.ConfirmAccount())
    run.at(State.AMOUNT)
    run.kiosk.engine.submit(ui.ChooseAmount(Money(4317)))
    run.at(State.METHOD)
    run.kiosk.engine.submit(ui.ChooseMethod("cash"))
    run.at(State.CASH)


def _two_twenties(run: Running) -> None:
    for inserted in (2000, 4000):
        run.kiosk.hardware.controls.insert_bill(20)
        run.at(State.CASH, inserted=Money(inserted))


def test_cash_payment_through_the_emulators(running: Running) -> None:
    controls = running.kiosk.hardware.controls
    _to_cash(running)
    _two_twenties(running)
    controls.insert_bill(20)  # 60.00 would pass 43.17 + 5.00: handed back
    running.until(lambda s: s.message == "bill_over_limit" and not s.bill_in_escrow)
    controls.insert_bill(5)
    done = running.at(State.RECEIPT, receipt="printed")

    acceptor = running.emulator("bill-acceptor").counters()
    assert acceptor["stacked"] == {"5.00": 1, "20.00": 2}
    assert acceptor["cashbox"] == 3
    assert running.credited_cents() == 4500 == 2 * 2000 + 500
    assert len(running.entries(E.BILL_RETURNED)) == 1
    [payment] = running.entries(E.PAYMENT_COMPLETED)
    assert payment["amount_cents"] == 4500
    printer = running.emulator("printer")
    [receipt] = printer.receipts
    assert "$45.00" in receipt.text
    assert done.confirmation is not None and done.confirmation in receipt.text
    assert receipt.qr_data == [done.confirmation]
    assert running.kiosk.journal.verify().ok


def test_an_apex_takes_cash_with_no_cash_box_count(on_an_apex: Running) -> None:
    run = on_an_apex
    driver = run.kiosk.hardware.ports.acceptor
    assert isinstance(driver, EbdsAcceptor) and driver.capability == Capability.TELEMETRY
    controls = run.kiosk.hardware.controls
    _to_cash(run)
    for dollars, total in ((20, 2000), (20, 4000), (5, 4500)):
        controls.insert_bill(dollars)
        if total < 4500:
            run.at(State.CASH, inserted=Money(total))
    run.at(State.RECEIPT, receipt="printed")
    assert run.emulator("bill-acceptor").counters()["cashbox"] == 3
    assert run.credited_cents() == 4500
    intents = run.entries(E.BILL_STACK_REQUESTED)
    assert len(intents) == 3 and all(i["cashbox_before"] is None for i in intents)
    assert not run.entries(E.BILL_RETURNED)
    assert run.kiosk.journal.open_intents() == []


def test_an_apex_jammed_mid_stack_and_cleared_into_the_box_is_credited(
    on_an_apex: Running,
) -> None:
    """No count to compare: the stack intent, the jam clearing and the note no longer held
    settle it."""
    run = on_an_apex
    emulator = run.emulator("bill-acceptor")
    emulator.timing.stack_polls = 10  # a slow stack, to jam it on the way
    _to_cash(run)
    run.kiosk.hardware.controls.insert_bill(20)
    deadline = time.monotonic() + 10
    while emulator.phase is not ebds_emulator.Phase.STACKING:
        assert time.monotonic() < deadline, "the note never started into the box"
        time.sleep(0.01)
    emulator.control("jam")
    run.until(lambda s: run.kiosk.hardware.ports.acceptor.health().state is Health.FAULT)
    emulator.control("clear", "cashbox")  # the technician pushes it into the box
    while not run.entries(E.BILL_STACKED):
        assert time.monotonic() < deadline + 10, "the cleared note was never settled"
        time.sleep(0.02)
    [stacked] = run.entries(E.BILL_STACKED)
    assert stacked["recovered"] is True and stacked["denomination_cents"] == 2000
    assert emulator.counters()["cashbox"] == 1 == len(run.entries(E.BILL_STACK_REQUESTED))
    assert run.credited_cents() == 2000
    run.kiosk.engine.submit(ui.Cancel())  # money is in: cancelling pays what went in
    run.until(lambda s: s.state is not State.METHOD)
    [payment] = run.entries(E.PAYMENT_COMPLETED)
    assert payment["amount_cents"] == 2000
    assert E.BILL_STACK_REQUESTED not in {i.type for i in run.kiosk.journal.open_intents()}


def test_jam_mid_transaction_completes_with_what_was_stacked(running: Running) -> None:
    controls = running.kiosk.hardware.controls
    _to_cash(running)
    controls.insert_bill(20)
    running.at(State.CASH, inserted=Money(2000))
    running.emulator("bill-acceptor").control("jam")
    done = running.at(State.RECEIPT)
    assert done.amount == Money(2000)
    assert running.kiosk.hardware.ports.acceptor.health().state is Health.FAULT
    assert running.credited_cents() == 2000
    assert running.emulator("bill-acceptor").counters()["cashbox"] == 1
    faults = running.entries(E.DEVICE_FAULT)
    assert any(f["reason"] == "jam" for f in faults)


def test_paper_out_mid_receipt_keeps_the_payment(running: Running) -> None:
    controls = running.kiosk.hardware.controls
    running.emulator("printer").controls()["paper-out-after"].handler(["6"])
    _to_cash(running)
    _two_twenties(running)
    controls.insert_bill(5)
    done = running.at(State.RECEIPT, receipt="failed")
    assert done.confirmation  # shown on screen instead
    assert len(running.entries(E.PAYMENT_COMPLETED)) == 1
    [failed] = running.entries(E.RECEIPT_FAILED)
    assert failed["reason"] == "paper_out"
    printer = running.emulator("printer")
    assert printer.receipts == [] and len(printer.cut_short) == 1
    assert running.kiosk.hardware.ports.printer.health().state is Health.FAULT


def test_acceptor_unplugged_and_replugged_mid_session(running: Running) -> None:
    controls = running.kiosk.hardware.controls
    acceptor = running.emulator("bill-acceptor")
    port = running.kiosk.hardware.ports.acceptor
    _to_cash(running)
    controls.insert_bill(20)
    running.at(State.CASH, inserted=Money(2000))
    acceptor.control("unplug")
    running.until(lambda s: s.state is not State.CASH)  # money in: the payment completes
    assert port.health().state is Health.FAULT
    acceptor.control("replug")
    running.until(lambda s: port.health().state is Health.OK, timeout=10.0)
    assert running.credited_cents() == 2000 == acceptor.counters()["cashbox"] * 2000
    assert len(running.entries(E.PAYMENT_COMPLETED)) == 1


def test_the_terminals_slip_keeps_the_kiosks_clock(tmp_path: Path) -> None:
    """One receipt, one time: the terminal's lines printed under the kiosk's header show the
    kiosk's local time (a zone fourteen hours from UTC, so a UTC clock could not pass)."""
    config = KioskConfig(
        storage=Storage(data_dir=tmp_path), locale=Locale(time_zone="Pacific/Kiritimati")
    )
    kiosk = build_kiosk(config)
    run = Running(kiosk)
    try:
        kiosk.hardware.controls.scan(make_stub_code(ACCOUNT, Money(4317)))
        run.at(State.CONFIRM_ACCOUNT)
        kiosk.engine.submit(ui.ConfirmAccount())
        run.at(State.AMOUNT)
        kiosk.engine.submit(ui.ChooseAmount(Money(4317)))
        run.at(State.METHOD)
        kiosk.engine.submit(ui.ChooseMethod("card"))
        run.until(lambda s: s.state is State.RECEIPT and s.receipt == "printed", 20.0)
        [receipt] = run.emulator("printer").receipts
    finally:
        kiosk.close()
    header = re.search(r"Time\s+(\d{1,2}):(\d{2}) ([AP])M \+1400", receipt.text)
    terminal = re.search(r"Date \d{2}\.\d{2} (\d{2}):(\d{2})", receipt.text)
    assert header is not None and terminal is not None, receipt.text
    hour = int(header.group(1)) % 12 + (12 if header.group(3) == "P" else 0)
    kiosk_minutes = hour * 60 + int(header.group(2))
    terminal_minutes = int(terminal.group(1)) * 60 + int(terminal.group(2))
    assert (kiosk_minutes - terminal_minutes) % (24 * 60) in (0, 1)  # a minute may turn


def test_the_metrics_file_says_how_the_kiosk_is(running: Running, tmp_path: Path) -> None:
    """node_exporter's textfile: devices, journal, payments, in service, parsed with the
    official client's parser; rewritten while the kiosk runs, and a write that fails (its
    directory gone) is logged and tried again, never the end of the kiosk."""
    from prometheus_client.parser import text_string_to_metric_families

    from composition.metrics_file import MetricsFile

    controls = running.kiosk.hardware.controls
    _to_cash(running)
    _two_twenties(running)
    controls.insert_bill(5)
    running.at(State.RECEIPT, receipt="printed")
    folder = tmp_path / "textfile"
    folder.mkdir()
    writer = MetricsFile(running.kiosk, folder / "kiosk.prom", 0.05)
    writer.write()
    text = (folder / "kiosk.prom").read_text(encoding="utf-8")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    for device in ("bill_acceptor", "card_terminal", "receipt_printer", "barcode_scanner"):
        assert samples[("kiosk_device_health", (("device", device),))] == 2
    assert samples[("kiosk_payments_total", (("method", "cash"),))] == 1
    assert samples[("kiosk_journal_last_seq", ())] == running.kiosk.journal.last_seq()
    assert samples[("kiosk_in_service", ())] == 1
    assert ("kiosk_journal_unsent", ()) not in samples  # no hub: nothing to send

    (folder / "kiosk.prom").unlink()
    folder.rmdir()
    writer.start()
    try:
        folder.mkdir()
        deadline = time.monotonic() + 10
        while not (folder / "kiosk.prom").exists():
            assert time.monotonic() < deadline, "not written again once the directory came back"
            time.sleep(0.02)
    finally:
        writer.stop()
