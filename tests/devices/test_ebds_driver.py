"""The EBDS driver against the EBDS emulator over a real pseudo-terminal (no mocks).

Each test drives the emulator's controls (what a resident, a technician or bad luck does)
and checks what the driver tells the engine, and that the emulator's own counters (the
hardware's truth) agree. Waits are on events with time-outs, never fixed sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import serial

from devices.ebds.driver import AcceptorUnavailable, EbdsAcceptor, Timing
from devices.ebds.framing import FrameAssembler, parse_frame
from devices.ebds.messages import OmnibusCommand, OmnibusStatus
from devices.emulators.ebds_emulator import EbdsEmulator, EmulatorTiming, Phase
from kiosk.money import Money
from kiosk.ports import (
    AcceptorFault,
    BillEscrowed,
    BillRejected,
    BillReturned,
    BillStacked,
    DeviceHealth,
    DeviceNotice,
    Health,
)
from tests.devices.recorder import WAIT, Events, until

USD = [Money(c) for c in (100, 200, 500, 1000, 2000, 5000, 10000)]
TIMING = Timing(
    poll_interval=0.05, reply_timeout=0.1, attempts=3, query_timeout=0.3, silence_limit=0.3
)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EbdsEmulator]:
    emu = EbdsEmulator(tmp_path / "bill-acceptor", timing=EmulatorTiming(stack_polls=3))
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def events() -> Events:
    return Events()


def make_driver(emulator: EbdsEmulator, events: Events) -> EbdsAcceptor:
    driver = EbdsAcceptor(emulator.port.path, timing=TIMING, reconnect_interval=0.05)
    driver.attach(events)
    driver.open()
    assert driver.wait_ready(WAIT)
    return driver


@pytest.fixture
def acceptor(emulator: EbdsEmulator, events: Events) -> Iterator[EbdsAcceptor]:
    driver = make_driver(emulator, events)
    driver.enable(USD)
    # a note inserted before the enable reaches the device is refused, as on a real one
    until(lambda: bool(emulator.counters()["enabled"]))
    yield driver
    driver.close()


def escrow(emulator: EbdsEmulator, events: Events, dollars: str) -> Money:
    bill = Money.parse(dollars)
    emulator.control("insert", dollars)
    events.wait_for(BillEscrowed(bill))
    return bill


# --- the resident's path --------------------------------------------------------------------


def test_escrowed_then_stacked_is_credited_once(
    emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events
) -> None:
    bill = escrow(emulator, events, "20")
    assert acceptor.escrowed() == bill
    assert acceptor.cashbox_count() == 0
    acceptor.stack()
    events.wait_for(BillStacked(bill))
    assert emulator.stacked(bill) == 1
    assert emulator.counters()["stacked"] == {"20.00": 1}
    assert acceptor.cashbox_count() == 1 == emulator.cashbox
    assert acceptor.escrowed() is None
    assert not events.of(BillStacked)[1:] and not events.quiet(0.3)
    assert acceptor.counters()["stacked_20.00"] == 1
    assert acceptor.health() == DeviceHealth()


def test_returned_when_asked(
    emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events
) -> None:
    bill = escrow(emulator, events, "5")
    acceptor.return_bill()
    events.wait_for(BillReturned(bill))
    assert emulator.counters()["returned"] == 1
    assert emulator.cashbox == 0 == acceptor.cashbox_count()
    assert not events.of(BillStacked)


def test_disabled_denominations_are_rejected_by_the_device(
    emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events
) -> None:
    acceptor.enable([Money(100), Money(500)])
    until(lambda: emulator.history()[-1].host[3] == 0b101)  # the new mask reached the device
    emulator.control("insert", "20")
    events.wait_for(BillRejected("rejected"))
    acceptor.disable()
    until(lambda: emulator.history()[-1].host[3] == 0)
    emulator.control("insert", "1")
    events.wait_for(BillRejected("rejected"))
    assert not events.of(BillEscrowed)
    assert emulator.counters()["rejected"] == 2
    assert acceptor.counters()["rejects"] == 2


def test_counterfeit_and_cheat_are_rejected(
    emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events
) -> None:
    emulator.control("counterfeit")
    events.wait_for(BillRejected("rejected"))
    emulator.control("cheat")
    events.wait_for(DeviceNotice("bill_acceptor", "cheat_attempt"))
    events.wait_for(BillRejected("cheated"))
    assert not events.of(BillEscrowed)
    assert acceptor.counters()["cheats"] == 1


# --- the technician's path ------------------------------------------------------------------


@pytest.mark.parametrize(("clear", "in_box"), [("cashbox", 1), ("out", 0)])
def test_jam_while_stacking_is_a_fault_and_the_count_decides(
    tmp_path: Path, events: Events, clear: str, in_box: int
) -> None:
    emulator = EbdsEmulator(tmp_path / "slow-stacker", timing=EmulatorTiming(stack_polls=50))
    emulator.start()
    acceptor = make_driver(emulator, events)
    try:
        acceptor.enable(USD)
        bill = escrow(emulator, events, "20")
        before = acceptor.cashbox_count()
        acceptor.stack()
        until(lambda: emulator.phase is Phase.STACKING)
        emulator.control("jam")
        events.wait_for(AcceptorFault("jam"))
        assert acceptor.health() == DeviceHealth(Health.FAULT, "jam")
        assert acceptor.cashbox_count() == before  # what the engine settles the stack by
        emulator.control("clear", clear)
        events.wait_for(DeviceNotice("bill_acceptor", "jam_cleared"))
        assert acceptor.health() == DeviceHealth()
        assert acceptor.cashbox_count() == before + in_box == emulator.cashbox
        events.wait_for(DeviceNotice("bill_acceptor", "bill_left_path_unreported", "20.00"))
        assert not events.of(BillStacked), "no credit without the device's stacked report"
        assert acceptor.counters()["jams"] == 1
        assert bill == Money(2000)
    finally:
        acceptor.close()
        emulator.stop()


def test_cassette_removed_and_replaced(
    emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events
) -> None:
    emulator.control("cassette-remove")
    events.wait_for(AcceptorFault("cassette_removed"))
    assert acceptor.health() == DeviceHealth(Health.FAULT, "cassette_removed")
    with pytest.raises(ValueError, match="out of service"):
        emulator.control("insert", "20")
    emulator.control("cassette-replace")
    events.wait_for(DeviceNotice("bill_acceptor", "cassette_replaced"))
    assert acceptor.health() == DeviceHealth()
    escrow(emulator, events, "20")
    assert len(events.of(AcceptorFault)) == 1


def test_stacker_full(emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events) -> None:
    emulator.control("cassette-full")
    events.wait_for(AcceptorFault("stacker_full"))
    assert acceptor.health() == DeviceHealth(Health.FAULT, "stacker_full")
    assert not acceptor.health().usable
    emulator.control("cassette-replace")
    events.wait_for(DeviceNotice("bill_acceptor", "stacker_full_cleared"))
    assert acceptor.health() == DeviceHealth()


def test_failure_and_recovery(
    emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events
) -> None:
    emulator.control("fail")
    events.wait_for(AcceptorFault("failure"))
    emulator.control("clear")
    events.wait_for(DeviceNotice("bill_acceptor", "failure_cleared"))
    assert acceptor.health() == DeviceHealth()


# --- power, cables and noise ----------------------------------------------------------------


def test_power_up_with_a_bill_in_escrow_returns_it_uncredited(
    emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events
) -> None:
    emulator.control("power-cycle", "with-escrow", "50")
    events.wait_for(DeviceNotice("bill_acceptor", "power_up_with_bill_in_escrow", "50.00"))
    events.wait_for(BillReturned(Money(5000)))
    assert not events.of(BillEscrowed) and not events.of(BillStacked)
    assert emulator.counters()["returned"] == 1 and emulator.cashbox == 0
    assert acceptor.health() == DeviceHealth()


def test_power_cycle_mid_session_returns_the_escrowed_bill(
    emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events
) -> None:
    bill = escrow(emulator, events, "10")
    emulator.control("power-cycle")
    events.wait_for(DeviceNotice("bill_acceptor", "power_up_with_bill_in_escrow", "10.00"))
    events.wait_for(BillReturned(bill))
    assert emulator.cashbox == 0 and not events.of(BillStacked)


def test_power_cycle_while_stacking_still_credits_the_stacked_bill(
    tmp_path: Path, events: Events
) -> None:
    emulator = EbdsEmulator(tmp_path / "stacker", timing=EmulatorTiming(stack_polls=30))
    emulator.start()
    acceptor = make_driver(emulator, events)
    try:
        acceptor.enable(USD)
        bill = escrow(emulator, events, "100")
        acceptor.stack()
        until(lambda: emulator.phase is Phase.STACKING)
        emulator.control("power-cycle")
        events.wait_for(DeviceNotice("bill_acceptor", "power_up_with_bill_in_path", "100.00"))
        events.wait_for(BillStacked(bill))  # policy B: the device finishes and reports it
        assert emulator.cashbox == 1
    finally:
        acceptor.close()
        emulator.stop()


def test_plain_power_up_is_a_notice(
    emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events
) -> None:
    emulator.control("power-cycle")
    events.wait_for(DeviceNotice("bill_acceptor", "power_up"))
    assert acceptor.health() == DeviceHealth()
    assert acceptor.counters()["power_ups"] == 1


def test_unplug_and_replug_mid_session(
    emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events
) -> None:
    bill = escrow(emulator, events, "20")
    emulator.control("unplug")
    events.wait_for(AcceptorFault("disconnected"))
    assert acceptor.health() == DeviceHealth(Health.FAULT, "disconnected")
    with pytest.raises(AcceptorUnavailable):
        acceptor.cashbox_count()
    acceptor.stack()  # the engine decided while the cable was out: it goes out when back
    emulator.control("replug")
    events.wait_for(DeviceNotice("bill_acceptor", "reconnected"))
    events.wait_for(BillStacked(bill))
    assert acceptor.health() == DeviceHealth()
    assert emulator.stacked(bill) == 1 and acceptor.cashbox_count() == 1
    assert len(events.of(AcceptorFault)) == 1
    assert acceptor.counters()["reconnects"] == 1


def test_garbage_and_bad_checksums_are_counted_and_skipped(
    emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events
) -> None:
    emulator.control("garbage", "2")
    until(lambda: emulator.counters()["replies_garbled"] == 2)
    bill = escrow(emulator, events, "1")
    acceptor.stack()
    events.wait_for(BillStacked(bill))
    counts = acceptor.counters()
    assert counts["bad_checksums"] >= 2 and counts["garbage_bytes"] >= 10
    assert counts["retries"] >= 2
    assert not events.of(AcceptorFault)  # a retry or two is not a fault


def test_ack_toggles_and_a_lost_reply_is_asked_for_again(
    emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events
) -> None:
    until(lambda: len(emulator.history()) >= 4)
    emulator.control("drop", "1")
    until(lambda: any(x.fate == "dropped" for x in emulator.history()))
    lost = next(i for i, x in enumerate(emulator.history()) if x.fate == "dropped")
    until(lambda: len(emulator.history()) > lost + 2)
    history = emulator.history()
    again = history[lost + 1]
    assert again.host == history[lost].host  # the same bytes, the same ACK bit
    assert again.repeated and again.reply == history[lost].reply and again.fate == "sent"
    # every new message toggles the ACK bit (the device would take it for a repeat
    # otherwise): the one resend after the loss is the only repeat the device saw
    assert [x for x in history if x.repeated] == [again]
    acks = [parse_frame(x.host).ack for x in history]  # type: ignore[union-attr]
    assert acks[lost - 1] != acks[lost] == acks[lost + 1] != acks[lost + 2]
    assert acceptor.counters()["retries"] >= 1


def test_a_lost_stacked_report_is_recovered_not_repeated(
    emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events
) -> None:
    bill = escrow(emulator, events, "20")
    emulator.control("drop", "stacked")
    acceptor.stack()
    events.wait_for(BillStacked(bill))
    assert any(x.fate == "dropped" for x in emulator.history())
    assert not events.quiet(0.3)
    assert len(events.of(BillStacked)) == 1 and emulator.cashbox == 1


def test_slow_replies_are_waited_for_or_retried(
    emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events
) -> None:
    emulator.control("slow", "150")  # longer than the driver's 100 ms reply time-out
    bill = escrow(emulator, events, "2")
    acceptor.stack()
    events.wait_for(BillStacked(bill))
    emulator.control("slow", "0")
    assert acceptor.counters()["retries"] >= 1
    assert len(events.of(BillStacked)) == 1 and emulator.cashbox == 1


# --- restarts -------------------------------------------------------------------------------


class RawHost:
    """The previous kiosk process, speaking EBDS by hand through pyserial."""

    def __init__(self, path: str) -> None:
        self.serial = serial.Serial(path, 9600, timeout=0.05)
        self.assembler = FrameAssembler()
        self.ack = 0

    def poll(self, stack: bool = False) -> tuple[int, OmnibusStatus]:
        """One omnibus command (all notes enabled); returns (its ACK bit, the reply)."""
        ack, self.ack = self.ack, self.ack ^ 1
        self.serial.write(OmnibusCommand(enable_mask=0x7F, stack=stack).encode(ack))
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            for frame in self.assembler.feed(self.serial.read(64)):
                status = OmnibusStatus.decode(frame)
                if status is not None and frame.ack == ack:
                    return ack, status
        pytest.fail("the emulator did not answer")

    def until(self, wanted: Callable[[OmnibusStatus], bool], stack: bool = False) -> int:
        for _ in range(50):
            ack, status = self.poll(stack)
            if wanted(status):
                return ack
        pytest.fail("the emulator never got there")


def test_a_restarted_driver_does_not_act_on_a_stale_repeat(
    emulator: EbdsEmulator, events: Events
) -> None:
    """The device answers a repeated ACK bit with its last reply: a new process must not
    credit a stacked report that its predecessor received (and may have acted on)."""
    host = RawHost(emulator.port.path)
    host.poll()
    emulator.control("insert", "20")
    host.until(lambda s: s.escrowed)
    last_ack = host.until(lambda s: s.stacked, stack=True)
    host.serial.close()  # the process dies right after the stacked report
    seen_before = len(emulator.history())
    restarted = EbdsAcceptor(emulator.port.path, timing=TIMING, reconnect_interval=0.05)
    restarted._ack = last_ack  # the worst case: it starts on the same ACK bit
    restarted.attach(events)
    restarted.open()
    try:
        assert restarted.wait_ready(WAIT)
        first = emulator.history()[seen_before]
        assert first.repeated and first.reply is not None
        stale = OmnibusStatus.decode(parse_frame(first.reply))  # type: ignore[arg-type]
        assert stale is not None and stale.stacked  # the stale report did come back
        assert not events.quiet(0.3)
        assert not events.of(BillStacked)
        assert restarted.cashbox_count() == 1 == emulator.cashbox  # recovery settles by count
    finally:
        restarted.close()


def test_a_bill_left_in_escrow_by_a_previous_run_is_reported(
    emulator: EbdsEmulator, acceptor: EbdsAcceptor, events: Events
) -> None:
    bill = escrow(emulator, events, "5")
    acceptor.close()
    later = Events()
    restarted = make_driver(emulator, later)
    try:
        assert restarted.escrowed() == bill  # what recovery asks before the engine starts
        later.wait_for(BillEscrowed(bill))
        restarted.return_bill()
        later.wait_for(BillReturned(bill))
    finally:
        restarted.close()


def test_events_before_attach_are_kept(emulator: EbdsEmulator) -> None:
    emulator.control("power-cycle")
    driver = EbdsAcceptor(emulator.port.path, timing=TIMING)
    driver.open()
    try:
        assert driver.wait_ready(WAIT)
        events = Events()
        driver.attach(events)
        events.wait_for(DeviceNotice("bill_acceptor", "power_up"))
    finally:
        driver.close()
    assert driver.health() == DeviceHealth(Health.FAULT, "closed")
    with pytest.raises(AcceptorUnavailable):
        driver.cashbox_count()


def test_a_missing_device_is_reported_disconnected(tmp_path: Path) -> None:
    events = Events()
    driver = EbdsAcceptor(str(tmp_path / "nothing"), timing=TIMING, reconnect_interval=0.05)
    driver.attach(events)
    driver.open()
    try:
        events.wait_for(AcceptorFault("disconnected"))
        assert not driver.wait_ready(0.2)
        assert driver.health().state is Health.FAULT
        with pytest.raises(AcceptorUnavailable):
            driver.cashbox_count()
    finally:
        driver.close()
