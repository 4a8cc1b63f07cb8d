"""Device faults and recoveries: journaled in any state, a repeated fault once, and every
change of a device's health published to the screens with no other event needed."""

from __future__ import annotations

from contract import entries as E
from kiosk.engine.states import State
from kiosk.ports import AcceptorFault, DeviceFault, DeviceHealth, DeviceRecovered, Health
from tests.engine.conftest import Harness

PAPER_OUT = DeviceHealth(Health.FAULT, "paper_out")


def faults_and_recoveries(harness: Harness) -> list[tuple[str, dict[str, object]]]:
    kinds = (E.DEVICE_FAULT, E.DEVICE_RECOVERED)
    return [(e.type, dict(e.payload)) for e in harness.journal.entries() if e.type in kinds]


def test_a_printer_fault_and_its_recovery_are_published_and_journaled(harness: Harness) -> None:
    assert harness.engine.snapshot.printer_available is True
    harness.printer.state = PAPER_OUT
    shown = harness.send(DeviceFault("receipt_printer", "paper_out"))
    assert shown.printer_available is False and shown.state is State.IDLE
    harness.printer.state = DeviceHealth()
    shown = harness.send(DeviceRecovered("receipt_printer"))
    assert shown.printer_available is True
    assert faults_and_recoveries(harness) == [
        (E.DEVICE_FAULT, {"device": "receipt_printer", "reason": "paper_out"}),
        (E.DEVICE_RECOVERED, {"device": "receipt_printer"}),
    ]
    assert [s.printer_available for s in harness.seen] == [True, False, True]


def test_a_fault_repeated_while_open_is_journaled_once(harness: Harness) -> None:
    harness.printer.state = PAPER_OUT
    harness.send(DeviceFault("receipt_printer", "paper_out"))
    harness.send(DeviceFault("receipt_printer", "paper_out"))
    harness.send(DeviceFault("receipt_printer", "disconnected"))  # another fault: said
    harness.send(DeviceRecovered("receipt_printer"))
    harness.send(DeviceFault("receipt_printer", "paper_out"))  # after a recovery: new
    reasons = [p.get("reason") for _, p in faults_and_recoveries(harness)]
    assert reasons == ["paper_out", "disconnected", None, "paper_out"]


def test_the_acceptor_fault_still_stops_cash_when_it_is_not_journaled_again(
    harness: Harness,
) -> None:
    harness.acceptor.state = DeviceHealth(Health.FAULT, "cassette_removed")
    harness.send(AcceptorFault("cassette_removed"))
    harness.acceptor.state = DeviceHealth()
    harness.to_cash()
    harness.acceptor.state = DeviceHealth(Health.FAULT, "cassette_removed")
    shown = harness.send(AcceptorFault("cassette_removed"))
    assert shown.state is State.METHOD and shown.message == "cash_unavailable"
    assert shown.cash_available is False
    assert [p.get("reason") for _, p in faults_and_recoveries(harness)] == ["cassette_removed"]


def test_a_recovery_is_journaled_in_the_middle_of_a_payment(harness: Harness) -> None:
    harness.to_card()
    assert harness.state is State.CARD
    harness.send(DeviceRecovered("scanner"))
    assert harness.state is State.CARD
    assert faults_and_recoveries(harness) == [(E.DEVICE_RECOVERED, {"device": "scanner"})]
