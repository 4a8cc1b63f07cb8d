"""The cash path: escrow, stack or return, no change, credit only when stacked."""

from __future__ import annotations

from contract import entries as E
from kiosk.engine import inputs as ui
from kiosk.engine.states import State
from kiosk.money import Money
from tests.engine.conftest import Harness


def test_exact_cash_payment_completes_and_prints(harness: Harness) -> None:
    harness.to_cash("45.00")
    for dollars in (20, 20, 5):
        harness.acceptor.insert(dollars)
        harness.pump()
    assert harness.state is State.RECEIPT
    [payment] = harness.payments()
    assert payment["amount_cents"] == 4500
    assert payment["bills"] == {"500": 1, "2000": 2}
    assert payment["method"] == "cash"
    assert harness.engine.snapshot.receipt == "printed"
    assert harness.printer.printed[0].amount == Money(4500)
    assert harness.credited_cents() == sum(b.cents for b in harness.acceptor.cashbox)


def test_overpayment_is_credited_not_changed(harness: Harness) -> None:
    harness.to_cash("43.17")
    for dollars in (20, 20, 5):
        harness.acceptor.insert(dollars)
        harness.pump()
    [payment] = harness.payments()
    assert payment["amount_cents"] == 4500
    assert payment["balance_after_cents"] == 4317 - 4500
    assert harness.printer.printed[0].balance_after == Money(-183)


def test_credit_only_when_the_acceptor_reports_stacked(harness: Harness) -> None:
    harness.acceptor.auto = False
    harness.to_cash("43.17")
    harness.acceptor.insert(20)
    snap = harness.pump()
    assert snap.inserted == Money(0)
    assert snap.bill_in_escrow
    assert harness.acceptor.commands[-1] == "stack"
    assert E.BILL_STACK_REQUESTED in harness.types()
    assert E.BILL_STACKED not in harness.types()
    harness.acceptor.finish_stack()
    assert harness.pump().inserted == Money(2000)


def test_intent_is_journaled_before_the_stack_command(harness: Harness) -> None:
    seen_at_command: list[list[str]] = []
    original = harness.acceptor.stack

    def stack() -> None:
        seen_at_command.append(harness.types())
        original()

    harness.acceptor.stack = stack  # type: ignore[method-assign]
    harness.to_cash()
    harness.acceptor.insert(20)
    harness.pump()
    assert seen_at_command[0][-1] == E.BILL_STACK_REQUESTED


def test_bill_that_would_pass_the_ceiling_is_returned(harness: Harness) -> None:
    # balance 43.17, max overpayment 100.00: ceiling 143.17 for cash
    harness.to_cash("43.17")
    harness.acceptor.insert(20)
    harness.pump()
    harness.acceptor.insert(100)  # 120 <= 143.17 -> stacked, payment complete (>= 43.17)
    harness.pump()
    assert harness.state is State.RECEIPT
    assert harness.payments()[0]["amount_cents"] == 12000


def test_bill_over_max_overpayment_returned_then_smaller_accepted(make_harness) -> None:  # type: ignore[no-untyped-def]
    from kiosk.config import KioskConfig, Limits

    h: Harness = make_harness(KioskConfig(limits=Limits(max_overpayment_cents=500)))
    h.to_cash("43.17")
    for _ in range(2):
        h.acceptor.insert(20)
        h.pump()
    h.acceptor.insert(20)  # 60.00 > 43.17 + 5.00
    snap = h.pump()
    assert snap.message == "bill_over_limit"
    assert h.acceptor.returned == [Money(2000)]
    assert h.state is State.CASH
    h.acceptor.insert(5)  # 45.00 <= 48.17
    h.pump()
    assert h.state is State.RECEIPT
    assert h.payments()[0]["amount_cents"] == 4500
    assert h.credited_cents() == 4500


def test_done_with_less_pays_what_was_inserted(harness: Harness) -> None:
    harness.to_cash("43.17")
    harness.acceptor.insert(20)
    harness.send(ui.FinishCash())
    assert harness.state is State.RECEIPT
    assert harness.payments()[0]["amount_cents"] == 2000


def test_done_with_nothing_goes_back_to_method(harness: Harness) -> None:
    harness.to_cash()
    harness.send(ui.FinishCash())
    assert harness.state is State.METHOD
    assert not harness.acceptor.enabled


def test_bill_arriving_after_cancel_is_returned(harness: Harness) -> None:
    harness.to_cash()
    harness.send(ui.Cancel())
    assert harness.state is State.IDLE
    assert not harness.acceptor.enabled
    assert harness.of_type(E.SESSION_ENDED)[0]["outcome"] == "cancelled"
    harness.acceptor.insert_anyway(20)  # it was already in the throat when we disabled
    harness.pump()
    assert harness.acceptor.returned == [Money(2000)]
    assert harness.credited_cents() == 0
    assert harness.payments() == []


def test_cancel_after_stacking_completes_with_what_was_inserted(harness: Harness) -> None:
    harness.to_cash("43.17")
    harness.acceptor.insert(10)
    harness.send(ui.Cancel())
    assert harness.state is State.RECEIPT
    assert harness.payments()[0]["amount_cents"] == 1000


def test_cancel_while_a_bill_is_stacking_waits_for_it(harness: Harness) -> None:
    harness.acceptor.auto = False
    harness.to_cash("43.17")
    harness.acceptor.insert(10)
    harness.pump()
    harness.send(ui.Cancel())
    assert harness.state is State.CASH
    assert harness.payments() == []
    harness.acceptor.finish_stack()
    harness.pump()
    assert harness.state is State.RECEIPT
    assert harness.payments()[0]["amount_cents"] == 1000


def test_jam_with_money_in_completes(harness: Harness) -> None:
    harness.to_cash("43.17")
    harness.acceptor.insert(20)
    harness.pump()
    harness.acceptor.fault("jam")
    harness.pump()
    assert harness.state is State.RECEIPT
    assert harness.payments()[0]["amount_cents"] == 2000
    assert harness.of_type(E.DEVICE_FAULT)[0]["reason"] == "jam"


def test_jam_during_stack_settled_by_cash_box_count(harness: Harness) -> None:
    harness.acceptor.auto = False
    harness.to_cash("43.17")
    harness.acceptor.insert(20)
    harness.pump()
    harness.acceptor.finish_stack(report=False)  # it went in, but the report is lost
    harness.acceptor.fault("jam")
    harness.pump()
    [stacked] = harness.of_type(E.BILL_STACKED)
    assert stacked["recovered"] is True
    assert harness.state is State.RECEIPT
    assert harness.payments()[0]["amount_cents"] == 2000


def test_jam_before_money_goes_back_to_method_with_message(harness: Harness) -> None:
    harness.to_cash()
    harness.acceptor.fault("jam")
    snap = harness.pump()
    assert harness.state is State.METHOD
    assert snap.message == "cash_unavailable"
    assert not snap.cash_available


def test_rejected_bill_shows_a_message(harness: Harness) -> None:
    harness.to_cash()
    harness.acceptor.insert(2)  # $2 not enabled
    snap = harness.pump()
    assert snap.message == "bill_rejected"
    assert E.BILL_REJECTED in harness.types()


def test_bill_inserted_when_not_taking_cash_is_returned(harness: Harness) -> None:
    harness.to_method()
    harness.acceptor.insert_anyway(20)
    harness.pump()
    assert harness.acceptor.returned == [Money(2000)]
    assert harness.state is State.METHOD
    returned = harness.of_type(E.BILL_RETURNED)
    intents = harness.of_type(E.BILL_RETURN_REQUESTED)
    assert returned and intents and intents[0]["reason"] == "not_taking_cash"


def test_max_cash_per_transaction(make_harness) -> None:  # type: ignore[no-untyped-def]
    from kiosk.config import KioskConfig, Limits

    h: Harness = make_harness(KioskConfig(limits=Limits(max_cash_cents=5000)))
    h.to_method("60.00")
    snap = h.send(ui.ChooseMethod("cash"))
    assert h.state is State.METHOD
    assert snap.message == "cash_over_limit"
    assert not snap.cash_available
