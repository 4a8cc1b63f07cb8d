"""The EBDS rules a real Pyramid Apex or MEI acceptor depends on, from the specification's
bytes, against the emulator on a real pseudo-terminal (and the driver where it is the
driver's rule). docs/protocols/ebds.md names the section each rule comes from.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from devices.ebds.driver import Capability, EbdsAcceptor, Timing
from devices.ebds.framing import Frame, FrameAssembler, MessageType, parse_frame
from devices.ebds.messages import (
    AuxCommand,
    OmnibusCommand,
    OmnibusStatus,
    aux_command,
    decode_cash_box_total,
)
from devices.emulators.ebds_emulator import EbdsEmulator, EmulatorTiming
from kiosk.money import Money
from kiosk.ports import AcceptorFault, BillEscrowed, BillStacked
from tests.devices.test_ebds_driver import TIMING, USD, WAIT, Events, make_driver, until

# omnibus command, all seven notes, escrow mode, four-way, power-up policy B (EBDS 7.1.1)
POLL = {0: bytes.fromhex("0208107F1804037B"), 1: bytes.fromhex("0208117F1804037A")}
# the same with the escrow-mode bit (data1 bit 4) clear
POLL_NO_ESCROW = {0: bytes.fromhex("0208107F0804036B"), 1: bytes.fromhex("0208117F0804036A")}
SOFT_RESET = {0: bytes.fromhex("0208607F7F7F0317"), 1: bytes.fromhex("0208617F7F7F0316")}
CASH_BOX_QUERY = {0: bytes.fromhex("0208600000010369"), 1: bytes.fromhex("0208610000010368")}
APEX_PING_REPLY = {0: bytes.fromhex("0205600365"), 1: bytes.fromhex("0205610364")}


def test_the_bytes_here_are_the_codecs_bytes() -> None:
    """The literal frames above are what the driver itself sends (so the tests below
    exercise the wire the driver uses)."""
    for ack in (0, 1):
        assert OmnibusCommand(enable_mask=0x7F).encode(ack) == POLL[ack]
        assert (
            OmnibusCommand(enable_mask=0x7F, escrow_mode=False).encode(ack) == POLL_NO_ESCROW[ack]
        )
        assert aux_command(AuxCommand.SOFT_RESET, ack) == SOFT_RESET[ack]
        assert aux_command(AuxCommand.QUERY_CASH_BOX_TOTAL, ack) == CASH_BOX_QUERY[ack]
        ping = parse_frame(APEX_PING_REPLY[ack])
        assert ping is not None and ping.message_type == MessageType.AUXILIARY
        assert decode_cash_box_total(ping) is None  # an Apex's ping is no count


class Wire:
    """The host side by hand: exact bytes out, the reply (or silence) back."""

    def __init__(self, path: str) -> None:
        self.serial = serial.Serial(path, 9600, timeout=0.02)
        self.assembler = FrameAssembler()

    def send(self, raw: bytes, wait: float = 0.5) -> Frame | None:
        self.serial.write(raw)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            frames = self.assembler.feed(self.serial.read(64))
            if frames:
                return frames[0]
        return None

    def status(self, raw: bytes) -> OmnibusStatus:
        reply = self.send(raw, WAIT)
        status = OmnibusStatus.decode(reply) if reply is not None else None
        assert status is not None, f"no omnibus reply to {raw.hex(' ')}"
        return status

    def polls(self, ack: int, polls: dict[int, bytes] = POLL) -> Iterator[OmnibusStatus]:
        """Poll on and on from ``ack``, toggling, as a host does."""
        while True:
            yield self.status(polls[ack])
            ack ^= 1


def _state_bits(status: OmnibusStatus) -> int:
    return status.data()[0] & 0x7F


@pytest.fixture(params=["mei", "apex"])
def emulator(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EbdsEmulator]:
    emu = EbdsEmulator(tmp_path / "bill-acceptor", flavour=request.param)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def wire(emulator: EbdsEmulator) -> Iterator[Wire]:
    host = Wire(emulator.port.path)
    yield host
    host.serial.close()


# --- what the device supports is learnt when it opens ----------------------------------------


def test_an_mei_answers_the_cash_box_query_and_an_apex_takes_it_for_a_ping(
    emulator: EbdsEmulator, wire: Wire
) -> None:
    wire.status(POLL[0])
    reply = wire.send(CASH_BOX_QUERY[1])
    assert reply is not None
    if emulator.flavour == "mei":
        assert reply.encode() == bytes.fromhex("020B61000000000000036A")  # six nibbles: 0
        assert decode_cash_box_total(reply) == 0
    else:
        assert reply.encode() == APEX_PING_REPLY[1]


def test_the_driver_learns_at_open_whether_the_acceptor_counts(
    emulator: EbdsEmulator, events: Events
) -> None:
    driver = make_driver(emulator, events)
    try:
        queries = [x for x in emulator.history() if x.host == CASH_BOX_QUERY[x.host[2] & 1]]
        assert len(queries) == 1  # asked once, right after the first reply
        if emulator.flavour == "mei":
            assert driver.capability == Capability.CASH_BOX_TOTAL
            assert driver.cashbox_count() == 0
        else:
            assert driver.capability == Capability.TELEMETRY
            assert driver.cashbox_count() is None
            sent = len(emulator.history())
            assert driver.cashbox_count() is None
            assert len(emulator.history()) - sent <= 1  # at most a poll; never asked again
    finally:
        driver.close()


def test_a_note_is_taken_whether_or_not_the_acceptor_counts(
    emulator: EbdsEmulator, events: Events
) -> None:
    driver = make_driver(emulator, events)
    driver.enable(USD)
    try:
        emulator.control("insert", "20")
        events.wait_for(BillEscrowed(Money(2000)))
        driver.stack()
        events.wait_for(BillStacked(Money(2000)))
        assert emulator.cashbox == 1
        assert not events.of(AcceptorFault)
    finally:
        driver.close()


# --- the device's side -----------------------------------------------------------------------


def test_a_removed_cash_box_is_reported_idling_with_the_cassette_bit_clear(
    emulator: EbdsEmulator, wire: Wire
) -> None:
    wire.status(POLL[0])
    emulator.control("cassette-remove")
    status = wire.status(POLL[1])
    assert _state_bits(status) == 0x01  # exactly one state: idling (Pyramid: never none)
    assert status.data()[1] & 0x10 == 0  # data1 bit 4, cassette attached, clear
    emulator.control("cassette-replace")
    assert wire.status(POLL[0]).data()[1] & 0x10


def test_after_a_soft_reset_the_next_poll_is_answered(emulator: EbdsEmulator, wire: Wire) -> None:
    """The reset goes unanswered; the host then polls with the ACK number it used for the
    reset (it got no reply to toggle on), and a device that remembers nothing answers it."""
    wire.status(POLL[0])
    assert wire.send(SOFT_RESET[1], wait=0.2) is None
    status = wire.status(POLL[1])
    assert status.power_up
    assert not emulator.history()[-1].repeated


def test_with_escrow_mode_off_a_valid_note_is_stacked_by_the_device(
    emulator: EbdsEmulator, wire: Wire
) -> None:
    polls = wire.polls(0, POLL_NO_ESCROW)
    next(polls)
    emulator.control("insert", "5")
    seen = []
    for status in polls:
        seen.append(status)
        if status.stacked:
            break
        assert len(seen) < 20, "never stacked"
    assert not any(s.escrowed for s in seen)
    assert seen[-1].note_value == 3  # $5 is note 3
    assert emulator.cashbox == 1


def test_no_note_is_drawn_in_while_the_device_reports_power_up(
    emulator: EbdsEmulator, wire: Wire
) -> None:
    wire.status(POLL[0])
    emulator.control("power-cycle")
    with pytest.raises(ValueError, match="powering up"):
        emulator.control("insert", "20")
    polls = wire.polls(1)
    while next(polls).power_up:
        pass
    emulator.control("insert", "20")
    while not next(polls).escrowed:
        pass


# --- the driver's side -----------------------------------------------------------------------


def test_the_silence_of_an_acceptor_reading_a_note_is_not_a_disconnection(
    tmp_path: Path, events: Events
) -> None:
    """The acceptor "will miss a few polls" while it reads a note: a second of silence is
    well inside what the specification allows, and well past three tries 100 ms apart."""
    emu = EbdsEmulator(tmp_path / "slow", timing=EmulatorTiming(reading_silence=1.0))
    emu.start()
    patient = Timing(poll_interval=0.05, reply_timeout=0.1, attempts=3, silence_limit=2.0)
    driver = EbdsAcceptor(emu.port.path, timing=patient, reconnect_interval=0.05)
    driver.attach(events)
    driver.open()
    try:
        assert driver.wait_ready(WAIT)
        driver.enable(USD)
        emu.control("insert", "10")
        events.wait_for(BillEscrowed(Money(1000)))
        assert emu.counters()["missed_polls"] > patient.attempts
        assert not events.of(AcceptorFault)
        assert driver.health().usable
    finally:
        driver.close()
        emu.stop()


def test_the_silence_the_specification_allows_is_five_seconds() -> None:
    assert Timing().silence_limit == 5.0
    assert TIMING.silence_limit < Timing().silence_limit  # the tests' own, to stay quick


def test_a_stack_goes_out_at_once_not_with_the_next_poll(tmp_path: Path, events: Events) -> None:
    """Polls two seconds apart: a note seen in escrow is answered by the stack within one
    second only if the stack is sent as soon as it is asked for."""
    emu = EbdsEmulator(tmp_path / "acceptor")
    emu.start()
    lazy = Timing(poll_interval=2.0, reply_timeout=0.1, attempts=3, silence_limit=0.3)
    driver = EbdsAcceptor(emu.port.path, timing=lazy, reconnect_interval=0.05)
    driver.attach(events)
    driver.open()
    try:
        assert driver.wait_ready(WAIT)
        driver.enable(USD)
        emu.control("insert", "1")
        events.wait_for(BillEscrowed(Money(100)), timeout=3 * lazy.poll_interval)
        driver.stack()
        until(lambda: any(_stack_bit(x.host) for x in emu.history()), timeout=1.0)
    finally:
        driver.close()
        emu.stop()


def _stack_bit(raw: bytes) -> bool:
    frame = parse_frame(raw)
    command = OmnibusCommand.decode(frame) if frame is not None else None
    return command is not None and command.stack


def test_an_acceptor_swapped_while_unplugged_is_asked_again(tmp_path: Path, events: Events) -> None:
    """A technician swaps an MEI for an Apex on the same port: what the kiosk knew about the
    old one must not be trusted for the new one."""
    emu = EbdsEmulator(tmp_path / "acceptor", flavour="mei")
    emu.start()
    try:
        driver = make_driver(emu, events)
        assert driver.capability == Capability.CASH_BOX_TOTAL
        emu.control("unplug")
        events.wait_for(AcceptorFault("disconnected"))
        emu.flavour = "apex"
        emu.control("replug")
        until(lambda: driver.capability == Capability.TELEMETRY)
        assert driver.cashbox_count() is None
        driver.close()
    finally:
        emu.stop()
