"""Device faults in the middle of payments, through the real drivers and the emulators.

The kiosk is assembled by :func:`composition.wiring.build_kiosk` exactly as in the field (engine on
its thread, journal with ``synchronous=FULL``, EBDS / ESC/POS / scanner drivers over real
pseudo-terminals); only the hardware is emulated, and the faults are the emulators' own
controls: the cash box pulled, the stacker full, a jam, a power cut, paper out, cables pulled.

Every fault must end in a defined outcome, and every test ends by holding the journal against
the hardware's truth (:func:`assert_cash_balanced`): the bills the journal credits are,
denomination by denomination, the bills the emulator counted into its cash box, each credited
once, and the hash chain verifies.

Nothing here sleeps for a fixed time: each step waits, with a time-out, for the snapshot,
the journal, a driver's health or the emulator to say what the test expects.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from composition.hardware import READY_TIMEOUT, Hardware
from composition.wiring import JOURNAL_FILE, Kiosk, build_kiosk, data_dir
from contract import entries as E
from devices.ebds.driver import EbdsAcceptor
from devices.emulators.ebds_emulator import EbdsEmulator, Phase
from devices.emulators.escpos_emulator import EscposEmulator
from devices.emulators.id003_emulator import Id003Emulator
from devices.emulators.scanner_emulator import ScannerEmulator
from devices.id003.driver import Id003Acceptor
from kiosk import crashpoints
from kiosk.bill_stub import make_stub_code
from kiosk.clock import SystemClock
from kiosk.config import KioskConfig, Limits, Storage
from kiosk.engine import inputs as ui
from kiosk.engine.machine import PaymentEngine
from kiosk.engine.snapshot import Snapshot
from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import Health
from kiosk.recovery import recover
from kiosk.store.journal import Journal

ACCOUNT = "100200302"  # demo account, balance 43.17
BALANCE = Money(4317)
WAIT = 10.0
"""Seconds any one step may take before the test fails (generous: a loaded 2-core box)."""


def eventually(what: Callable[[], bool], timeout: float = WAIT, message: str = "") -> None:
    """Wait until ``what()`` holds, checking every 10 ms; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {message or what}")
        time.sleep(0.01)


class Running:
    """A kiosk from build_kiosk, its engine started, and what the test needs to watch it."""

    def __init__(self, kiosk: Kiosk) -> None:
        self.changed = threading.Condition()
        self._attach(kiosk)

    def _attach(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk
        self.latest: Snapshot = kiosk.engine.snapshot
        kiosk.engine.subscribe(self._seen)
        kiosk.engine.start()

    def _seen(self, snapshot: Snapshot) -> None:
        with self.changed:
            self.latest = snapshot
            self.changed.notify_all()

    # ------------------------------------------------------------------ waiting
    def until(self, what: Callable[[Snapshot], bool], timeout: float = WAIT) -> Snapshot:
        with self.changed:
            assert self.changed.wait_for(lambda: what(self.latest), timeout), self.latest
            return self.latest

    def at(self, state: State, **want: object) -> Snapshot:
        return self.until(
            lambda s: s.state is state and all(getattr(s, k) == v for k, v in want.items())
        )

    def journaled(self, type_: str, count: int = 1, **want: object) -> list[dict[str, Any]]:
        """Wait until ``count`` entries of ``type_`` (with the given payload values) exist."""

        def matching() -> list[dict[str, Any]]:
            return [p for p in self.entries(type_) if all(p.get(k) == v for k, v in want.items())]

        eventually(lambda: len(matching()) >= count, message=f"{count} x {type_} {want}")
        return matching()

    # ------------------------------------------------------------------ the devices
    @property
    def acceptor(self) -> EbdsEmulator:
        """The EBDS emulator (``id003_acceptor`` for the other protocol)."""
        emulator = self.kiosk.hardware.controls.emulators["bill-acceptor"]
        assert isinstance(emulator, EbdsEmulator)
        return emulator

    @property
    def id003_acceptor(self) -> Id003Emulator:
        emulator = self.kiosk.hardware.controls.emulators["bill-acceptor"]
        assert isinstance(emulator, Id003Emulator)
        return emulator

    @property
    def any_acceptor(self) -> EbdsEmulator | Id003Emulator:
        """The acceptor's emulator, whichever protocol it speaks."""
        emulator = self.kiosk.hardware.controls.emulators["bill-acceptor"]
        assert isinstance(emulator, EbdsEmulator | Id003Emulator)
        return emulator

    @property
    def acceptor_counters(self) -> dict[str, Any]:
        """The hardware's truth, whichever protocol the acceptor speaks."""
        return self.any_acceptor.counters()

    @property
    def printer(self) -> EscposEmulator:
        emulator = self.kiosk.hardware.controls.emulators["printer"]
        assert isinstance(emulator, EscposEmulator)
        return emulator

    @property
    def scanner(self) -> ScannerEmulator:
        emulator = self.kiosk.hardware.controls.emulators["scanner"]
        assert isinstance(emulator, ScannerEmulator)
        return emulator

    @property
    def acceptor_driver(self) -> EbdsAcceptor | Id003Acceptor:
        driver = self.kiosk.hardware.ports.acceptor
        assert isinstance(driver, EbdsAcceptor | Id003Acceptor)
        return driver

    def health(self, device: str) -> Health:
        ports = self.kiosk.hardware.ports
        if device == "acceptor":
            return ports.acceptor.health().state
        if device == "printer":
            return ports.printer.health().state
        assert device == "scanner"
        return ports.scanner.health().state

    def health_becomes(self, device: str, state: Health) -> None:
        eventually(lambda: self.health(device) is state, message=f"{device} health {state}")

    def insert(self, dollars: int) -> None:
        """Push a note in once the acceptor can draw one: not still busy with the last, and
        told by the host to take it (a note offered before the driver's first enabling poll
        is refused, as a real acceptor refuses it)."""

        def ready() -> bool:
            counters = self.acceptor_counters
            if counters["phase"] != "idle":
                return False
            if "enabled" in counters:  # EBDS: the notes the host's last poll allows
                return f"{dollars}.00" in counters["enabled"]
            return not counters["inhibited"]  # ID-003: inhibit set or not

        eventually(ready, message=f"acceptor idle and taking ${dollars}")
        self.kiosk.hardware.controls.insert_bill(dollars)

    # ------------------------------------------------------------------ the journal
    def entries(self, type_: str) -> list[dict[str, Any]]:
        return [dict(e.payload) for e in self.kiosk.journal.entries() if e.type == type_]

    def notices(self, device: str) -> list[str]:
        return [str(p["kind"]) for p in self.entries(E.DEVICE_NOTICE) if p["device"] == device]

    def faults(self, device: str) -> list[str]:
        return [str(p["reason"]) for p in self.entries(E.DEVICE_FAULT) if p["device"] == device]

    def credited_cents(self) -> int:
        return sum(int(b["denomination_cents"]) for b in self.entries(E.BILL_STACKED))

    # ------------------------------------------------------------------ a restart
    def restart(self) -> None:
        """The kiosk's process dies and starts again; the hardware keeps its state.

        ``build_kiosk`` would start fresh emulators, which is a different cash box. So the
        restart is made by hand, the way build_kiosk does it, over the *same* emulators: the
        engine and the bill acceptor's driver are gone (the caller already closed the
        driver at the moment of the "crash", so the host stopped polling there), the journal
        is closed and opened again from its file, a new driver of the same kind opens the acceptor's
        port, ``kiosk.started`` is journaled, recovery runs, and a fresh engine takes over.
        The printer and scanner drivers are kept: nothing in these scenarios depends on them.
        """
        old = self.kiosk
        old.engine.stop()
        self.acceptor_driver.close()
        old.journal.close()
        config = old.config
        journal = Journal.open(data_dir(config) / JOURNAL_FILE)
        acceptor = type(self.acceptor_driver)(self.any_acceptor.port.path)
        acceptor.open()
        closers = [*old.hardware.closers, acceptor.close]
        old.hardware.closers.clear()
        hardware = Hardware(
            dataclasses.replace(old.hardware.ports, acceptor=acceptor),
            old.hardware.controls,
            closers,
        )
        assert acceptor.wait_ready(READY_TIMEOUT)
        journal.append(E.KIOSK_STARTED, {"version": "test", "kiosk_id": "restarted"})
        clock = SystemClock()
        report = recover(journal, hardware.ports, config, clock)
        engine = PaymentEngine(config, journal, hardware.ports, clock)
        self._attach(Kiosk(config, journal, hardware, engine, report))


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    config = KioskConfig(
        storage=Storage(data_dir=tmp_path), limits=Limits(max_overpayment_cents=500)
    )
    run = Running(build_kiosk(config))
    yield run
    run.kiosk.close()


def to_cash(run: Running, amount: Money = BALANCE) -> None:
    """Scan the stub, confirm, choose ``amount`` and cash: the acceptor is enabled."""
    run.kiosk.hardware.controls.scan(make_stub_code(ACCOUNT, BALANCE))
    run.at(State.CONFIRM_ACCOUNT)
    run.kiosk.engine.submit(ui.ConfirmAccount())
    run.at(State.AMOUNT)
    run.kiosk.engine.submit(ui.ChooseAmount(amount))
    run.at(State.METHOD)
    run.kiosk.engine.submit(ui.ChooseMethod("cash"))
    run.at(State.CASH)


def pay_twenty_and_finish(run: Running) -> Snapshot:
    """From the cash screen: one $20 note, then Done; waits for the receipt's outcome."""
    before = run.latest.inserted
    run.insert(20)
    run.at(State.CASH, inserted=before + Money(2000))
    run.kiosk.engine.submit(ui.FinishCash())
    return run.until(lambda s: s.state is State.RECEIPT and s.receipt in ("printed", "failed"))


def finish(run: Running) -> None:
    """The resident presses Done on the receipt screen."""
    run.kiosk.engine.submit(ui.Finish())
    run.at(State.IDLE)


def assert_cash_balanced(run: Running) -> None:
    """The journal against the hardware's truth: rule 5 for cash, and the chain verifies."""
    hardware = run.acceptor_counters
    stacked = run.entries(E.BILL_STACKED)
    credited = Counter(Money(int(b["denomination_cents"])).plain() for b in stacked)
    assert dict(credited) == hardware["stacked"], (credited, hardware)
    assert len(stacked) == hardware["cashbox"], (stacked, hardware)
    bill_ids = [b["bill_id"] for b in stacked]
    assert len(set(bill_ids)) == len(bill_ids), "a bill credited twice"
    intents = [b["intent_seq"] for b in stacked if b["intent_seq"] is not None]
    assert len(set(intents)) == len(intents), "an intent settled twice"
    paid = sum(int(p["cash_cents"]) for p in run.entries(E.PAYMENT_COMPLETED))
    assert paid == run.credited_cents(), "cash credited outside a payment"
    report = run.kiosk.journal.verify()
    assert report.ok, report.problem


# ---------------------------------------------------------------------------- the cash box


@pytest.mark.parametrize(
    ("fault", "reason", "cleared"),
    [
        ("cassette-remove", "cassette_removed", "cassette_replaced"),
        ("cassette-full", "stacker_full", "stacker_full_cleared"),
    ],
)
def test_cash_box_fault_after_a_bill_completes_with_what_was_stacked(
    running: Running, fault: str, reason: str, cleared: str
) -> None:
    to_cash(running)
    running.insert(20)
    running.at(State.CASH, inserted=Money(2000))

    running.acceptor.control(fault)
    done = running.until(lambda s: s.state is State.RECEIPT and s.receipt == "printed")
    assert done.amount == Money(2000)  # the payment is what went in, not what was chosen
    assert running.acceptor_driver.health().reason == reason
    assert running.health("acceptor") is Health.FAULT
    assert reason in running.faults("bill_acceptor")
    [payment] = running.entries(E.PAYMENT_COMPLETED)
    assert payment["amount_cents"] == payment["cash_cents"] == 2000
    finish(running)
    assert not running.latest.cash_available  # nobody is offered cash into a missing box

    running.acceptor.control("cassette-replace")
    running.health_becomes("acceptor", Health.OK)
    running.journaled(E.DEVICE_NOTICE, device="bill_acceptor", kind=cleared)
    running.until(lambda s: s.cash_available)

    to_cash(running)  # the next resident can pay cash again
    second = pay_twenty_and_finish(running)
    assert second.receipt == "printed" and second.amount == Money(2000)
    finish(running)
    assert running.acceptor.counters()["stacked"] == {"20.00": 2}
    assert_cash_balanced(running)


# ---------------------------------------------------------------------------- jams


def test_jam_while_stacking_with_the_note_still_in_the_path_credits_nothing(
    running: Running,
) -> None:
    """The stack was sent, the note jams before the box: the unchanged count says so."""
    running.acceptor.timing.stack_polls = 50  # the note takes 5 s to stack: time to jam it
    to_cash(running)
    running.insert(20)
    eventually(lambda: running.acceptor.phase is Phase.STACKING, message="stacking")
    running.acceptor.control("jam")

    # no money in: back to the method screen, cash no longer offered
    stopped = running.at(State.METHOD, message="cash_unavailable")
    assert not stopped.cash_available
    # the note is still in the path: its fate is open until the path is cleared
    assert running.entries(E.BILL_NOT_STACKED) == []
    assert running.entries(E.BILL_STACKED) == []
    assert running.acceptor.cashbox == 0
    assert running.acceptor_driver.health().reason == "jam"

    # the technician pulls the note out of the path and hands it back
    running.acceptor.timing.stack_polls = 2
    assert "taken out" in running.acceptor.control("clear", "out")
    running.health_becomes("acceptor", Health.OK)
    running.journaled(E.DEVICE_NOTICE, device="bill_acceptor", kind="jam_cleared")
    running.journaled(E.BILL_NOT_STACKED, reason="jam_cleared")
    [not_stacked] = running.entries(E.BILL_NOT_STACKED)
    [intent] = running.entries(E.BILL_STACK_REQUESTED)
    assert not_stacked["bill_id"] == intent["bill_id"]
    assert running.acceptor.cashbox == 0

    running.until(lambda s: s.cash_available)
    running.kiosk.engine.submit(ui.ChooseMethod("cash"))  # the same resident goes on
    running.at(State.CASH)
    paid = pay_twenty_and_finish(running)
    assert paid.amount == Money(2000)
    assert_cash_balanced(running)


def test_jam_reported_after_the_note_reached_the_box_is_credited(running: Running) -> None:
    """The note drops into the box and the path jams before the device could report it.

    The jam, a technician's "clear into the cash box" and a second jam happen between two
    polls, so the driver's next poll sees a jammed acceptor whose cash box count grew and no
    stacked report: the engine settles the stack intent by the count and credits the note.
    """
    acceptor = running.acceptor
    acceptor.timing.stack_polls = 50
    to_cash(running)
    running.insert(20)
    eventually(lambda: acceptor.phase is Phase.STACKING, message="stacking")
    polls = acceptor.counters()["polls"]
    eventually(lambda: acceptor.counters()["polls"] > polls, message="a poll")  # 100 ms ahead
    acceptor.control("jam")
    assert "cash box" in acceptor.control("clear", "cashbox")
    acceptor.control("jam")

    done = running.until(lambda s: s.state is State.RECEIPT and s.receipt == "printed")
    assert done.amount == Money(2000)
    [stacked] = running.entries(E.BILL_STACKED)
    [intent] = running.entries(E.BILL_STACK_REQUESTED)
    assert stacked["recovered"] is True and stacked["bill_id"] == intent["bill_id"]
    assert running.entries(E.BILL_NOT_STACKED) == []
    assert acceptor.cashbox == 1

    acceptor.timing.stack_polls = 2
    acceptor.control("clear")
    running.health_becomes("acceptor", Health.OK)
    running.journaled(E.DEVICE_NOTICE, device="bill_acceptor", kind="jam_cleared")
    finish(running)
    assert_cash_balanced(running)


def test_jam_while_stacking_cleared_into_the_box_is_credited(running: Running) -> None:
    """Credited iff the cash box count grew, whenever it grows: here after the jam clears."""
    running.acceptor.timing.stack_polls = 50
    to_cash(running)
    running.insert(20)
    eventually(lambda: running.acceptor.phase is Phase.STACKING, message="stacking")
    running.acceptor.control("jam")
    running.at(State.METHOD)  # settled at the jam: the count had not grown yet

    running.acceptor.timing.stack_polls = 2
    running.acceptor.control("clear")  # the technician finishes the stack by hand
    assert running.acceptor.cashbox == 1
    running.journaled(E.DEVICE_NOTICE, device="bill_acceptor", kind="jam_cleared")
    running.kiosk.engine.submit(ui.Cancel())
    running.until(lambda s: s.state in (State.IDLE, State.RECEIPT))
    # the count that settles the note is a device call: it may answer after the cancel (the
    # bill is then paid late, to the same account), so wait for its entry, not for a screen
    [stacked] = running.journaled(E.BILL_STACKED)
    assert stacked["recovered"] is True
    assert running.credited_cents() == 2000
    assert_cash_balanced(running)


# ---------------------------------------------------------------------------- power


def test_power_cycle_with_a_bill_in_escrow_returns_it(running: Running) -> None:
    to_cash(running)  # cash screen, nothing inserted yet
    running.acceptor.control("power-cycle", "with-escrow", "20")

    returned = running.journaled(E.BILL_RETURNED, denomination_cents=2000)
    notices = running.journaled(
        E.DEVICE_NOTICE, device="bill_acceptor", kind="power_up_with_bill_in_escrow"
    )
    assert notices[0]["detail"] == "20.00"
    assert returned[0]["session_id"] == running.latest.session_id
    assert running.entries(E.BILL_STACKED) == []
    counters = running.acceptor.counters()
    assert counters["returned"] == 1 and counters["cashbox"] == 0
    snapshot = running.at(State.CASH, inserted=Money(0))  # the resident can go on
    assert snapshot.cash_available

    paid = pay_twenty_and_finish(running)
    assert paid.amount == Money(2000) and paid.receipt == "printed"
    assert_cash_balanced(running)


# ---------------------------------------------------------------------------- restarts


def test_restart_after_the_stack_intent_returns_the_bill(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies between the stack intent and the stack command reaching the device.

    The crash point the SIGKILL crash test uses is borrowed: there, on the engine thread,
    the acceptor's driver is closed, so the host stops polling and the note stays in escrow,
    as it would with the process gone. The kiosk then restarts over the same emulators.
    """
    driver = running.acceptor_driver
    crashed = threading.Event()
    real_hit = crashpoints.hit

    def crash_here(name: str) -> None:
        if name == "cash.after_stack_intent" and not crashed.is_set():
            driver.close()
            crashed.set()
        real_hit(name)

    monkeypatch.setattr(crashpoints, "hit", crash_here)
    to_cash(running)
    running.insert(20)
    eventually(crashed.is_set, message="the crash point")
    eventually(lambda: running.acceptor.phase is Phase.ESCROWED, message="note in escrow")
    monkeypatch.setattr(crashpoints, "hit", real_hit)

    running.restart()
    report = "\n".join(running.kiosk.recovery.lines())
    assert "not stacked; returned to the customer" in report
    [not_stacked] = running.entries(E.BILL_NOT_STACKED)
    assert not_stacked["reason"] == "not stacked before the restart"
    assert any(r.get("recovered") for r in running.entries(E.BILL_RETURNED))
    assert running.acceptor.counters()["returned"] == 1
    assert running.entries(E.PAYMENT_COMPLETED) == []  # nothing went in: nothing to pay
    assert [e["outcome"] for e in running.entries(E.SESSION_ENDED)] == ["recovered"]

    running.at(State.IDLE)
    to_cash(running)  # the restarted kiosk takes the next payment
    assert pay_twenty_and_finish(running).receipt == "printed"
    assert_cash_balanced(running)


def test_restart_while_the_device_is_stacking_credits_the_bill(running: Running) -> None:
    """The process dies after the stack command went out; the device is still stacking."""
    running.acceptor.timing.stack_polls = 6  # 600 ms of polls to finish, after the restart too
    to_cash(running)
    running.insert(20)
    eventually(lambda: running.acceptor.phase is Phase.STACKING, message="stacking")
    running.acceptor_driver.close()
    assert running.acceptor.phase is Phase.STACKING, "stacked before the crash: rerun"

    running.restart()
    eventually(lambda: running.acceptor.phase is Phase.IDLE, message="the stack finishing")
    assert running.acceptor.cashbox == 1
    assert running.credited_cents() == 2000
    assert_cash_balanced(running)


# ---------------------------------------------------------------------------- the printer


def test_paper_out_before_the_receipt_then_paper_in(running: Running) -> None:
    running.printer.controls()["paper-out"].handler([])
    running.health_becomes("printer", Health.FAULT)  # the driver's idle status poll sees it
    running.journaled(E.DEVICE_FAULT, device="receipt_printer", reason="paper_out")

    to_cash(running)
    done = pay_twenty_and_finish(running)
    assert done.receipt == "failed"
    assert done.confirmation  # shown on screen (with its QR code) instead
    [failed] = running.entries(E.RECEIPT_FAILED)
    assert failed["reason"] == "paper_out" and failed["confirmation"] == done.confirmation
    [payment] = running.entries(E.PAYMENT_COMPLETED)
    assert payment["confirmation"] == done.confirmation and payment["amount_cents"] == 2000
    assert running.printer.receipts == [] and running.printer.cut_short == []  # nothing sent
    finish(running)

    running.printer.controls()["paper-in"].handler([])
    running.health_becomes("printer", Health.OK)
    running.journaled(E.DEVICE_RECOVERED, device="receipt_printer")

    to_cash(running)
    again = pay_twenty_and_finish(running)
    assert again.receipt == "printed"
    [receipt] = running.printer.receipts
    assert receipt.confirmation == again.confirmation
    assert_cash_balanced(running)


@pytest.mark.parametrize("replug_before_receipt", [True, False], ids=["replugged", "unplugged"])
def test_printer_unplugged_and_replugged_mid_session(
    running: Running, replug_before_receipt: bool
) -> None:
    to_cash(running)
    running.insert(20)
    running.at(State.CASH, inserted=Money(2000))
    running.printer.controls()["unplug"].handler([])
    running.health_becomes("printer", Health.FAULT)
    running.journaled(E.DEVICE_FAULT, device="receipt_printer", reason="disconnected")
    assert running.latest.state is State.CASH  # the payment does not care

    if replug_before_receipt:
        running.printer.controls()["replug"].handler([])
        running.health_becomes("printer", Health.OK)
    done = pay_twenty_and_finish(running)
    assert done.amount == Money(4000)
    assert done.confirmation
    if replug_before_receipt:
        assert done.receipt == "printed"
        [receipt] = running.printer.receipts
        assert receipt.confirmation == done.confirmation
    else:
        assert done.receipt == "failed"
        [failed] = running.entries(E.RECEIPT_FAILED)
        assert failed["reason"] == "disconnected"
        running.printer.controls()["replug"].handler([])
        running.health_becomes("printer", Health.OK)
    running.journaled(E.DEVICE_NOTICE, device="receipt_printer", kind="reconnected")
    running.journaled(E.DEVICE_RECOVERED, device="receipt_printer")
    [payment] = running.entries(E.PAYMENT_COMPLETED)
    assert payment["amount_cents"] == 4000
    assert_cash_balanced(running)


# ------------------------------------------------------------- faults and recoveries


def fault_then_recovery(run: Running, device: str) -> list[tuple[str, str]]:
    """What the journal says of ``device``'s faults and recoveries, in order."""
    said = []
    for entry in run.kiosk.journal.entries():
        if entry.type in (E.DEVICE_FAULT, E.DEVICE_RECOVERED) and entry.payload["device"] == device:
            said.append((entry.type, str(entry.payload.get("reason", ""))))
    return said


@pytest.mark.parametrize(
    ("emulator", "device", "fault", "fix", "reason", "shown"),
    [
        (
            "acceptor",
            "bill_acceptor",
            "cassette-remove",
            "cassette-replace",
            "cassette_removed",
            "cash_available",
        ),
        (
            "acceptor",
            "bill_acceptor",
            "cassette-full",
            "cassette-replace",
            "stacker_full",
            "cash_available",
        ),
        ("acceptor", "bill_acceptor", "jam", "clear", "jam", "cash_available"),
        ("acceptor", "bill_acceptor", "unplug", "replug", "disconnected", "cash_available"),
        ("printer", "receipt_printer", "paper-out", "paper-in", "paper_out", "printer_available"),
        ("printer", "receipt_printer", "unplug", "replug", "disconnected", "printer_available"),
        ("scanner", "scanner", "unplug", "replug", "disconnected", None),
    ],
)
def test_a_fault_is_journaled_once_and_its_recovery_after_it(
    running: Running,
    emulator: str,
    device: str,
    fault: str,
    fix: str,
    reason: str,
    shown: str | None,
) -> None:
    """Each fault the emulators can make reaches the journal (for the hub's alert) and so
    does its end; the snapshot follows the device's health with no other event needed."""
    controls = getattr(running, emulator).controls()
    controls[fault].handler([])
    running.health_becomes(emulator, Health.FAULT)
    running.journaled(E.DEVICE_FAULT, device=device, reason=reason)
    if shown is not None:
        running.until(lambda s: getattr(s, shown) is False)
    controls[fix].handler([])
    running.health_becomes(emulator, Health.OK)
    running.journaled(E.DEVICE_RECOVERED, device=device)
    if shown is not None:
        running.until(lambda s: getattr(s, shown) is True)
    assert fault_then_recovery(running, device) == [
        (E.DEVICE_FAULT, reason),
        (E.DEVICE_RECOVERED, ""),
    ]
    assert running.kiosk.journal.verify().ok


# ---------------------------------------------------------------------------- the scanner


def test_scanner_unplugged_and_replugged_then_a_scan_starts_a_session(running: Running) -> None:
    running.scanner.controls()["unplug"].handler([])
    running.health_becomes("scanner", Health.FAULT)
    running.journaled(E.DEVICE_FAULT, device="scanner", reason="disconnected")
    with pytest.raises(ValueError, match="unplugged"):
        running.kiosk.hardware.controls.scan(make_stub_code(ACCOUNT, BALANCE))
    assert running.latest.state is State.IDLE

    running.scanner.controls()["replug"].handler([])
    running.health_becomes("scanner", Health.OK)
    running.journaled(E.DEVICE_NOTICE, device="scanner", kind="reconnected")
    running.kiosk.hardware.controls.scan(make_stub_code(ACCOUNT, BALANCE))
    found = running.at(State.CONFIRM_ACCOUNT)
    assert found.bill_amount == BALANCE and found.account is not None
    assert len(running.entries(E.SESSION_STARTED)) == 1
    running.kiosk.engine.submit(ui.Cancel())
    running.at(State.IDLE)
    assert running.kiosk.journal.verify().ok


# ---------------------------------------------------------------------------- bad notes


@pytest.mark.parametrize(("control", "reason"), [("counterfeit", "rejected"), ("cheat", "cheated")])
def test_a_refused_note_is_journaled_and_credits_nothing(
    running: Running, control: str, reason: str
) -> None:
    to_cash(running)
    running.acceptor.control(control)
    running.journaled(E.BILL_REJECTED, reason=reason)
    rejected = running.at(State.CASH, message="bill_rejected")
    assert rejected.inserted == Money(0)
    if control == "cheat":
        running.journaled(E.DEVICE_NOTICE, device="bill_acceptor", kind="cheat_attempt")
    counters = running.acceptor.counters()
    assert counters["rejected"] == 1 and counters["cashbox"] == 0
    assert running.entries(E.BILL_ESCROWED) == [] and running.entries(E.BILL_STACKED) == []

    running.kiosk.engine.submit(ui.Cancel())  # nothing in: the resident walks away freely
    running.at(State.IDLE)
    assert running.entries(E.PAYMENT_COMPLETED) == []
    assert [e["outcome"] for e in running.entries(E.SESSION_ENDED)] == ["cancelled"]
    assert_cash_balanced(running)
