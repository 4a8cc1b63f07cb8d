"""The ID-003 driver against the ID-003 emulator over a real pseudo-terminal (no mocks), and
the tracker's rules on their own.

Each driver test works the emulator's controls (what a resident, a technician or bad luck
does) and checks what the driver tells the engine, that the bytes on the wire are the
specification's, and that the emulator's own counters (the hardware's truth) agree.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import serial

from devices.emulators.id003_emulator import VERSION, EmulatorTiming, Id003Emulator, Phase
from devices.id003.driver import Id003Acceptor, Timing
from devices.id003.framing import Frame, FrameAssembler, build_frame
from devices.id003.messages import ACK_FRAME, Status, StatusReply
from devices.id003.tracker import StatusTracker
from kiosk.money import Money
from kiosk.ports import (
    AcceptorFault,
    BillEscrowed,
    BillRejected,
    BillReturned,
    BillStacked,
    DeviceNotice,
    DeviceRecovered,
    Health,
)
from tests.devices.recorder import WAIT, Events, until

USD = [Money(c) for c in (100, 200, 500, 1000, 2000, 5000, 10000)]
TIMING = Timing(poll_interval=0.05, reply_timeout=0.1, attempts=3)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Id003Emulator]:
    emu = Id003Emulator(tmp_path / "bill-acceptor", timing=EmulatorTiming(stack_polls=3))
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def events() -> Events:
    return Events()


def make_driver(emulator: Id003Emulator, events: Events) -> Id003Acceptor:
    driver = Id003Acceptor(emulator.port.path, timing=TIMING, reconnect_interval=0.05)
    driver.attach(events)
    driver.open()
    assert driver.wait_ready(WAIT)
    return driver


def enabled(driver: Id003Acceptor, emulator: Id003Emulator) -> None:
    """Enable every note and wait until the acceptor has lifted its inhibit."""
    driver.enable(USD)
    until(lambda: not emulator.counters()["inhibited"] and emulator.phase is Phase.IDLE)


@pytest.fixture
def acceptor(emulator: Id003Emulator, events: Events) -> Iterator[Id003Acceptor]:
    driver = make_driver(emulator, events)
    enabled(driver, emulator)
    yield driver
    driver.close()


def escrow(emulator: Id003Emulator, events: Events, dollars: str) -> Money:
    bill = Money.parse(dollars)
    emulator.control("insert", dollars)
    events.wait_for(BillEscrowed(bill))
    return bill


def sent_by_host(emulator: Id003Emulator) -> list[bytes]:
    return [exchange.host for exchange in emulator.history()]


# --- start-up -------------------------------------------------------------------------------


def test_power_up_is_reset_then_set_up_then_enabled(
    emulator: Id003Emulator, events: Events
) -> None:
    driver = make_driver(emulator, events)
    try:
        events.wait_for(DeviceNotice("bill_acceptor", "power_up"))
        enabled(driver, emulator)
        host = sent_by_host(emulator)
        # the first status request finds POWER UP; RESET follows, then the settings, the
        # inhibit lifted last (section 4)
        assert host[0] == bytes.fromhex("fc05112756")
        assert host.index(bytes.fromhex("fc05402b15")) < host.index(bytes.fromhex("fc06c30004d6"))
        assert build_frame(0xC0, b"\x80\x00") in host  # every US note, 0x68 left inhibited
        assert build_frame(0xC2, b"\x00") in host  # polling mode
        assert driver.device_info()["version"].startswith("i(USA)")
        assert emulator.counters()["resets"] == 1
        assert driver.health().state is Health.OK
    finally:
        driver.close()


def test_cashbox_count_is_honestly_none(acceptor: Id003Acceptor) -> None:
    assert acceptor.cashbox_count() is None  # ID-003 has no such query: nothing made up


# --- the resident's path --------------------------------------------------------------------


def test_escrow_stack_vend_valid_ack_stacked_credits_once(
    emulator: Id003Emulator, acceptor: Id003Acceptor, events: Events
) -> None:
    bill = escrow(emulator, events, "20")
    assert acceptor.escrowed() == bill
    acceptor.stack()
    events.wait_for(BillStacked(bill))
    until(lambda: emulator.phase is Phase.IDLE)
    events.quiet(0.2)
    assert events.of(BillStacked) == [BillStacked(bill)]
    host = sent_by_host(emulator)
    assert bytes.fromhex("fc0541a204") in host  # STACK-1
    assert ACK_FRAME in host  # the ACK VEND VALID is owed
    replies = [e.reply for e in emulator.history() if e.reply is not None]
    assert build_frame(Status.ESCROW, b"\x65") in replies
    assert build_frame(Status.VEND_VALID) in replies
    assert build_frame(Status.STACKED) in replies
    assert emulator.cashbox == 1 and emulator.stacked(bill) == 1
    assert acceptor.counters()["stacked_20.00"] == 1


def test_a_lost_vend_valid_is_asked_for_again_and_credited_once(
    emulator: Id003Emulator, acceptor: Id003Acceptor, events: Events
) -> None:
    bill = escrow(emulator, events, "10")
    emulator.control("drop", "vend-valid")
    acceptor.stack()
    events.wait_for(BillStacked(bill))
    until(lambda: emulator.phase is Phase.IDLE)
    events.quiet(0.2)
    assert events.of(BillStacked) == [BillStacked(bill)]
    assert emulator.counters()["replies_dropped"] == 1
    assert emulator.cashbox == 1


def test_returned_when_asked(
    emulator: Id003Emulator, acceptor: Id003Acceptor, events: Events
) -> None:
    bill = escrow(emulator, events, "5")
    acceptor.return_bill()
    events.wait_for(BillReturned(bill))
    assert build_frame(0x43) in sent_by_host(emulator)  # RETURN
    assert emulator.cashbox == 0
    assert emulator.counters()["returned"] == 1
    assert events.of(BillStacked) == []


def test_a_stack_with_nothing_in_escrow_is_not_sent(
    emulator: Id003Emulator, acceptor: Id003Acceptor, events: Events
) -> None:
    acceptor.stack()
    events.quiet(0.2)
    assert bytes.fromhex("fc0541a204") not in sent_by_host(emulator)


def test_disabled_note_is_rejected_with_its_reason(
    emulator: Id003Emulator, acceptor: Id003Acceptor, events: Events
) -> None:
    acceptor.enable([Money(2000)])
    until(lambda: build_frame(0xC0, b"\xef\x00") in sent_by_host(emulator))
    emulator.control("insert", "5")
    events.wait_for(BillRejected("inhibit"))
    assert emulator.counters()["rejected"] == 1


def test_counterfeit_and_cheat_are_rejected(
    emulator: Id003Emulator, acceptor: Id003Acceptor, events: Events
) -> None:
    emulator.control("counterfeit")
    events.wait_for(BillRejected("denomination"))
    until(lambda: emulator.phase is Phase.IDLE)
    emulator.control("cheat")
    events.wait_for(BillRejected("cheated"))
    assert acceptor.counters()["cheats"] == 1
    assert events.of(BillEscrowed) == []


# --- faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["acceptor", "stacker"])
def test_jam_is_a_fault_until_cleared(
    emulator: Id003Emulator, acceptor: Id003Acceptor, events: Events, where: str
) -> None:
    emulator.control("jam", where)
    events.wait_for(DeviceNotice("bill_acceptor", f"jam_in_{where}", "unknown"))
    events.wait_for(AcceptorFault("jam"))
    assert acceptor.health().reason == "jam"
    emulator.control("clear")
    events.wait_for(DeviceNotice("bill_acceptor", "jam_cleared"))
    events.wait_for(DeviceRecovered("bill_acceptor"))
    assert acceptor.health().state is Health.OK
    assert acceptor.counters()["jams"] == 1


def test_jam_while_stacking_then_cleared_into_the_box(
    emulator: Id003Emulator, acceptor: Id003Acceptor, events: Events
) -> None:
    bill = escrow(emulator, events, "20")
    acceptor.stack()
    until(lambda: emulator.phase is Phase.STACKING)
    emulator.control("jam")
    events.wait_for(AcceptorFault("jam"))
    assert emulator.counters()["jammed"]
    emulator.control("clear", "cashbox")
    # no VEND VALID: the device can not vouch for the note, so nothing is credited here
    events.wait_for(DeviceNotice("bill_acceptor", "bill_left_path_unreported", bill.plain()))
    assert events.of(BillStacked) == []
    assert emulator.cashbox == 1


@pytest.mark.parametrize(
    ("control", "reason", "cleared"),
    [
        ("cassette-remove", "cassette_removed", "cassette_replaced"),
        ("cassette-full", "stacker_full", "stacker_full_cleared"),
        ("fail", "failure", "failure_cleared"),
    ],
)
def test_box_removed_full_or_failed(
    emulator: Id003Emulator,
    acceptor: Id003Acceptor,
    events: Events,
    control: str,
    reason: str,
    cleared: str,
) -> None:
    emulator.control(control)
    events.wait_for(AcceptorFault(reason))
    assert acceptor.health().reason == reason
    emulator.control("clear" if control == "fail" else "cassette-replace")
    events.wait_for(DeviceNotice("bill_acceptor", cleared))
    events.wait_for(DeviceRecovered("bill_acceptor"))


def test_box_removed_with_a_note_in_escrow_refuses_the_stack(
    emulator: Id003Emulator, acceptor: Id003Acceptor, events: Events
) -> None:
    escrow(emulator, events, "20")
    emulator.control("cassette-remove")
    events.wait_for(AcceptorFault("cassette_removed"))
    acceptor.stack()
    events.quiet(0.3)
    assert emulator.cashbox == 0
    assert events.of(BillStacked) == []


# --- power-up with a note inside ------------------------------------------------------------


def test_power_up_with_bill_in_acceptor_returns_it_uncredited(
    emulator: Id003Emulator, acceptor: Id003Acceptor, events: Events
) -> None:
    bill = escrow(emulator, events, "50")
    emulator.control("power-cycle")
    events.wait_for(DeviceNotice("bill_acceptor", "power_up_with_bill_in_escrow", bill.plain()))
    events.wait_for(BillReturned(bill))
    assert emulator.cashbox == 0
    assert emulator.counters()["returned"] == 1
    assert events.of(BillStacked) == []


def test_power_up_with_bill_in_stacker_mid_stack_credits_it_once(
    emulator: Id003Emulator, acceptor: Id003Acceptor, events: Events
) -> None:
    bill = escrow(emulator, events, "20")
    acceptor.stack()
    until(lambda: emulator.phase is Phase.STACKING)
    assert "in_stacker" in emulator.control("power-cycle")
    events.wait_for(DeviceNotice("bill_acceptor", "power_up_with_bill_in_stacker", "20.00"))
    events.wait_for(BillStacked(bill))
    enabled(acceptor, emulator)
    events.quiet(0.2)
    assert events.of(BillStacked) == [BillStacked(bill)]
    assert emulator.cashbox == 1 and emulator.stacked(bill) == 1


def test_a_restarted_driver_credits_nothing_it_did_not_see(
    emulator: Id003Emulator, events: Events
) -> None:
    """The kiosk died mid-stack and the acceptor lost power: the new driver reports what
    the acceptor says, and recovery settles the stack intent; nothing is credited here."""
    emulator.control("power-cycle", "in-stacker", "20")
    driver = make_driver(emulator, events)
    try:
        events.wait_for(DeviceNotice("bill_acceptor", "power_up_with_bill_in_stacker", "unknown"))
        events.wait_for(
            DeviceNotice("bill_acceptor", "stacked_without_escrow", "power up with bill in stacker")
        )
        assert driver.wait_idle(WAIT)
        assert events.of(BillStacked) == []
        assert emulator.cashbox == 1
        assert driver.counters()["unattributed"] == 1
    finally:
        driver.close()


def test_a_vend_valid_left_by_a_previous_run_is_acked_not_credited(
    emulator: Id003Emulator, events: Events
) -> None:
    first = make_driver(emulator, Events())
    enabled(first, emulator)
    emulator.control("insert", "20")
    until(lambda: first.escrowed() is not None)
    first.stack()
    until(lambda: emulator.phase is Phase.STACKING)
    first.close()  # the kiosk dies before VEND VALID; the acceptor finishes as it is polled
    driver = make_driver(emulator, events)
    try:
        until(lambda: emulator.phase is Phase.IDLE)
        events.wait_for(DeviceNotice("bill_acceptor", "stacked_without_escrow", "unknown"))
        assert events.of(BillStacked) == []
        assert ACK_FRAME in sent_by_host(emulator)
        assert emulator.cashbox == 1
    finally:
        driver.close()


# --- the line -------------------------------------------------------------------------------


def test_garbage_and_bad_crcs_are_counted_and_nothing_is_lost(
    emulator: Id003Emulator, acceptor: Id003Acceptor, events: Events
) -> None:
    emulator.control("garbage", "3")
    bill = escrow(emulator, events, "1")
    acceptor.stack()
    events.wait_for(BillStacked(bill))
    counts = acceptor.counters()
    assert counts["bad_checksums"] >= 1
    assert counts["garbage_bytes"] >= 1
    assert events.of(BillStacked) == [BillStacked(bill)]
    assert acceptor.health().state is Health.OK


def test_the_emulator_answers_a_damaged_message_with_communication_error(
    emulator: Id003Emulator,
) -> None:
    with serial.Serial(emulator.port.path, 9600, timeout=0.5) as port:
        damaged = bytearray(bytes.fromhex("fc05112756"))
        damaged[-1] ^= 0x01
        port.write(bytes(damaged))
        reply = port.read(5)
        port.write(build_frame(0x2F))  # a code the specification does not list
        unknown = port.read(5)
    frames = FrameAssembler().feed(reply + unknown)
    assert [StatusReply.decode(f) for f in frames] == [
        StatusReply(Status.COMMUNICATION_ERROR),
        StatusReply(Status.INVALID_COMMAND),
    ]


def test_unplug_and_replug(
    emulator: Id003Emulator, acceptor: Id003Acceptor, events: Events
) -> None:
    emulator.control("unplug")
    events.wait_for(AcceptorFault("disconnected"))
    assert acceptor.health().reason == "disconnected"
    emulator.control("replug")
    events.wait_for(DeviceNotice("bill_acceptor", "reconnected"))
    bill = escrow(emulator, events, "100")
    acceptor.stack()
    events.wait_for(BillStacked(bill))


def test_a_missing_device_is_reported_disconnected(tmp_path: Path) -> None:
    events = Events()
    driver = Id003Acceptor(str(tmp_path / "nothing"), timing=TIMING, reconnect_interval=0.05)
    driver.attach(events)
    driver.open()
    try:
        events.wait_for(AcceptorFault("disconnected"))
        assert not driver.wait_ready(0.05)
    finally:
        driver.close()


# --- the tracker's rules, as plain logic ----------------------------------------------------


def feed(tracker: StatusTracker, *statuses: tuple[int, int | None]) -> list[object]:
    events: list[object] = []
    for code, data in statuses:
        events += tracker.on_status(StatusReply(code, data))
    return events


def test_a_repeated_vend_valid_credits_once_and_is_acked_each_time() -> None:
    tracker = StatusTracker()
    feed(tracker, (0x11, None), (0x13, 0x64))
    assert tracker.request("stack")
    events = feed(tracker, (0x14, None), (0x15, None))
    assert events == [BillStacked(Money(1000))]
    assert tracker.ack_owed
    tracker.ack_sent()
    assert feed(tracker, (0x15, None)) == []  # our ACK was lost: asked again
    assert tracker.ack_owed
    assert feed(tracker, (0x16, None), (0x11, None)) == []
    assert tracker.counters.stacked == {Money(1000): 1}


def test_an_unknown_escrow_code_goes_back_uncredited() -> None:
    tracker = StatusTracker()
    events = feed(tracker, (0x11, None), (0x13, 0x68))
    assert events == [DeviceNotice("bill_acceptor", "unknown_note_in_escrow", "escrow code 0x68")]
    assert tracker.operation() == "return"


def test_an_escrow_timeout_reject_returns_the_tracked_note() -> None:
    tracker = StatusTracker()
    feed(tracker, (0x11, None), (0x13, 0x65))
    events = feed(tracker, (0x17, 0x79), (0x11, None))
    assert events == [BillRejected("inhibit"), BillReturned(Money(2000))]


def test_power_up_with_a_stack_in_flight_and_the_note_in_the_acceptor() -> None:
    tracker = StatusTracker()
    feed(tracker, (0x11, None), (0x13, 0x65))
    tracker.request("stack")
    tracker.operation_answered("stack", accepted=True)
    events = feed(tracker, (0x41, None))
    assert events == [
        DeviceNotice("bill_acceptor", "power_up_with_bill_in_escrow", "20.00"),
        AcceptorFault("power_up"),
    ]
    assert tracker.reset_needed and tracker.moving()
    tracker.reset_sent()
    assert feed(tracker, (0x1B, None)) == []
    assert feed(tracker, (0x1A, None)) == [BillReturned(Money(2000))]
    assert not tracker.moving()


def test_pause_and_invalid_command_are_counted_not_faults() -> None:
    tracker = StatusTracker()
    feed(tracker, (0x11, None))
    assert feed(tracker, (0x47, None)) == [
        DeviceNotice("bill_acceptor", "pause", "a second note was inserted")
    ]
    feed(tracker, (0x4B, None), (0x4A, None))
    assert tracker.counters.invalid_commands == 1
    assert tracker.counters.communication_errors == 1
    assert tracker.health().state is Health.OK


def test_failure_reports_its_code() -> None:
    tracker = StatusTracker()
    events = feed(tracker, (0x11, None), (0x49, 0xA2))
    assert events == [
        DeviceNotice("bill_acceptor", "failure_code", "stack_motor"),
        AcceptorFault("failure"),
    ]
    assert feed(tracker, (0x49, 0xA2)) == []  # one fault per occurrence
    assert tracker.health().reason == "failure"


def test_silence_is_one_fault() -> None:
    tracker = StatusTracker()
    feed(tracker, (0x11, None))
    assert tracker.on_lost() == [AcceptorFault("disconnected")]
    assert tracker.on_lost() == []
    assert feed(tracker, (0x11, None)) == [DeviceNotice("bill_acceptor", "reconnected")]


def test_a_refused_stack_is_asked_again_only_after_a_new_status() -> None:
    tracker = StatusTracker()
    feed(tracker, (0x11, None), (0x13, 0x65))
    tracker.request("stack")
    assert tracker.operation() == "stack"
    tracker.operation_answered("stack", accepted=False)  # INVALID COMMAND
    assert tracker.operation() is None  # not hammered at the acceptor
    feed(tracker, (0x13, 0x65))
    assert tracker.operation() == "stack"
    tracker.operation_answered("stack", accepted=True)
    assert tracker.operation() is None
    assert tracker.counters.invalid_commands == 1


def ask(port: serial.Serial, code: int, data: bytes = b"") -> StatusReply | bytes:
    """One message from the host on the raw line; the acceptor's answer (a status decoded)."""
    port.write(build_frame(code, data))
    frames: list[object] = []
    asm = FrameAssembler()
    deadline = time.monotonic() + WAIT
    while not frames and time.monotonic() < deadline:
        frames += asm.feed(port.read(1))
    assert frames, f"no answer to {code:02X}"
    frame = frames[0]
    assert isinstance(frame, Frame)
    return StatusReply.decode(frame) or frame.encode()


def test_the_emulator_answers_operations_as_the_specification_says(
    emulator: Id003Emulator,
) -> None:
    """HOLD keeps a note in escrow, operations out of place are INVALID COMMAND, settings are
    echoed and read back (6-3, 6-4, 6-5, 6-6, 6-7); all over the raw line."""
    with serial.Serial(emulator.port.path, 9600, timeout=0.05) as port:
        assert ask(port, 0x11) == StatusReply(Status.POWER_UP)
        assert ask(port, 0x41) == StatusReply(Status.INVALID_COMMAND)  # stack: nothing there
        assert ask(port, 0x40) == build_frame(0x50)  # RESET: ACK
        assert ask(port, 0xC3, b"\x00") == build_frame(0xC3, b"\x00")  # inhibit off: echo
        assert ask(port, 0x83) == build_frame(0x83, b"\x00")  # and read back
        replies = [ask(port, 0x11) for _ in range(3)]  # INITIALIZE twice, then enabled
        assert replies[-1] == StatusReply(Status.IDLING), replies
        emulator.control("insert", "50")
        assert ask(port, 0x11) == StatusReply(Status.ACCEPTING)
        assert ask(port, 0x11) == StatusReply(Status.ESCROW, 0x66)
        assert ask(port, 0x44) == build_frame(0x50)  # HOLD
        assert ask(port, 0x11) == StatusReply(Status.HOLDING)
        assert ask(port, 0x43) == build_frame(0x50)  # RETURN from holding
        assert ask(port, 0x11) == StatusReply(Status.RETURNING)
        assert ask(port, 0x88) == build_frame(0x88, VERSION.encode())
    assert emulator.cashbox == 0


def enabled_on_the_raw_line(port: serial.Serial) -> None:
    """RESET, inhibit lifted, and the acceptor idle: what a host does at power-up."""
    assert ask(port, 0x11) == StatusReply(Status.POWER_UP)
    assert ask(port, 0x40) == ACK_FRAME
    assert ask(port, 0xC3, b"\x00") == build_frame(0xC3, b"\x00")
    until(lambda: ask(port, 0x11) == StatusReply(Status.IDLING))


def test_stack_2_stacks_as_stack_1_does(emulator: Id003Emulator) -> None:
    """STACK-2 ``FC 05 42 39 36`` (6-3): ACK from escrow, INVALID COMMAND with nothing there;
    the note goes STACKING, VEND VALID (repeated until the host's ACK), STACKED, IDLING. The
    driver itself stacks with STACK-1 (``FC 05 41 A2 04``) and credits at VEND VALID."""
    assert build_frame(0x42) == bytes.fromhex("fc05423936")
    with serial.Serial(emulator.port.path, 9600, timeout=0.05) as port:
        enabled_on_the_raw_line(port)
        assert ask(port, 0x42) == StatusReply(Status.INVALID_COMMAND)  # nothing in escrow
        emulator.control("stack-polls", "4")  # the stack takes four polls
        emulator.control("insert", "20")
        until(lambda: ask(port, 0x11) == StatusReply(Status.ESCROW, 0x65))
        assert ask(port, 0x42) == ACK_FRAME
        seen = [ask(port, 0x11) for _ in range(5)]
        assert seen[:3] == [StatusReply(Status.STACKING)] * 3
        assert seen[3:] == [StatusReply(Status.VEND_VALID)] * 2  # until acknowledged
        port.write(ACK_FRAME)  # not answered (6-2-1(5))
        assert ask(port, 0x11) == StatusReply(Status.STACKED)
        assert ask(port, 0x11) == StatusReply(Status.IDLING)
    assert emulator.cashbox == 1 and emulator.stacked(Money(2000)) == 1


HOLD = bytes.fromhex("fc05440f53")
"""HOLD (6-3), ``FC 05 44`` and its CRC."""


def slow_to_give_back(tmp_path: Path) -> Id003Emulator:
    """An acceptor that gives a note back by itself after 0.6 s in escrow, as a JCM does
    after about 10 s."""
    timing = EmulatorTiming(stack_polls=3, escrow_timeout=0.6)
    emu = Id003Emulator(tmp_path / "bill-acceptor", timing=timing)
    emu.start()
    return emu


def holding_driver(
    emu: Id003Emulator, events: Events, hold_after: float | None, hold_for: float = 60.0
) -> Id003Acceptor:
    """A driver that sends HOLD after ``hold_after`` (None: never) for ``hold_for``, enabled."""
    timing = replace(TIMING, hold_after=hold_after, hold_for=hold_for)
    driver = Id003Acceptor(emu.port.path, timing=timing, reconnect_interval=0.05)
    driver.attach(events)
    driver.open()
    try:
        assert driver.wait_ready(WAIT)
        enabled(driver, emu)
    except BaseException:
        driver.close()
        raise
    return driver


def test_a_note_the_engine_has_not_decided_on_is_held_in_escrow(
    tmp_path: Path, events: Events
) -> None:
    """The driver sends HOLD while the note waits undecided, so the acceptor's escrow
    time-out never gives it back; the stack, when it comes, is STACK-1 from HOLDING."""
    emu = slow_to_give_back(tmp_path)
    driver = holding_driver(emu, events, 0.2)
    try:
        bill = escrow(emu, events, "20")
        until(lambda: emu.counters()["holds"] >= 4)  # undecided well past the 0.6 s
        assert emu.phase is Phase.HOLDING and driver.escrowed() == bill
        assert emu.counters()["escrow_timeouts"] == 0
        driver.stack()
        events.wait_for(BillStacked(bill))
        assert events.of(BillReturned) == [] and events.of(BillRejected) == []
        host = sent_by_host(emu)
        assert HOLD in host and bytes.fromhex("fc0541a204") in host  # HOLD, then STACK-1
        assert build_frame(0x42) not in host  # never STACK-2
        replies = [e.reply for e in emu.history() if e.reply is not None]
        assert build_frame(Status.HOLDING) in replies
        assert driver.counters()["holds_sent"] >= 4
        assert emu.cashbox == 1
    finally:
        driver.close()
        emu.stop()


@pytest.mark.parametrize(
    ("hold_after", "holds"),
    [(None, range(0, 1)), (0.2, range(1, 3))],
    ids=["no-hold", "holds-for-0.5s"],
)
def test_without_hold_the_acceptor_gives_an_undecided_note_back(
    tmp_path: Path, events: Events, hold_after: float | None, holds: range
) -> None:
    """What HOLD prevents: the escrow time-out (REJECTING 79, then IDLING) returns the note,
    reported rejected and returned, never credited. So it does once the driver stops holding
    (``hold_for``): an engine that never decides does not keep the note for good."""
    emu = slow_to_give_back(tmp_path)
    driver = holding_driver(emu, events, hold_after, hold_for=0.5)
    try:
        bill = escrow(emu, events, "5")
        events.wait_for(BillReturned(bill))
        assert events.of(BillRejected) == [BillRejected("inhibit")]
        assert emu.counters()["holds"] in holds  # at 0.2 s and 0.4 s, none after 0.5 s
        assert emu.counters()["escrow_timeouts"] == 1 and emu.cashbox == 0
    finally:
        driver.close()
        emu.stop()
