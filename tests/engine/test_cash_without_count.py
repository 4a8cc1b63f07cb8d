"""Cash on an acceptor that keeps no cash box count (a Pyramid Apex, a JCM): intake goes on,
and a stack a fault or a restart hid is settled by the intent and what the acceptor holds."""

from __future__ import annotations

import pytest

from contract import entries as E
from kiosk.money import Money
from kiosk.ports import BillReturned, DeviceNotice
from tests.engine.conftest import Harness
from tests.engine.test_recovery import _stack_pending


@pytest.fixture
def harness(harness: Harness) -> Harness:
    harness.acceptor.counts = False
    return harness


def _jam_mid_stack(h: Harness) -> None:
    _stack_pending(h)
    h.acceptor.fault("jam")
    h.pump()
    assert [e.type for e in h.journal.open_intents()] == [E.BILL_STACK_REQUESTED]


def test_bills_are_stacked_with_no_count_in_the_intent(harness: Harness) -> None:
    harness.to_cash("20.00")
    harness.acceptor.insert(20)
    snap = harness.pump()
    assert snap.message != "bill_not_accepted_now"
    assert harness.acceptor.cashbox == [Money(2000)] and harness.acceptor.returned == []
    [intent] = harness.of_type(E.BILL_STACK_REQUESTED)
    assert intent["cashbox_before"] is None
    assert harness.payments()[0]["amount_cents"] == 2000


def test_jammed_note_gone_from_the_path_when_it_clears_is_credited(harness: Harness) -> None:
    _jam_mid_stack(harness)
    harness.acceptor.finish_stack(report=False)  # cleared into the cash box, no report
    harness.acceptor.emit(DeviceNotice("bill_acceptor", "jam_cleared"))
    harness.pump()
    [stacked] = harness.of_type(E.BILL_STACKED)
    assert stacked["recovered"] is True and stacked["denomination_cents"] == 2000
    assert harness.journal.open_intents() == []
    assert harness.credited_cents() == sum(b.cents for b in harness.acceptor.cashbox)


def test_jammed_note_back_in_escrow_when_it_clears_is_not_credited(harness: Harness) -> None:
    _jam_mid_stack(harness)
    assert harness.acceptor.escrow == Money(2000)  # the device still holds it
    harness.acceptor.emit(DeviceNotice("bill_acceptor", "jam_cleared"))
    harness.pump()
    [not_stacked] = harness.of_type(E.BILL_NOT_STACKED)
    assert not_stacked["reason"] == "jam_cleared"
    assert harness.credited_cents() == 0


def test_power_up_holding_the_note_in_escrow_settles_the_stack_as_not_stacked(
    harness: Harness,
) -> None:
    _stack_pending(harness)
    harness.acceptor.emit(DeviceNotice("bill_acceptor", "power_up_with_bill_in_escrow", "20"))
    harness.acceptor.fault("power_up")
    harness.pump()
    [not_stacked] = harness.of_type(E.BILL_NOT_STACKED)
    assert not_stacked["reason"] == "power_up_with_bill_in_escrow"
    assert harness.journal.open_intents() == []
    assert harness.credited_cents() == 0


@pytest.mark.parametrize("counts", [True, False])
def test_a_note_handed_back_instead_of_stacked_settles_its_stack_intent(
    harness: Harness, counts: bool
) -> None:
    harness.acceptor.counts = counts
    _stack_pending(harness)
    harness.acceptor.finish_return()  # the acceptor gave it back instead
    harness.pump()
    [not_stacked] = harness.of_type(E.BILL_NOT_STACKED)
    assert not_stacked["reason"] == "returned by the acceptor"
    assert harness.journal.open_intents() == []
    assert harness.credited_cents() == 0 and harness.acceptor.cashbox == []


# ----------------------------------------------------------------------------- recovery


def test_recovery_credits_a_note_the_acceptor_was_told_to_stack_and_no_longer_holds(
    harness: Harness,
) -> None:
    _stack_pending(harness)
    harness.acceptor.finish_stack(report=False)
    harness.recover()
    [stacked] = harness.of_type(E.BILL_STACKED)
    assert stacked["recovered"] is True
    assert harness.payments()[0]["amount_cents"] == 2000
    assert harness.journal.open_intents() == []
    assert harness.credited_cents() == sum(b.cents for b in harness.acceptor.cashbox) == 2000


def test_recovery_returns_a_note_still_in_escrow(harness: Harness) -> None:
    _stack_pending(harness)
    harness.acceptor.auto = True
    harness.recover()
    [not_stacked] = harness.of_type(E.BILL_NOT_STACKED)
    assert not_stacked["reason"] == "still in escrow after the restart"
    assert harness.acceptor.returned == [Money(2000)] and harness.acceptor.cashbox == []
    assert harness.credited_cents() == 0
    assert harness.journal.open_intents() == []


def test_recovery_does_not_credit_a_note_the_acceptor_gave_back_at_power_up(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stack_pending(harness)
    acceptor = harness.acceptor

    def powered_up_holding_it(timeout: float) -> bool:
        """The acceptor found the note in escrow at power-up and handed it back itself."""
        bill, acceptor.escrow = acceptor.escrow, None
        assert bill is not None
        acceptor.returned.append(bill)
        acceptor.emit(BillReturned(bill))
        return True

    monkeypatch.setattr(acceptor, "wait_idle", powered_up_holding_it)
    harness.recover()
    [not_stacked] = harness.of_type(E.BILL_NOT_STACKED)
    assert not_stacked["reason"] == "returned by the acceptor"
    assert acceptor.cashbox == [] and harness.credited_cents() == 0
    assert harness.journal.open_intents() == []
