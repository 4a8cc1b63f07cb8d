"""Payments and faults with a JCM ID-003 bill acceptor, through the real drivers and emulators.

The kiosk is built by :func:`composition.wiring.build_kiosk` with
``bill_acceptor_protocol = "id003"``, exactly as in the field; only the hardware is
emulated. ID-003 keeps no cash box count, so these are the cases where the kiosk has
nothing but the acceptor's own statuses and the journal's intents to go by. Each test ends
by holding the journal against the emulator's counters (the hardware's truth).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from composition.wiring import build_kiosk
from contract import entries as E
from devices.emulators.id003_emulator import Phase
from devices.id003.driver import Id003Acceptor
from kiosk import crashpoints
from kiosk.config import Devices, KioskConfig, Limits, Storage
from kiosk.engine import inputs as ui
from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import Health
from tests.test_devices_faults import (
    Running,
    assert_cash_balanced,
    eventually,
    finish,
    pay_twenty_and_finish,
    to_cash,
)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    config = KioskConfig(
        storage=Storage(data_dir=tmp_path),
        limits=Limits(max_overpayment_cents=500),
        devices=Devices(bill_acceptor_protocol="id003"),
    )
    run = Running(build_kiosk(config))
    assert isinstance(run.acceptor_driver, Id003Acceptor)
    yield run
    run.kiosk.close()


def test_cash_payment_end_to_end(running: Running) -> None:
    to_cash(running)
    running.insert(20)
    running.at(State.CASH, inserted=Money(2000))
    running.insert(20)
    running.at(State.CASH, inserted=Money(4000))
    running.insert(20)  # 60.00 would pass 43.17 + 5.00: handed back
    running.until(lambda s: s.message == "bill_over_limit" and not s.bill_in_escrow)
    running.insert(5)
    done = running.at(State.RECEIPT, receipt="printed")
    assert done.amount == Money(4500)

    acceptor = running.id003_acceptor.counters()
    assert acceptor["stacked"] == {"5.00": 1, "20.00": 2}
    assert acceptor["returned"] == 1
    [payment] = running.entries(E.PAYMENT_COMPLETED)
    assert payment["amount_cents"] == 4500
    # no count on ID-003: the intents say so rather than carry a made-up number
    assert {i["cashbox_before"] for i in running.entries(E.BILL_STACK_REQUESTED)} == {None}
    assert_cash_balanced(running)


def test_cash_box_removed_mid_session(running: Running) -> None:
    to_cash(running)
    running.insert(20)
    running.at(State.CASH, inserted=Money(2000))
    running.id003_acceptor.control("cassette-remove")  # STACKER OPEN
    done = running.until(lambda s: s.state is State.RECEIPT and s.receipt == "printed")
    assert done.amount == Money(2000)  # the payment is what went in
    assert running.acceptor_driver.health().reason == "cassette_removed"
    assert "cassette_removed" in running.faults("bill_acceptor")
    finish(running)
    assert not running.latest.cash_available  # nobody is offered cash into a missing box

    running.id003_acceptor.control("cassette-replace")
    running.health_becomes("acceptor", Health.OK)
    running.journaled(E.DEVICE_NOTICE, device="bill_acceptor", kind="cassette_replaced")
    running.journaled(E.DEVICE_RECOVERED, device="bill_acceptor")
    running.until(lambda s: s.cash_available)
    to_cash(running)
    assert pay_twenty_and_finish(running).receipt == "printed"
    assert_cash_balanced(running)


def test_jam_while_stacking_settles_when_the_path_clears(running: Running) -> None:
    emulator = running.id003_acceptor
    emulator.timing.stack_polls = 8  # time to jam it mid-stack
    to_cash(running)
    running.insert(20)
    eventually(lambda: emulator.phase is Phase.STACKING, message="stacking")
    emulator.control("jam")  # JAM IN STACKER
    stopped = running.at(State.METHOD, message="cash_unavailable")
    assert not stopped.cash_available
    assert running.entries(E.BILL_STACKED) == []  # no count, no VEND VALID: still open
    assert "jam_in_stacker" in running.notices("bill_acceptor")

    assert emulator.control("clear", "cashbox") == "cleared: the note went into the cash box"
    # the acceptor holds no note once its path is clear: the stack it was told to do happened
    running.journaled(E.DEVICE_NOTICE, device="bill_acceptor", kind="jam_cleared")
    [stacked] = running.journaled(E.BILL_STACKED, denomination_cents=2000)
    assert stacked["recovered"] is True
    running.journaled(E.DEVICE_RECOVERED, device="bill_acceptor")
    running.kiosk.engine.submit(ui.Cancel())
    running.until(lambda s: s.state in (State.IDLE, State.RECEIPT))
    assert emulator.cashbox == 1
    assert running.credited_cents() == 2000
    assert_cash_balanced(running)


def test_power_up_with_bill_in_stacker_after_a_crash(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The power fails after the stack intent, with the note on its way to the box: the
    kiosk dies before it journals the outcome, the acceptor powers up with the note in its
    stacker. The restarted kiosk's recovery credits the note once, from that status and the
    intent; the acceptor's reset finishes the stack."""
    emulator = running.id003_acceptor
    emulator.timing.stack_polls = 50  # still stacking when the power goes
    driver = running.acceptor_driver
    crashed = threading.Event()
    real_hit = crashpoints.hit

    def crash_here(name: str) -> None:
        real_hit(name)
        if name == "cash.after_stack_sent" and not crashed.is_set():
            crashed.set()

    monkeypatch.setattr(crashpoints, "hit", crash_here)
    to_cash(running)
    running.insert(20)
    eventually(crashed.is_set, message="the stack sent")
    eventually(lambda: emulator.phase is Phase.STACKING, message="stacking")
    driver.close()  # the kiosk is gone: nobody polls, the note stays where it is
    monkeypatch.setattr(crashpoints, "hit", real_hit)
    assert running.entries(E.BILL_STACKED) == []
    assert "in_stacker" in emulator.control("power-cycle")

    running.restart()
    notices = running.notices("bill_acceptor")
    assert "power_up_with_bill_in_stacker" in notices
    [stacked] = running.entries(E.BILL_STACKED)
    assert stacked["recovered"] and stacked["denomination_cents"] == 2000
    [payment] = running.entries(E.PAYMENT_COMPLETED)
    assert payment["amount_cents"] == 2000
    assert emulator.cashbox == 1 and emulator.counters()["resets"] == 2
    assert_cash_balanced(running)

    running.at(State.IDLE)
    to_cash(running)  # the restarted kiosk takes the next payment
    assert pay_twenty_and_finish(running).receipt == "printed"
    assert_cash_balanced(running)


def test_power_up_with_bill_in_acceptor_after_a_crash(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The power fails after the stack intent, before the stack command left: the acceptor
    powers up with the note in it and its reset gives the note back. Nothing is credited."""
    emulator = running.id003_acceptor
    driver = running.acceptor_driver
    crashed = threading.Event()
    real_hit = crashpoints.hit

    def crash_here(name: str) -> None:
        if name == "cash.after_stack_intent" and not crashed.is_set():
            driver.close()  # the kiosk is gone before it sends the stack
            crashed.set()
        real_hit(name)

    monkeypatch.setattr(crashpoints, "hit", crash_here)
    to_cash(running)
    running.insert(20)
    eventually(crashed.is_set, message="the crash point")
    eventually(lambda: emulator.phase is Phase.ESCROW, message="note in escrow")
    monkeypatch.setattr(crashpoints, "hit", real_hit)
    assert "in_acceptor" in emulator.control("power-cycle")

    running.restart()
    assert "power_up_with_bill_in_escrow" in running.notices("bill_acceptor")
    [not_stacked] = running.entries(E.BILL_NOT_STACKED)
    assert not_stacked["denomination_cents"] == 2000
    assert running.entries(E.BILL_STACKED) == []
    assert running.entries(E.PAYMENT_COMPLETED) == []
    assert emulator.cashbox == 0 and emulator.counters()["returned"] == 1
    assert_cash_balanced(running)


def test_power_cut_mid_stack_while_the_kiosk_runs_credits_the_note_once(
    running: Running,
) -> None:
    """Only the acceptor loses power, mid-stack: it comes back with the note in its stacker,
    the driver resets it, the reset stacks the note, and the payment goes on."""
    emulator = running.id003_acceptor
    emulator.timing.stack_polls = 50
    to_cash(running)
    running.insert(20)
    eventually(lambda: emulator.phase is Phase.STACKING, message="stacking")
    assert "in_stacker" in emulator.control("power-cycle")
    running.at(State.CASH, inserted=Money(2000))
    running.journaled(E.DEVICE_NOTICE, device="bill_acceptor", kind="power_up_with_bill_in_stacker")
    emulator.timing.stack_polls = 2
    running.kiosk.engine.submit(ui.FinishCash())
    done = running.until(lambda s: s.state is State.RECEIPT and s.receipt == "printed")
    assert done.amount == Money(2000)
    assert emulator.cashbox == 1 and emulator.counters()["resets"] == 2
    assert_cash_balanced(running)
