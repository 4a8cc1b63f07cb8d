"""Start-up recovery of every intent type, against the fakes' "hardware truth".

Each test leaves an intent open the way a power cut would (the engine stops at a crash
point, or entries are appended by hand), reopens the journal file, and runs
:func:`kiosk.recovery.recover` with no engine. The fakes keep what the devices really did:
bills in the cash box, approvals in the terminal's ledger, receipts that came out.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contract import entries as E
from kiosk.engine import inputs as ui
from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import CardOutcome, DeviceNotice
from tests.engine.conftest import ArmPowerCut, Harness, PowerCut
from tests.store.builders import batch_closed, cash_payment, write

AMOUNT, FEE = Money(4317), Money(108)


def _settled(h: Harness) -> None:
    """What must hold after any recovery: nothing open, chain sound, a second run idle."""
    assert h.journal.open_intents() == []
    assert h.journal.verify().ok
    last = h.journal.last_seq()
    again = h.recover()
    assert not again.anything, again.lines()
    assert h.journal.last_seq() == last
    assert h.credited_cents() == sum(b.cents for b in h.acceptor.cashbox)


def _ended(h: Harness) -> dict[str, object]:
    [ended] = h.of_type(E.SESSION_ENDED)
    assert ended["outcome"] == "recovered"
    return ended


def _stack_pending(h: Harness) -> None:
    h.acceptor.auto = False
    h.to_cash("43.17")
    h.acceptor.insert(20)
    h.pump()
    assert [e.type for e in h.journal.open_intents()] == [E.BILL_STACK_REQUESTED]


# ----------------------------------------------------------------------------- bills


def test_stack_intent_and_the_cash_box_grew(harness: Harness) -> None:
    _stack_pending(harness)
    harness.acceptor.finish_stack(report=False)  # in the box; the report died with the power
    report = harness.recover()
    [intent] = [e for e in harness.journal.entries() if e.type == E.BILL_STACK_REQUESTED]
    [stacked] = harness.of_type(E.BILL_STACKED)
    assert stacked["intent_seq"] == intent.seq
    assert stacked["recovered"] is True
    assert stacked["bill_id"] == intent.payload["bill_id"]
    [payment] = harness.payments()
    assert payment["amount_cents"] == 2000 and payment["recovered"] is True
    assert payment["method"] == "cash" and payment["bills"] == {"2000": 1}
    [receipt] = harness.printer.printed
    assert receipt.confirmation == payment["confirmation"]
    assert receipt.amount == Money(2000)
    assert E.RECEIPT_PRINTED in harness.types()
    _ended(harness)
    assert any("stacked" in line for line in report.intents)
    assert any("completed" in line for line in report.sessions)
    _settled(harness)


def test_stack_intent_and_the_bill_still_in_escrow(harness: Harness) -> None:
    _stack_pending(harness)
    harness.acceptor.auto = True  # after the restart it answers as usual
    report = harness.recover()
    [not_stacked] = harness.of_type(E.BILL_NOT_STACKED)
    assert not_stacked["denomination_cents"] == 2000
    assert harness.acceptor.returned == [Money(2000)]
    assert harness.acceptor.escrow is None
    [returned] = harness.of_type(E.BILL_RETURNED)
    assert returned["recovered"] is True
    assert harness.payments() == []
    assert E.BILL_STACKED not in harness.types()
    _ended(harness)
    assert "returned" in report.intents[0]
    _settled(harness)


def test_stack_intent_and_the_bill_gone(harness: Harness) -> None:
    """Neither in the box nor in escrow (the acceptor gave it back itself): not credited."""
    _stack_pending(harness)
    harness.acceptor.escrow = None
    harness.recover()
    assert E.BILL_NOT_STACKED in harness.types()
    assert harness.acceptor.commands.count("return") == 0
    assert harness.payments() == []
    _settled(harness)


def test_stack_intent_written_but_never_sent(harness: Harness, power_cut: ArmPowerCut) -> None:
    power_cut("cash.after_stack_intent")
    harness.to_cash("43.17")
    harness.acceptor.insert(20)
    with pytest.raises(PowerCut):
        harness.pump()
    assert harness.acceptor.commands.count("stack") == 0
    harness.recover()
    assert harness.acceptor.returned == [Money(2000)]
    assert harness.payments() == []
    _settled(harness)


def test_stacked_journaled_then_power_cut_completes_once(
    harness: Harness, power_cut: ArmPowerCut
) -> None:
    power_cut("cash.after_stacked_journaled", nth=2)
    harness.to_cash("43.17")
    harness.acceptor.insert(20)
    harness.pump()
    harness.acceptor.insert(5)
    with pytest.raises(PowerCut):
        harness.pump()
    assert harness.journal.open_intents() == []  # the stacks are settled; the session is not
    harness.recover()
    [payment] = harness.payments()
    assert payment["amount_cents"] == 2500
    assert payment["bills"] == {"500": 1, "2000": 1}
    _settled(harness)


def test_return_intent_and_the_bill_still_in_escrow(harness: Harness) -> None:
    harness.acceptor.auto = False
    harness.to_method()
    harness.acceptor.insert_anyway(20)  # not taking cash: it goes back
    harness.pump()
    assert [e.type for e in harness.journal.open_intents()] == [E.BILL_RETURN_REQUESTED]
    harness.acceptor.auto = True
    report = harness.recover()
    assert harness.acceptor.returned == [Money(2000)]
    [intent] = [e for e in harness.journal.entries() if e.type == E.BILL_RETURN_REQUESTED]
    returned = harness.of_type(E.BILL_RETURNED)
    assert [r["intent_seq"] for r in returned] == [intent.seq]
    assert harness.payments() == []
    assert report.intents == [f"{intent.seq} {E.BILL_RETURN_REQUESTED} -> returned"]
    _settled(harness)


def test_return_intent_but_the_acceptor_stacked_it(harness: Harness) -> None:
    """Asked to return, the acceptor stacked instead: the bill is the resident's money."""
    harness.acceptor.auto = False
    harness.to_cash("43.17")
    harness.acceptor.insert(20)
    harness.pump()
    harness.acceptor.finish_stack()
    harness.pump()
    harness.send(ui.FinishCash())  # 20.00 paid, receipt out
    harness.acceptor.insert_anyway(10)  # pushed in on the receipt screen: goes back...
    harness.pump()
    harness.acceptor.finish_stack(report=False)  # ...but ends up in the box
    harness.recover()
    stacked = harness.of_type(E.BILL_STACKED)
    assert [s["denomination_cents"] for s in stacked] == [2000, 1000]
    assert stacked[1]["recovered"] is True
    assert len(harness.payments()) == 1  # the session was already paid; the $10 is on record
    _settled(harness)


def test_return_intent_outside_any_session_stacked(harness: Harness) -> None:
    """A bill pushed in on the attract screen that the acceptor kept: journaled, not lost."""
    harness.acceptor.auto = False
    harness.acceptor.insert_anyway(5)
    harness.pump()
    [intent] = harness.journal.open_intents()
    assert intent.payload["session_id"] is None
    harness.acceptor.finish_stack(report=False)
    harness.recover()
    [stacked] = harness.of_type(E.BILL_STACKED)
    assert stacked["intent_seq"] == intent.seq and stacked["denomination_cents"] == 500
    assert harness.payments() == []
    _settled(harness)


# ----------------------------------------------------------------------------- card


def _sale_pending(h: Harness, power_cut: ArmPowerCut) -> str:
    power_cut("card.after_sale_sent")
    h.to_method("43.17")
    with pytest.raises(PowerCut):
        h.send(ui.ChooseMethod("card"))
    [(reference, total)] = h.terminal.sales
    assert total == AMOUNT + FEE
    assert [e.type for e in h.journal.open_intents()] == [E.CARD_SALE_REQUESTED]
    return reference


def test_sale_intent_and_the_terminal_approved(harness: Harness, power_cut: ArmPowerCut) -> None:
    reference = _sale_pending(harness, power_cut)
    assert reference in harness.terminal.approved  # the host took the money
    report = harness.recover()
    [approved] = harness.of_type(E.CARD_SALE_APPROVED)
    assert approved["recovered"] is True and approved["reference"] == reference
    [payment] = harness.payments()
    assert payment["method"] == "card" and payment["recovered"] is True
    assert (payment["amount_cents"], payment["fee_cents"]) == (AMOUNT.cents, FEE.cents)
    [receipt] = harness.printer.printed
    assert (receipt.card_last4, receipt.fee) == ("4242", FEE)
    assert "approved" in report.intents[0]
    _ended(harness)
    harness.assert_card_invariants()
    _settled(harness)


def test_sale_intent_and_the_terminal_declined(harness: Harness, power_cut: ArmPowerCut) -> None:
    harness.terminal.next_outcome = CardOutcome.DECLINED
    harness.terminal.status_answer = CardOutcome.DECLINED
    _sale_pending(harness, power_cut)
    harness.recover()
    assert E.CARD_SALE_DECLINED in harness.types()
    assert harness.payments() == []
    assert harness.terminal.reversal_requests == []
    _ended(harness)
    _settled(harness)


def test_sale_intent_and_the_outcome_unknown_is_reversed(
    harness: Harness, power_cut: ArmPowerCut
) -> None:
    harness.terminal.status_blind = True
    reference = _sale_pending(harness, power_cut)
    assert reference in harness.terminal.approved
    report = harness.recover()
    [requested] = harness.of_type(E.CARD_REVERSAL_REQUESTED)
    assert requested["reference"] == reference and requested["reason"] == "recovery"
    assert harness.terminal.reversed == [reference]
    assert reference not in harness.terminal.approved
    assert harness.payments() == []
    assert report.intents[0].endswith("unknown; reversed")
    harness.assert_card_invariants()
    _settled(harness)


def test_sale_intent_unknown_and_the_reversal_fails(
    harness: Harness, power_cut: ArmPowerCut
) -> None:
    harness.terminal.status_blind = True
    harness.terminal.reversal_works = False
    reference = _sale_pending(harness, power_cut)
    report = harness.recover()
    assert report.intents[0].endswith("unknown; reversal failed")
    [failed] = harness.of_type(E.CARD_REVERSAL_FAILED)
    assert failed["reference"] == reference
    assert harness.payments() == []
    harness.assert_card_invariants(failed_reversals=1)


def test_approval_journaled_then_power_cut_completes_once(
    harness: Harness, power_cut: ArmPowerCut
) -> None:
    power_cut("card.after_approved_journaled")
    harness.to_method("43.17")
    with pytest.raises(PowerCut):
        harness.send(ui.ChooseMethod("card"))
    assert harness.journal.open_intents() == []
    harness.recover()
    [payment] = harness.payments()
    assert (payment["amount_cents"], payment["fee_cents"]) == (AMOUNT.cents, FEE.cents)
    assert len(harness.terminal.sales) == 1
    harness.assert_card_invariants()
    _settled(harness)


def test_reversal_intent_open_is_retried(harness: Harness, power_cut: ArmPowerCut) -> None:
    """In doubt, status unknown, power cut between the reversal intent and the command."""
    harness.terminal.approve_in_doubt = True
    harness.terminal.status_blind = True
    power_cut("card.after_reversal_intent")
    harness.to_card()
    reference = harness.reference
    harness.terminal.answer(CardOutcome.IN_DOUBT)
    with pytest.raises(PowerCut):
        harness.pump()
    assert harness.terminal.reversal_requests == []
    open_types = sorted(e.type for e in harness.journal.open_intents())
    assert open_types == [E.CARD_REVERSAL_REQUESTED, E.CARD_SALE_REQUESTED]
    harness.recover()
    assert reference in harness.terminal.reversal_requests
    assert reference not in harness.terminal.approved
    assert harness.payments() == []
    harness.assert_card_invariants()
    _settled(harness)


def test_a_reversal_that_failed_in_the_engine_is_retried_at_start_up(harness: Harness) -> None:
    harness.terminal.approve_in_doubt = True
    harness.terminal.status_blind = True
    harness.terminal.reversal_works = False
    harness.to_card()
    reference = harness.reference
    harness.terminal.answer(CardOutcome.IN_DOUBT)
    harness.pump()
    assert E.CARD_REVERSAL_FAILED in harness.types()
    assert [e.type for e in harness.journal.open_intents()] == [E.CARD_SALE_REQUESTED]
    harness.terminal.reversal_works = True  # the terminal is back after the restart
    harness.recover()
    assert reference not in harness.terminal.approved
    assert harness.terminal.reversed == [reference]
    assert harness.payments() == []
    harness.assert_card_invariants(failed_reversals=1)
    _settled(harness)


def test_reversal_intent_written_by_hand_is_retried(harness: Harness) -> None:
    """A late approval outside any session whose reversal never got to the terminal."""
    harness.terminal.approved["LATE-1"] = Money(1500)
    harness.journal.append(
        E.CARD_SALE_APPROVED,
        {
            "session_id": None,
            "intent_seq": None,
            "reference": "LATE-1",
            "total_cents": 1500,
            "auth_code": "Z9",
            "brand": "VISA",
            "last4": "4242",
            "terminal_ref": "T1",
            "receipt_lines": [],
            "recovered": False,
            "late": True,
        },
    )
    intent = harness.journal.append(
        E.CARD_REVERSAL_REQUESTED,
        {
            "session_id": None,
            "reference": "LATE-1",
            "reason": "late_approval",
            "sale_intent_seq": None,
        },
    )
    report = harness.recover()
    assert report.intents == [f"{intent.seq} {E.CARD_REVERSAL_REQUESTED} -> reversed"]
    [reversed_] = harness.of_type(E.CARD_REVERSED)
    assert reversed_["intent_seq"] == intent.seq
    assert harness.terminal.reversed == ["LATE-1"]
    harness.assert_card_invariants()
    _settled(harness)


# ----------------------------------------------------------------------------- receipts


def _receipt_pending(h: Harness, power_cut: ArmPowerCut) -> dict[str, object]:
    h.printer.auto = False
    power_cut("receipt.after_print_sent")
    h.to_cash("20.00")
    h.acceptor.insert(20)
    with pytest.raises(PowerCut):
        h.pump()
    assert [e.type for e in h.journal.open_intents()] == [E.RECEIPT_PRINT_REQUESTED]
    [payment] = h.payments()
    return payment


def test_receipt_intent_and_it_printed(harness: Harness, power_cut: ArmPowerCut) -> None:
    payment = _receipt_pending(harness, power_cut)
    harness.printer.finish()  # it came out; the engine never heard
    report = harness.recover()
    [printed] = harness.of_type(E.RECEIPT_PRINTED)
    assert printed["recovered"] is True
    assert printed["confirmation"] == payment["confirmation"]
    assert len(harness.printer.printed) == 1, "printed twice"
    assert len(harness.payments()) == 1
    assert report.intents[0].endswith("printed")
    _ended(harness)
    _settled(harness)


def test_receipt_intent_and_it_did_not_print(harness: Harness, power_cut: ArmPowerCut) -> None:
    payment = _receipt_pending(harness, power_cut)
    harness.printer.pending.clear()  # lost with the power
    report = harness.recover()
    [failed] = harness.of_type(E.RECEIPT_FAILED)
    assert failed["recovered"] is True
    assert failed["confirmation"] == payment["confirmation"]
    assert failed["reason"] == "interrupted by a restart"
    assert len(harness.payments()) == 1
    assert "not printed" in report.intents[0]
    _settled(harness)


def test_receipt_intent_and_the_printer_can_not_tell(
    harness: Harness, power_cut: ArmPowerCut
) -> None:
    _receipt_pending(harness, power_cut)
    harness.printer.remembers = False
    harness.recover()
    [failed] = harness.of_type(E.RECEIPT_FAILED)
    assert failed["reason"] == "printer can not tell"
    _settled(harness)


def test_completed_payment_without_a_receipt_intent_prints_on_recovery(
    harness: Harness, power_cut: ArmPowerCut
) -> None:
    power_cut("payment.after_completed_journaled")
    harness.to_cash("20.00")
    harness.acceptor.insert(20)
    with pytest.raises(PowerCut):
        harness.pump()
    assert E.RECEIPT_PRINT_REQUESTED not in harness.types()
    harness.recover()
    [payment] = harness.payments()
    [receipt] = harness.printer.printed
    assert receipt.confirmation == payment["confirmation"]
    assert receipt.amount == Money(2000)
    assert receipt.method == "cash"
    [printed] = harness.of_type(E.RECEIPT_PRINTED)
    assert printed["confirmation"] == payment["confirmation"]
    _ended(harness)
    _settled(harness)


def test_recovery_with_a_broken_printer_still_finishes(harness: Harness) -> None:
    _stack_pending(harness)
    harness.acceptor.finish_stack(report=False)
    harness.printer.works = False
    harness.recover()
    assert len(harness.payments()) == 1
    assert E.RECEIPT_FAILED in harness.types()
    _settled(harness)


# ----------------------------------------------------------------------------- sessions


@pytest.mark.parametrize("where", ["find_account", "amount", "method", "cash"])
def test_open_session_without_money_is_ended(harness: Harness, where: str) -> None:
    {
        "find_account": harness.to_find_account,
        "amount": harness.to_amount,
        "method": harness.to_method,
        "cash": harness.to_cash,
    }[where]()
    report = harness.recover()
    assert report.intents == []
    assert report.sessions and report.sessions[0].endswith("abandoned")
    assert harness.payments() == []
    _ended(harness)
    _settled(harness)


def test_nothing_to_do_writes_nothing(harness: Harness) -> None:
    harness.to_cash("20.00")
    harness.acceptor.insert(20)
    harness.pump()
    harness.send(ui.Finish())
    last = harness.journal.last_seq()
    report = harness.recover()
    assert not report.anything
    assert harness.journal.last_seq() == last


def test_power_cut_during_recovery_then_recovery_again(
    harness: Harness, power_cut: ArmPowerCut
) -> None:
    _stack_pending(harness)
    harness.acceptor.finish_stack(report=False)
    power_cut("recovery.after_completed_journaled")
    with pytest.raises(PowerCut):
        harness.recover()
    harness.recover()
    [payment] = harness.payments()
    assert payment["amount_cents"] == 2000
    assert [r.confirmation for r in harness.printer.printed] == [payment["confirmation"]]
    _settled(harness)


def test_a_new_engine_takes_payments_after_recovery(harness: Harness) -> None:
    _stack_pending(harness)
    harness.acceptor.finish_stack(report=False)
    harness.recover()
    harness.new_engine()
    harness.acceptor.auto = True
    harness.to_cash("20.00")
    harness.acceptor.insert(20)
    harness.pump()
    assert harness.state is State.RECEIPT
    assert [p["amount_cents"] for p in harness.payments()] == [2000, 2000]
    assert harness.journal.verify().ok


def test_device_notices_during_recovery_are_journaled(harness: Harness) -> None:
    harness.acceptor.auto = False
    harness.to_cash()
    harness.acceptor.insert(20)
    harness.pump()  # stack intent written, the acceptor has not answered

    original = harness.acceptor.return_bill

    def power_up_then_return() -> None:
        harness.acceptor.emit(DeviceNotice("bill_acceptor", "power_up_with_bill_in_escrow"))
        original()
        harness.acceptor.finish_return()

    harness.acceptor.return_bill = power_up_then_return  # type: ignore[method-assign]
    harness.recover()
    notices = harness.of_type(E.DEVICE_NOTICE)
    assert notices == [
        {"device": "bill_acceptor", "kind": "power_up_with_bill_in_escrow", "detail": ""}
    ]
    assert harness.journal.open_intents() == []


def test_a_sale_found_approved_after_its_session_ended_is_reversed(harness: Harness) -> None:
    """The answer was lost, the terminal could not say, and the reversal failed: the resident
    left without a payment. When the terminal later shows the sale approved, recovery must
    not leave the money taken with no payment: it reverses the sale."""
    t = harness.terminal
    t.status_blind = t.approve_in_doubt = True
    t.reversal_works = False
    t.next_outcome = CardOutcome.IN_DOUBT
    harness.to_card(answer=True)
    harness.pump()
    assert harness.state is State.CARD_DECLINED, harness.state
    [reference] = [r for r, _ in t.sales]
    assert reference in t.approved and E.CARD_REVERSAL_FAILED in harness.types()
    # the resident is not told that nothing was charged
    assert harness.engine.snapshot.card_decline_reason == "in_doubt_unreversed"
    harness.send(ui.Cancel())
    assert harness.state is State.IDLE
    assert harness.session_outcomes() == ["cancelled"]
    t.status_blind, t.reversal_works = False, True  # the terminal can see its ledger again
    report = harness.recover()
    assert report.intents[0].endswith("approved after its session ended; reversed")
    assert t.reversed == [reference] and reference not in t.approved
    assert harness.payments() == []
    harness.assert_card_invariants(failed_reversals=1)
    _settled(harness)


# ----------------------------------------------------------------------------- archived


def test_an_old_open_intent_is_recovered_after_the_journal_was_archived(
    harness: Harness,
) -> None:
    """Entries the hub holds are archived; an intent left open long ago is not, and is
    found and settled however many entries came after it."""
    journal = harness.journal

    def payments(tag: str, count: int) -> None:
        for n in range(count):
            write(journal, cash_payment(f"{tag}{n}", str(2000 + n), [500]))

    def close() -> None:
        journal.record(batch_closed(journal.open_batch_id()))

    for tag in ("a", "b"):
        payments(tag, 5)
        close()
    _stack_pending(harness)
    [intent] = journal.open_intents()
    for tag in ("c", "d"):
        payments(tag, 40)
        close()
    journal.set_acked_seq(journal.last_seq())
    record = journal.archive(datetime(2100, 1, 1, tzinfo=UTC))
    assert record is not None and record.last_seq < intent.seq
    assert journal.get(1) is None and journal.get(intent.seq) == intent

    harness.acceptor.finish_stack(report=False)
    report = harness.recover()
    assert report.intents == [f"{intent.seq} {E.BILL_STACK_REQUESTED} -> stacked"]
    [stacked] = [p for p in harness.of_type(E.BILL_STACKED) if p["recovered"]]
    assert stacked["intent_seq"] == intent.seq
    assert len(report.sessions) == 1 and "completed" in report.sessions[0]
    assert harness.journal.verify(full=True).ok
    assert harness.journal.open_intents() == []
    assert not harness.recover().anything
