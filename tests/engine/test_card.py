"""The card path: every approval is a payment or reversed, whatever the terminal says when.

``Harness.assert_card_invariants`` checks DESIGN.md rule 5 against the fake terminal's own
ledger (what the host really charged) after every scenario.
"""

from __future__ import annotations

from contract import entries as E
from kiosk.engine import inputs as ui
from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import CardOutcome, CardProgress, CardResult, DeviceHealth, Health
from tests.engine.conftest import Harness

AMOUNT = Money(4317)
FEE = Money(108)  # 2.5 % of 43.17 = 1.07925 -> 1.08 (default rule; minimum 1.00)


def _declined(h: Harness, outcome: CardOutcome = CardOutcome.DECLINED) -> str:
    h.to_card()
    reference = h.reference
    h.terminal.answer(outcome)
    h.pump()
    assert h.state is State.CARD_DECLINED
    return reference


def test_fee_is_shown_before_the_choice(harness: Harness) -> None:
    harness.to_method("43.17")
    snap = harness.engine.snapshot
    assert snap.card_fee == FEE
    assert snap.amount == AMOUNT
    assert snap.card_available and snap.cash_available


def test_approved_sale_charges_amount_plus_fee_and_credits_the_amount(harness: Harness) -> None:
    harness.to_method("43.17")
    harness.send(ui.ChooseMethod("card"))
    assert harness.state is State.RECEIPT
    [(reference, charged)] = harness.terminal.sales
    assert charged == AMOUNT + FEE
    [chosen] = harness.of_type(E.METHOD_CHOSEN)
    assert (chosen["method"], chosen["fee_cents"]) == ("card", FEE.cents)
    [request] = harness.of_type(E.CARD_SALE_REQUESTED)
    assert request["reference"] == reference
    assert (request["amount_cents"], request["fee_cents"], request["total_cents"]) == (
        4317,
        108,
        4425,
    )
    [approved] = harness.of_type(E.CARD_SALE_APPROVED)
    assert approved["recovered"] is False and approved["total_cents"] == 4425
    [payment] = harness.payments()
    assert payment["method"] == "card"
    assert payment["amount_cents"] == AMOUNT.cents  # the fee is not credited to the account
    assert payment["fee_cents"] == FEE.cents
    assert payment["cash_cents"] == 0
    assert payment["balance_after_cents"] == 0
    card = payment["card"]
    assert isinstance(card, dict)
    assert card["reference"] == reference
    assert (card["brand"], card["last4"], card["auth_code"]) == ("VISA", "4242", "A1B2C3")
    assert card["total_cents"] == 4425
    [receipt] = harness.printer.printed
    assert (receipt.card_brand, receipt.card_last4, receipt.card_auth_code) == (
        "VISA",
        "4242",
        "A1B2C3",
    )
    assert receipt.fee == FEE and receipt.total_charged == AMOUNT + FEE
    snap = harness.engine.snapshot
    assert snap.amount == AMOUNT and snap.method == "card"
    assert harness.journal.open_intents() == []
    harness.assert_card_invariants()


def test_sale_intent_is_journaled_before_the_terminal_is_asked(harness: Harness) -> None:
    seen: list[list[str]] = []
    original = harness.terminal.start_sale

    def start_sale(amount: Money, reference: str) -> None:
        seen.append(harness.types())
        original(amount, reference)

    harness.terminal.start_sale = start_sale  # type: ignore[method-assign]
    harness.to_method()
    harness.send(ui.ChooseMethod("card"))
    assert seen[0][-1] == E.CARD_SALE_REQUESTED


def test_declined_then_retry_approved_uses_a_new_reference(harness: Harness) -> None:
    first = _declined(harness)
    snap = harness.engine.snapshot
    assert snap.message == "card_declined"
    assert snap.card_decline_reason == "declined"
    assert harness.of_type(E.CARD_SALE_DECLINED)[0]["reference"] == first
    harness.terminal.next_outcome = CardOutcome.APPROVED
    harness.send(ui.RetryCard())
    assert harness.state is State.RECEIPT
    second = harness.terminal.sales[-1][0]
    assert second != first
    assert [r for r, _ in harness.terminal.sales] == [first, second]
    [payment] = harness.payments()
    card = payment["card"]
    assert isinstance(card, dict) and card["reference"] == second
    assert payment["amount_cents"] == AMOUNT.cents and payment["fee_cents"] == FEE.cents
    assert harness.journal.open_intents() == []
    harness.assert_card_invariants()


def test_declined_then_cash(harness: Harness) -> None:
    _declined(harness)
    snap = harness.send(ui.ChooseMethod("cash"))
    assert harness.state is State.CASH
    assert snap.method == "cash"
    for dollars in (20, 20, 5):
        harness.acceptor.insert(dollars)
        harness.pump()
    [payment] = harness.payments()
    assert (payment["method"], payment["amount_cents"], payment["fee_cents"]) == ("cash", 4500, 0)
    assert payment["card"] is None
    assert harness.of_type(E.METHOD_CHOSEN)[-1] == {
        "session_id": payment["session_id"],
        "method": "cash",
        "fee_cents": 0,
    }
    harness.assert_card_invariants()


def test_cancelled_at_the_terminal(harness: Harness) -> None:
    reference = _declined(harness, CardOutcome.CANCELLED)
    [cancelled] = harness.of_type(E.CARD_SALE_CANCELLED)
    assert cancelled["reference"] == reference
    assert harness.engine.snapshot.card_decline_reason == "cancelled"
    assert harness.payments() == []
    assert harness.journal.open_intents() == []


def test_resident_cancel_aborts_the_sale_and_waits_for_the_terminal(harness: Harness) -> None:
    harness.to_card()
    harness.send(ui.Cancel())
    assert harness.terminal.aborts == 1
    assert harness.state is State.CARD
    harness.terminal.answer(CardOutcome.CANCELLED)
    harness.pump()
    # they asked to leave: straight back to the start, not to "card declined"
    assert harness.state is State.IDLE
    assert len(harness.of_type(E.CARD_SALE_CANCELLED)) == 1
    assert harness.payments() == []
    assert harness.session_outcomes() == ["cancelled"]
    harness.assert_card_invariants()


def test_resident_cancel_but_the_terminal_approved_anyway(harness: Harness) -> None:
    harness.to_card()
    harness.send(ui.Cancel())
    harness.terminal.answer(CardOutcome.APPROVED)
    harness.pump()
    assert harness.state is State.RECEIPT
    assert len(harness.payments()) == 1
    assert harness.terminal.reversed == []
    harness.assert_card_invariants()


def test_in_doubt_then_status_says_approved(harness: Harness) -> None:
    harness.terminal.status_answer = CardOutcome.APPROVED
    harness.to_card()
    reference = harness.reference
    harness.terminal.answer(CardOutcome.IN_DOUBT)
    harness.pump()
    assert harness.terminal.status_queries == [reference]
    assert harness.state is State.RECEIPT
    [doubt] = harness.of_type(E.CARD_SALE_IN_DOUBT)
    assert doubt["reference"] == reference
    [approved] = harness.of_type(E.CARD_SALE_APPROVED)
    assert approved["recovered"] is True
    [payment] = harness.payments()
    assert payment["amount_cents"] == AMOUNT.cents
    assert harness.terminal.reversed == []
    assert harness.journal.open_intents() == []
    harness.assert_card_invariants()


def test_in_doubt_then_status_says_declined(harness: Harness) -> None:
    harness.terminal.status_answer = CardOutcome.DECLINED
    harness.to_card()
    harness.terminal.answer(CardOutcome.IN_DOUBT)
    harness.pump()
    assert harness.state is State.CARD_DECLINED
    assert E.CARD_SALE_DECLINED in harness.types()
    assert harness.terminal.reversal_requests == []
    assert harness.journal.open_intents() == []


def test_in_doubt_and_status_unknown_reverses_the_sale(harness: Harness) -> None:
    harness.terminal.approve_in_doubt = True  # the host did take the money...
    harness.terminal.status_blind = True  # ...but the status query can not tell
    harness.to_card()
    reference = harness.reference
    harness.terminal.answer(CardOutcome.IN_DOUBT)
    assert reference in harness.terminal.approved
    harness.pump()
    assert harness.state is State.CARD_DECLINED
    assert harness.engine.snapshot.card_decline_reason == "in_doubt_reversed"
    [requested] = harness.of_type(E.CARD_REVERSAL_REQUESTED)
    assert requested["reference"] == reference and requested["reason"] == "in_doubt"
    reversed_ = harness.of_type(E.CARD_REVERSED)
    assert reversed_ and all(r["reference"] == reference for r in reversed_)
    assert reference not in harness.terminal.approved
    assert harness.terminal.reversed == [reference]
    assert harness.payments() == []
    assert harness.journal.open_intents() == []
    harness.assert_card_invariants()


def test_status_query_that_fails_counts_as_unknown(harness: Harness) -> None:
    harness.terminal.approve_in_doubt = True
    harness.terminal.status_fails = True
    harness.to_card()
    reference = harness.reference
    harness.terminal.answer(CardOutcome.IN_DOUBT)
    harness.pump()
    assert harness.state is State.CARD_DECLINED
    assert harness.terminal.reversed == [reference]
    harness.assert_card_invariants()


def test_reversal_that_fails_is_journaled(harness: Harness) -> None:
    harness.terminal.approve_in_doubt = True
    harness.terminal.status_blind = True
    harness.terminal.reversal_works = False
    harness.to_card()
    reference = harness.reference
    harness.terminal.answer(CardOutcome.IN_DOUBT)
    harness.pump()
    assert harness.state is State.CARD_DECLINED
    [failed] = harness.of_type(E.CARD_REVERSAL_FAILED)
    assert failed["reference"] == reference
    [requested] = [e for e in harness.journal.entries() if e.type == E.CARD_REVERSAL_REQUESTED]
    assert failed["intent_seq"] == requested.seq
    assert E.CARD_REVERSED not in harness.types()
    assert reference in harness.terminal.approved  # finance has to chase this one
    assert harness.payments() == []
    harness.assert_card_invariants(failed_reversals=1)


def test_sale_time_out_aborts_asks_and_reverses(harness: Harness) -> None:
    harness.to_card()
    reference = harness.reference
    harness.terminal.approved[reference] = AMOUNT + FEE  # charged, but nobody hears about it
    harness.terminal.status_blind = True
    harness.wait(harness.config.timeouts.card_sale - 1)
    assert harness.state is State.CARD
    assert harness.terminal.aborts == 0
    harness.wait(1)
    assert harness.terminal.aborts == 1
    assert harness.terminal.status_queries == [reference]
    [doubt] = harness.of_type(E.CARD_SALE_IN_DOUBT)
    assert doubt["reason"] == "timeout"
    assert harness.terminal.reversed == [reference]
    assert reference not in harness.terminal.approved
    assert harness.state is State.CARD_DECLINED
    # the terminal's own answer to the abort comes late and changes nothing
    before = harness.types()
    harness.send(CardResult(reference, CardOutcome.CANCELLED))
    assert harness.types() == before
    assert harness.state is State.CARD_DECLINED
    assert harness.journal.open_intents() == []
    harness.assert_card_invariants()


def test_sale_time_out_when_the_host_approved_completes_the_payment(harness: Harness) -> None:
    harness.to_card()
    reference = harness.reference
    harness.terminal.approved[reference] = AMOUNT + FEE
    harness.wait(harness.config.timeouts.card_sale)
    assert harness.terminal.aborts == 1
    assert harness.state is State.RECEIPT
    [approved] = harness.of_type(E.CARD_SALE_APPROVED)
    assert approved["recovered"] is True
    assert len(harness.payments()) == 1
    harness.assert_card_invariants()


def test_late_approval_for_a_settled_reference_is_reversed(harness: Harness) -> None:
    first = _declined(harness)
    harness.terminal.approved[first] = AMOUNT + FEE  # the host changed its mind
    harness.send(harness.terminal.approval(first))
    assert harness.state is State.CARD_DECLINED
    [late] = harness.of_type(E.CARD_SALE_APPROVED)
    assert late["reference"] == first and late["late"] is True
    assert harness.terminal.reversed == [first]
    assert first not in harness.terminal.approved
    assert harness.payments() == []
    harness.assert_card_invariants()


def test_late_approval_after_the_session_ended_is_reversed(harness: Harness) -> None:
    first = _declined(harness)
    harness.send(ui.Cancel())
    assert harness.state is State.IDLE
    harness.terminal.approved[first] = AMOUNT + FEE
    harness.send(harness.terminal.approval(first))
    assert harness.state is State.IDLE
    assert harness.terminal.reversed == [first]
    assert harness.payments() == []
    harness.assert_card_invariants()


def test_late_approval_of_an_earlier_attempt_during_a_retry(harness: Harness) -> None:
    first = _declined(harness)
    harness.terminal.next_outcome = None
    harness.send(ui.RetryCard())
    second = harness.reference
    harness.terminal.approved[first] = AMOUNT + FEE
    harness.send(harness.terminal.approval(first))
    assert harness.state is State.CARD, "an old reference must not finish the current sale"
    assert harness.terminal.reversed == [first]
    harness.terminal.answer(CardOutcome.APPROVED, second)
    harness.pump()
    assert harness.state is State.RECEIPT
    [payment] = harness.payments()
    card = payment["card"]
    assert isinstance(card, dict) and card["reference"] == second
    harness.assert_card_invariants()


def test_the_same_approval_reported_twice_pays_once(harness: Harness) -> None:
    harness.to_method()
    harness.send(ui.ChooseMethod("card"))
    reference = harness.terminal.sales[-1][0]
    harness.send(harness.terminal.approval(reference))
    assert len(harness.payments()) == 1
    assert len(harness.of_type(E.CARD_SALE_APPROVED)) == 1
    assert harness.terminal.reversed == []
    harness.assert_card_invariants()


def test_progress_is_shown_only_for_the_current_sale(harness: Harness) -> None:
    harness.to_card()
    assert harness.engine.snapshot.card_prompt == "insert_card"
    snap = harness.send(CardProgress(harness.reference, "enter_pin"))
    assert snap.card_prompt == "enter_pin"
    snap = harness.send(CardProgress("SOMEONE-ELSE", "approved"))
    assert snap.card_prompt == "enter_pin"


def test_declined_result_for_another_reference_is_ignored(harness: Harness) -> None:
    harness.to_card()
    harness.send(CardResult("OTHER-1", CardOutcome.DECLINED))
    assert harness.state is State.CARD
    assert E.CARD_SALE_DECLINED not in harness.types()


def test_card_unavailable_keeps_the_method_screen(harness: Harness) -> None:
    harness.terminal.state = DeviceHealth(Health.FAULT, "disconnected")
    harness.to_method()
    assert harness.engine.snapshot.card_available is False
    snap = harness.send(ui.ChooseMethod("card"))
    assert harness.state is State.METHOD
    assert snap.message == "card_unavailable"
    assert harness.terminal.sales == []


def test_retry_not_possible_when_the_terminal_failed(harness: Harness) -> None:
    _declined(harness)
    harness.terminal.state = DeviceHealth(Health.FAULT, "disconnected")
    harness.send(ui.RetryCard())
    assert harness.state is State.CARD_DECLINED
    assert len(harness.terminal.sales) == 1


def test_cancelled_at_the_terminal_offers_retry_or_cash(harness: Harness) -> None:
    harness.to_card()
    harness.terminal.answer(CardOutcome.CANCELLED)
    harness.pump()
    assert harness.state is State.CARD_DECLINED
    assert harness.engine.snapshot.card_decline_reason == "cancelled"


def test_terminal_prompts_restart_the_sale_time_out(harness: Harness) -> None:
    """The limit counts the terminal's silence, as its T4 does: a slow sale with the
    terminal at work is not cut off; touches on the kiosk's screen do not extend it."""
    harness.to_card()
    limit, total = harness.config.timeouts.card_sale, harness.config.timeouts.card_sale_total
    rounds = int((total - limit) // (limit - 1))  # all that fit inside the sale's total cap
    assert rounds >= 1
    for _ in range(rounds):
        harness.clock.advance(limit - 1)
        harness.engine.submit(CardProgress(harness.reference, "enter_pin"))
        harness.send(ui.Touch())
    assert harness.state is State.CARD and harness.terminal.aborts == 0
    harness.wait(limit - 1)
    harness.send(ui.Touch())
    assert harness.state is State.CARD
    harness.wait(1)
    assert harness.state is State.CARD_DECLINED  # timed out: aborted, settled, reversed
    assert harness.terminal.aborts == 1
    harness.assert_card_invariants()


def test_the_sale_time_out_outlasts_the_terminal_protocols_t4() -> None:
    """The driver aborts at T4 and waits its abort grace: the engine must not go first."""
    from devices.zvt.session import Timing
    from kiosk.config import Timeouts

    zvt = Timing()
    assert Timeouts().card_sale > zvt.t4 + zvt.abort_grace


def test_a_terminal_that_keeps_talking_is_given_up_on_at_the_sales_total_limit(
    harness: Harness,
) -> None:
    """Prompts restart ``card_sale``, not ``card_sale_total``: a terminal saying "please
    wait" for ever does not hold the kiosk for ever."""
    harness.to_card()
    limit, total = harness.config.timeouts.card_sale, harness.config.timeouts.card_sale_total
    spoken = 0.0
    while spoken + limit - 1 < total:
        harness.clock.advance(limit - 1)
        spoken += limit - 1
        harness.engine.submit(CardProgress(harness.reference, "wait"))
        harness.pump()
        assert harness.state is State.CARD and harness.terminal.aborts == 0
    harness.wait(total - spoken)
    assert harness.state is State.CARD_DECLINED  # timed out: aborted, settled, reversed
    assert harness.terminal.aborts == 1
    harness.assert_card_invariants()


def test_the_sales_total_limit_outlasts_the_drivers_own() -> None:
    """The ZVT driver aborts at its ``sale_limit`` and waits its grace: the engine's cap on
    the whole sale comes after, as its per-word limit comes after T4."""
    from devices.zvt.session import Timing
    from kiosk.config import Timeouts

    zvt = Timing()
    assert Timeouts().card_sale_total > zvt.sale_limit + zvt.abort_grace


def test_terminal_failing_to_start_the_sale_is_settled_as_in_doubt(harness: Harness) -> None:
    def broken(amount: object, reference: str) -> None:
        harness.terminal.sales.append((reference, amount))  # type: ignore[arg-type]
        raise OSError("terminal link down")

    harness.terminal.start_sale = broken  # type: ignore[method-assign,assignment]
    harness.to_card()
    harness.pump()
    assert harness.state is State.CARD_DECLINED
    assert E.CARD_SALE_IN_DOUBT in harness.types()
    assert harness.journal.open_intents() == []
