"""The receipt: printed when it can be, and the payment stands when it can not."""

from __future__ import annotations

from contract import entries as E
from kiosk.confirmation import is_valid
from kiosk.engine import inputs as ui
from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import CardOutcome, DeviceHealth, Health, LookupSource
from kiosk.receipt_text import render_text
from tests.engine.conftest import Harness, MakeHarness
from tests.fakes import WITH_TECHNICIANS


def _pay_cash(h: Harness, amount: str = "20.00", *bills: int) -> None:
    h.to_cash(amount)
    for dollars in bills or (20,):
        h.acceptor.insert(dollars)
        h.pump()
    assert h.state is State.RECEIPT


def test_printed_receipt_is_journaled_against_its_intent(harness: Harness) -> None:
    _pay_cash(harness)
    [intent] = [e for e in harness.journal.entries() if e.type == E.RECEIPT_PRINT_REQUESTED]
    [printed] = harness.of_type(E.RECEIPT_PRINTED)
    assert printed["intent_seq"] == intent.seq
    [payment] = harness.payments()
    assert printed["confirmation"] == payment["confirmation"] == intent.payload["confirmation"]
    snap = harness.engine.snapshot
    assert snap.receipt == "printed"
    assert snap.confirmation == payment["confirmation"]
    assert is_valid(str(snap.confirmation))
    assert harness.journal.open_intents() == []


def test_payment_is_journaled_before_the_receipt_is_asked_for(harness: Harness) -> None:
    _pay_cash(harness)
    types = harness.types()
    assert types.index(E.PAYMENT_COMPLETED) < types.index(E.RECEIPT_PRINT_REQUESTED)
    assert types.index(E.RECEIPT_PRINT_REQUESTED) < types.index(E.RECEIPT_PRINTED)


def test_printer_fails_payment_still_completed(harness: Harness) -> None:
    harness.printer.works = False
    _pay_cash(harness)
    [payment] = harness.payments()
    assert payment["amount_cents"] == 2000
    [failed] = harness.of_type(E.RECEIPT_FAILED)
    assert failed["reason"] == "paper_out"
    assert failed["confirmation"] == payment["confirmation"]
    snap = harness.engine.snapshot
    assert snap.receipt == "failed"
    assert snap.confirmation == payment["confirmation"]  # shown on screen instead
    assert harness.state is State.RECEIPT
    assert harness.printer.printed == []
    assert harness.journal.open_intents() == []


def test_unusable_printer_is_not_asked_to_print(harness: Harness) -> None:
    harness.printer.state = DeviceHealth(Health.FAULT, "cover_open")
    _pay_cash(harness)
    assert harness.printer.pending == [] and harness.printer.printed == []
    [failed] = harness.of_type(E.RECEIPT_FAILED)
    assert failed["reason"] == "cover_open"
    assert harness.engine.snapshot.receipt == "failed"
    assert len(harness.payments()) == 1
    assert harness.journal.open_intents() == []


def test_degraded_printer_still_prints(harness: Harness) -> None:
    harness.printer.state = DeviceHealth(Health.DEGRADED, "paper_low")
    _pay_cash(harness)
    assert len(harness.printer.printed) == 1
    assert harness.engine.snapshot.receipt == "printed"


def test_receipt_shows_printing_until_the_printer_answers(harness: Harness) -> None:
    harness.printer.auto = False
    _pay_cash(harness)
    assert harness.engine.snapshot.receipt == "printing"
    harness.printer.finish()
    assert harness.pump().receipt == "printed"


def test_receipt_that_finishes_after_the_resident_left_settles_its_intent(
    harness: Harness,
) -> None:
    """Done pressed while the receipt is still printing: the outcome still closes the intent."""
    harness.printer.auto = False
    _pay_cash(harness)
    harness.send(ui.Finish())
    assert harness.state is State.IDLE
    harness.printer.finish()
    harness.pump()
    [intent] = [e for e in harness.journal.entries() if e.type == E.RECEIPT_PRINT_REQUESTED]
    [printed] = harness.of_type(E.RECEIPT_PRINTED)
    assert printed["intent_seq"] == intent.seq
    assert printed["session_id"] == intent.payload["session_id"]
    assert harness.journal.open_intents() == []


def test_cash_receipt_content(harness: Harness) -> None:
    _pay_cash(harness, "43.17", 20, 20, 5)
    [receipt] = harness.printer.printed
    [payment] = harness.payments()
    assert receipt.amount == Money(4500)
    assert receipt.method == "cash"
    assert receipt.fee == Money(0)
    assert receipt.total_charged == Money(4500)
    assert receipt.cash_by_denomination == ((Money(500), 1), (Money(2000), 2))
    assert receipt.balance_after == Money(4317 - 4500)
    assert receipt.confirmation == payment["confirmation"]
    assert receipt.account_masked == "•••••0300"
    assert receipt.service_address_masked == "12•• Oak St"
    assert receipt.card_last4 == "" and receipt.card_brand == ""
    assert receipt.offline is False and receipt.review is False
    assert receipt.kiosk_id == harness.config.identity.kiosk_id
    assert receipt.paid_at_local.utcoffset() is not None
    assert receipt.paid_at_local.tzinfo is not None
    assert str(receipt.paid_at_local.tzinfo) == harness.config.locale.time_zone
    text = "\n".join(render_text(receipt))
    assert "100200300" not in text  # the account number is masked on paper
    assert "Credit on account" in text


def test_card_receipt_content(harness: Harness) -> None:
    harness.to_method("43.17")
    harness.send(ui.ChooseMethod("card"))
    assert harness.state is State.RECEIPT
    [receipt] = harness.printer.printed
    assert (receipt.card_brand, receipt.card_last4, receipt.card_auth_code) == (
        "VISA",
        "4242",
        "A1B2C3",
    )
    assert receipt.method == "card"
    assert receipt.amount == Money(4317)
    assert receipt.fee == Money(108)  # 2.5 % of 43.17 = 1.079 -> 1.08
    assert receipt.total_charged == Money(4317 + 108)
    assert receipt.terminal_lines == ("VISA ****4242", "APPROVED")
    assert receipt.balance_after == Money(0)


def test_offline_directory_marks_the_receipt(harness: Harness) -> None:
    harness.directory.is_online = False
    _pay_cash(harness)
    [receipt] = harness.printer.printed
    assert receipt.offline is True
    assert harness.engine.snapshot.offline is True
    assert harness.engine.snapshot.account is not None
    assert harness.engine.snapshot.account.source == "cache"
    assert "posted when the kiosk reconnects" in " ".join(render_text(receipt))


def test_going_offline_during_the_session_marks_the_receipt(harness: Harness) -> None:
    harness.to_cash("20.00")
    harness.directory.is_online = False
    harness.acceptor.insert(20)
    harness.pump()
    assert harness.printer.printed[0].offline is True


def test_manual_account_is_flagged_for_review(harness: Harness) -> None:
    harness.directory.is_online = False
    harness.directory.source = LookupSource.MANUAL
    harness.to_cash("20.00")
    assert harness.engine.snapshot.account is not None
    assert harness.engine.snapshot.account.review is True
    harness.acceptor.insert(20)
    harness.pump()
    [selected] = harness.of_type(E.ACCOUNT_SELECTED)
    assert selected["review"] is True and selected["source"] == "manual"
    [payment] = harness.payments()
    assert payment["review"] is True
    [receipt] = harness.printer.printed
    assert receipt.review is True
    assert "confirm it before posting" in " ".join(render_text(receipt))


def test_live_account_is_not_flagged(harness: Harness) -> None:
    _pay_cash(harness)
    assert harness.payments()[0]["review"] is False
    assert harness.printer.printed[0].review is False


def test_each_payment_gets_its_own_confirmation(harness: Harness) -> None:
    for _ in range(3):
        _pay_cash(harness)
        harness.send(ui.Finish())
    confirmations = [p["confirmation"] for p in harness.payments()]
    assert len(set(confirmations)) == 3
    assert [r.confirmation for r in harness.printer.printed] == confirmations


def test_declined_card_prints_nothing(harness: Harness) -> None:
    harness.terminal.next_outcome = CardOutcome.DECLINED
    harness.to_method()
    harness.send(ui.ChooseMethod("card"))
    assert harness.state is State.CARD_DECLINED
    assert harness.printer.printed == []
    assert E.RECEIPT_PRINT_REQUESTED not in harness.types()


def test_the_paper_page_says_which_receipt_printed_the_second_time(
    make_harness: MakeHarness,
) -> None:
    """Out of paper, a receipt fails; on the paper page the technician prints it again, and
    the page shows it printed (a second failure would show as failed)."""
    h = make_harness(WITH_TECHNICIANS)
    h.printer.works = False
    h.to_cash("20.00")
    h.acceptor.insert(20)
    h.pump()
    h.send(ui.Finish())
    h.printer.works = True
    h.to_service()
    [listed] = h.send(ui.ShowPaper()).unprinted
    assert listed.print_state == ""
    h.printer.auto = False
    [printing] = h.send(ui.Reprint((listed.confirmation,))).unprinted
    assert printing.print_state == "printing"
    h.printer.finish()
    [printed] = h.pump().unprinted
    assert printed.print_state == "printed"
    assert h.of_type(E.RECEIPT_PRINTED)[-1]["confirmation"] == listed.confirmation
