"""The rules that turn omnibus replies into port events, without a serial line.

The pty tests show the rules at work against the emulator; these pin down the cases that
are hard to time over a line: what happens on the very first reply, at power-up with a
stack in flight, and with reports for bills the driver never saw.
"""

from __future__ import annotations

from devices.ebds.messages import OmnibusStatus
from devices.ebds.tracker import StatusTracker
from kiosk.money import Money
from kiosk.ports import (
    AcceptorFault,
    BillEscrowed,
    BillRejected,
    BillStacked,
    DeviceHealth,
    DeviceNotice,
    Health,
)

IDLE = OmnibusStatus(idling=True)
TWENTY = 5  # note value index of $20 in the US table


def notice(kind: str, detail: str = "") -> DeviceNotice:
    return DeviceNotice("bill_acceptor", kind, detail)


def started() -> StatusTracker:
    tracker = StatusTracker()
    assert tracker.on_status(IDLE) == []
    return tracker


def test_events_in_the_first_reply_are_not_acted_on() -> None:
    tracker = StatusTracker()
    stale = OmnibusStatus(idling=True, stacked=True, rejected=True, note_value=TWENTY)
    assert tracker.on_status(stale) == []
    assert tracker.counters.stacked == {}


def test_escrow_is_announced_once_and_stacked_credited_once() -> None:
    tracker = started()
    escrowed = OmnibusStatus(escrowed=True, note_value=TWENTY)
    assert tracker.on_status(escrowed) == [BillEscrowed(Money(2000))]
    assert tracker.on_status(escrowed) == []
    assert tracker.request("stack") and tracker.command_bits() == (True, False)
    assert tracker.on_status(OmnibusStatus(stacking=True, note_value=TWENTY)) == []
    assert tracker.command_bits() == (False, False)
    stacked = OmnibusStatus(idling=True, stacked=True, note_value=TWENTY)
    assert tracker.on_status(stacked) == [BillStacked(Money(2000))]
    assert tracker.on_status(stacked) == []  # the same report again is not a second bill
    assert tracker.counters.stacked == {Money(2000): 1}


def test_a_stacked_report_for_an_unknown_bill_is_a_notice_not_a_credit() -> None:
    tracker = started()
    events = tracker.on_status(OmnibusStatus(idling=True, stacked=True, note_value=TWENTY))
    assert events == [notice("stacked_without_escrow", "20.00")]
    assert tracker.counters.unattributed == 1


def test_power_up_with_a_stack_in_flight_and_the_bill_still_in_escrow() -> None:
    tracker = started()
    tracker.on_status(OmnibusStatus(escrowed=True, note_value=TWENTY))
    tracker.request("stack")
    events = tracker.on_status(OmnibusStatus(escrowed=True, power_up=True, note_value=TWENTY))
    assert events == [notice("power_up_with_bill_in_escrow", "20.00"), AcceptorFault("power_up")]
    assert tracker.command_bits() == (False, True)  # never credited: it goes back


def test_power_up_at_start_with_a_bill_in_escrow_returns_it() -> None:
    tracker = StatusTracker()
    events = tracker.on_status(OmnibusStatus(escrowed=True, power_up=True, note_value=1))
    assert events == [notice("power_up_with_bill_in_escrow", "1.00")]
    assert tracker.escrowed() == Money(100) and tracker.command_bits() == (False, True)


def test_a_stack_request_without_a_bill_is_refused() -> None:
    tracker = started()
    assert not tracker.request("stack")
    assert tracker.command_bits() == (False, False)


def test_faults_once_per_occurrence_and_cleared_with_a_notice() -> None:
    tracker = started()
    jammed = OmnibusStatus(jammed=True)
    assert tracker.on_status(jammed) == [AcceptorFault("jam")]
    assert tracker.on_status(jammed) == []
    assert tracker.health() == DeviceHealth(Health.FAULT, "jam")
    removed = OmnibusStatus(jammed=True, cassette_attached=False)
    assert tracker.on_status(removed) == [AcceptorFault("cassette_removed")]
    assert tracker.health().reason == "jam"  # the first fault in the list is reported
    assert tracker.on_status(IDLE) == [notice("jam_cleared"), notice("cassette_replaced")]
    assert tracker.health() == DeviceHealth()


def test_silence_is_one_fault_and_an_answer_is_a_reconnection() -> None:
    tracker = started()
    assert tracker.on_lost() == [AcceptorFault("disconnected")]
    assert tracker.on_lost() == []
    assert tracker.health() == DeviceHealth(Health.FAULT, "disconnected")
    assert tracker.on_status(IDLE) == [notice("reconnected")]
    assert tracker.health() == DeviceHealth()


def test_a_device_missing_at_start_is_connected_not_reconnected() -> None:
    tracker = StatusTracker()
    assert tracker.health() == DeviceHealth(Health.FAULT, "starting")
    assert tracker.on_lost() == [AcceptorFault("disconnected")]
    assert tracker.on_status(IDLE) == [notice("connected")]


def test_cheat_is_a_notice_and_one_reject() -> None:
    tracker = started()
    events = tracker.on_status(OmnibusStatus(idling=True, cheated=True, rejected=True))
    assert events == [notice("cheat_attempt"), BillRejected("cheated")]
    assert tracker.counters.rejects == 1 and tracker.counters.cheats == 1
