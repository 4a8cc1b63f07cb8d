"""Out of service never interrupts a payment; money taken is never left unpaid."""

from __future__ import annotations

import pytest

from contract import entries as E
from kiosk.engine import inputs as ui
from kiosk.engine.states import State
from kiosk.money import Money
from tests.engine.conftest import Harness


def test_out_of_service_waits_for_the_session_to_end(harness: Harness) -> None:
    harness.to_cash("20.00")
    harness.send(ui.SetOutOfService("hub says so"))
    assert harness.state is State.CASH
    harness.acceptor.insert(20)
    harness.pump()
    assert harness.state is State.RECEIPT
    harness.send(ui.Finish())
    assert harness.state is State.OUT_OF_SERVICE
    assert harness.engine.snapshot.out_of_service_reason == "hub says so"
    assert harness.of_type(E.OUT_OF_SERVICE) == [{"reason": "hub says so"}]
    harness.send(ui.SetInService())
    assert harness.state is State.IDLE


def test_a_bill_stacked_instead_of_returned_is_paid_not_dropped(harness: Harness) -> None:
    harness.acceptor.auto = False
    harness.to_method()
    harness.acceptor.insert_anyway(20)  # arrives while we are not taking cash
    harness.pump()
    assert harness.acceptor.commands[-1] == "return"
    harness.acceptor.finish_stack()  # ...but the acceptor stacked it anyway
    harness.pump()
    harness.send(ui.Cancel())
    [payment] = harness.payments()
    assert payment["amount_cents"] == 2000
    assert harness.credited_cents() == sum(b.cents for b in harness.acceptor.cashbox)
    assert harness.acceptor.cashbox == [Money(2000)]
    assert harness.session_outcomes() == ["completed"]


def test_a_cash_box_count_the_acceptor_can_not_give_now_does_not_stop_the_bill(
    harness: Harness,
) -> None:
    """Intake never waits on the count: the bill is stacked with no count in its intent,
    to be settled (should it need settling) as on an acceptor that keeps none."""

    def unavailable() -> int:
        raise ConnectionError("acceptor not answering")

    harness.acceptor.cashbox_count = unavailable  # type: ignore[method-assign]
    harness.to_cash()
    harness.acceptor.insert(20)
    snap = harness.pump()
    assert harness.acceptor.cashbox == [Money(2000)] and harness.acceptor.returned == []
    assert snap.message == ""
    [intent] = harness.of_type(E.BILL_STACK_REQUESTED)
    assert intent["cashbox_before"] is None
    assert E.BILL_RETURN_REQUESTED not in harness.types()
    assert harness.credited_cents() == 2000
    assert harness.journal.open_intents() == []


def _jam_mid_stack(harness: Harness) -> None:
    harness.acceptor.auto = False
    harness.to_cash("43.17")
    harness.acceptor.insert(20)
    harness.pump()  # stack intent written, the note is moving
    harness.acceptor.fault("jam")
    harness.pump()


def test_jammed_note_cleared_out_of_the_path_is_not_credited(harness: Harness) -> None:
    from kiosk.ports import DeviceNotice

    _jam_mid_stack(harness)
    assert harness.journal.open_intents() != []  # its fate is still open
    assert harness.state is State.METHOD
    harness.acceptor.escrow = None  # the technician hands the note back
    harness.acceptor.emit(DeviceNotice("bill_acceptor", "jam_cleared"))
    harness.pump()
    [not_stacked] = harness.of_type(E.BILL_NOT_STACKED)
    assert not_stacked["reason"] == "jam_cleared"
    assert harness.journal.open_intents() == []
    assert harness.credited_cents() == 0


def test_jammed_note_cleared_into_the_box_after_the_session_is_paid_late(
    harness: Harness,
) -> None:
    from kiosk.ports import DeviceNotice

    _jam_mid_stack(harness)
    harness.send(ui.Cancel())  # the resident gives up and leaves
    assert harness.state is State.IDLE
    harness.acceptor.finish_stack(report=False)  # cleared into the cash box
    harness.acceptor.emit(DeviceNotice("bill_acceptor", "jam_cleared"))
    harness.pump()
    [stacked] = harness.of_type(E.BILL_STACKED)
    assert stacked["recovered"] is True
    [payment] = harness.payments()
    assert payment["amount_cents"] == 2000 and payment["late_credit"] is True
    assert payment["account_number"] == "100200300"
    assert harness.journal.open_intents() == []
    assert harness.credited_cents() == sum(b.cents for b in harness.acceptor.cashbox)


def test_jammed_note_that_the_acceptor_finally_reports_stacked_joins_the_session(
    harness: Harness,
) -> None:
    _jam_mid_stack(harness)
    harness.acceptor.finish_stack()  # the driver reports the stacked event after all
    harness.pump()
    assert harness.engine.snapshot.inserted == Money(2000)
    assert len(harness.of_type(E.BILL_STACKED)) == 1
    assert harness.journal.open_intents() == []


def test_new_limits_from_the_hub_wait_for_the_resident_to_finish(harness: Harness) -> None:
    from kiosk.config import CardFee

    cheaper = harness.config.model_copy(
        update={"card_fee": CardFee(percent_bp=0, minimum_cents=50)}
    )
    harness.to_method("43.17")
    assert harness.engine.snapshot.card_fee == Money(108)
    harness.send(ui.UpdateConfig(cheaper))
    assert harness.engine.snapshot.card_fee == Money(108)  # not in the middle of a payment
    assert harness.of_type(E.CONFIG_APPLIED) == []
    harness.send(ui.Cancel())
    assert harness.state is State.IDLE
    [applied] = harness.of_type(E.CONFIG_APPLIED)
    assert applied["card_fee"]["minimum_cents"] == 50
    harness.to_method("43.17")
    assert harness.engine.snapshot.card_fee == Money(50)


def test_a_count_the_acceptor_can_not_give_after_a_clear_is_asked_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy line loses the count that would settle the cleared note: it is asked again,
    not left until the acceptor happens to say something else."""
    from kiosk.ports import DeviceNotice

    _jam_mid_stack(harness)
    harness.acceptor.finish_stack(report=False)  # cleared into the cash box
    real_count = harness.acceptor.cashbox_count
    failures = iter([True, True])

    def busy_then_answers() -> int:
        if next(failures, False):
            raise OSError("no answer to the cash box query")
        return real_count()

    monkeypatch.setattr(harness.acceptor, "cashbox_count", busy_then_answers)
    harness.acceptor.emit(DeviceNotice("bill_acceptor", "jam_cleared"))
    harness.pump()
    [stacked] = harness.of_type(E.BILL_STACKED)
    assert stacked["recovered"] is True
    assert harness.journal.open_intents() == []
    assert harness.credited_cents() == 2000
    assert harness.calls.started.count("cashbox_count") >= 3
