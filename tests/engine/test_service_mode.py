"""Service mode: who gets in, what locks them out, what they can do, and that no resident's
money is ever in the way."""

from __future__ import annotations

import pytest

from contract import entries as E
from kiosk.engine import inputs as ui
from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import LinkStatus, Scanned
from tests.engine.conftest import Harness, MakeHarness
from tests.fakes import WITH_TECHNICIANS


@pytest.fixture
def h(make_harness: MakeHarness) -> Harness:
    return make_harness(WITH_TECHNICIANS)


def test_the_right_pin_lets_the_technician_in_and_it_is_journaled(h: Harness) -> None:
    h.send(ui.EnterService())
    assert h.state is State.SERVICE_PIN
    snap = h.send(ui.EnterPin("1357"))
    assert h.state is State.SERVICE_MENU
    assert snap.technician == "Lee Chen"
    assert h.of_type(E.SERVICE_ENTERED) == [{"technician": "Lee Chen", "via": "pin"}]


def test_a_wrong_pin_is_refused_counted_and_journaled(h: Harness) -> None:
    h.send(ui.EnterService())
    snap = h.send(ui.EnterPin("9999"))
    assert h.state is State.SERVICE_PIN
    assert snap.service_message == "wrong_pin"
    assert snap.pin_attempts_left == 4
    assert h.of_type(E.SERVICE_PIN_FAILED) == [{"attempt": 1, "badge": ""}]


def test_five_wrong_pins_lock_entry_for_fifteen_minutes_even_across_a_restart(
    h: Harness,
) -> None:
    h.send(ui.EnterService())
    for _ in range(5):
        h.send(ui.EnterPin("9999"))
    snap = h.engine.snapshot
    assert snap.service_message == "locked" and snap.locked_until is not None
    [locked] = h.of_type(E.SERVICE_LOCKED)
    assert locked["attempts"] == 5
    # the right PIN is not even checked while locked
    h.send(ui.EnterPin("2468"))
    assert h.state is State.SERVICE_PIN
    assert h.of_type(E.SERVICE_ENTERED) == []
    # switching the kiosk off and on does not unlock it
    h.restart()
    h.new_engine()
    h.send(ui.EnterService(), ui.EnterPin("2468"))
    assert h.state is State.SERVICE_PIN and h.engine.snapshot.service_message == "locked"
    h.wait(15 * 60 + 1)  # the pad closes by itself meanwhile
    assert h.state is State.IDLE
    h.send(ui.EnterService(), ui.EnterPin("2468"))
    assert h.state is State.SERVICE_MENU


def test_a_badge_opens_the_pad_for_its_owner_only(h: Harness) -> None:
    h.send(Scanned("TECH-0042"))
    assert h.state is State.SERVICE_PIN
    h.send(ui.EnterPin("1357"))  # Lee's PIN with Dana's badge
    assert h.state is State.SERVICE_PIN
    h.send(ui.EnterPin("2468"))
    assert h.state is State.SERVICE_MENU
    assert h.of_type(E.SERVICE_ENTERED) == [{"technician": "Dana Lopez", "via": "badge"}]
    assert h.of_type(E.SESSION_STARTED) == [], "a badge is no resident's bill"


def test_a_kiosk_without_technicians_lets_nobody_in(make_harness: MakeHarness) -> None:
    h = make_harness()
    h.send(ui.EnterService(), ui.EnterPin("2468"))
    assert h.state is State.SERVICE_PIN


def test_never_reachable_while_a_payment_has_money_in(h: Harness) -> None:
    h.to_cash("43.17")
    h.acceptor.insert(20)
    h.pump()
    h.send(ui.EnterService())
    assert h.state is State.CASH
    h.send(Scanned("TECH-0042"))
    assert h.state is State.CASH


def test_no_payment_is_taken_in_service_mode(h: Harness) -> None:
    h.to_service()
    h.send(ui.Start("en"))
    assert h.state is State.SERVICE_MENU
    assert not h.acceptor.enabled
    h.acceptor.insert_anyway(20)
    h.pump()
    assert h.acceptor.cashbox == [] and h.acceptor.returned == [Money(2000)]
    assert h.of_type(E.BILL_STACKED) == []


def test_two_minutes_without_a_touch_leave_service_mode(h: Harness) -> None:
    h.to_service()
    h.send(ui.ShowDeviceStatus())
    h.wait(100)
    h.send(ui.Touch())
    h.wait(100)
    assert h.state is State.SERVICE_STATUS, "a touch restarts the two minutes"
    h.wait(21)
    assert h.state is State.IDLE
    assert h.of_type(E.SERVICE_LEFT) == [{"technician": "Dana Lopez", "reason": "timed_out"}]


def test_leaving_returns_to_out_of_service_when_the_kiosk_is_held_out(h: Harness) -> None:
    h.to_service()
    h.send(ui.SetOutOfService("Printer broken"))
    h.send(ui.LeaveService())
    assert h.state is State.OUT_OF_SERVICE
    h.send(ui.EnterService(), ui.EnterPin("2468"), ui.SetInService(), ui.LeaveService())
    assert h.state is State.IDLE
    actions = [(a["action"], a.get("detail", "")) for a in h.of_type(E.SERVICE_ACTION)]
    assert ("out_of_service", "Printer broken") in actions
    assert ("in_service", "") in actions
    assert [p["reason"] for p in h.of_type(E.OUT_OF_SERVICE)] == ["Printer broken"]
    assert len(h.of_type(E.IN_SERVICE)) == 1


def test_device_status_shows_every_device_and_the_hub_link(h: Harness) -> None:
    h.to_service()
    h.acceptor.fault("jam")
    h.pump()
    snap = h.send(ui.ShowDeviceStatus())
    names = [d.name for d in snap.devices]
    assert names == ["bill_acceptor", "card_terminal", "receipt_printer", "barcode_scanner"]
    acceptor = snap.devices[0]
    assert (acceptor.state, acceptor.reason, acceptor.last_fault) == ("fault", "jam", "jam")
    assert snap.link == LinkStatus(enrolled=False)
    h.send(ui.PushNow())
    assert [a["action"] for a in h.of_type(E.SERVICE_ACTION)][-1] == "push_now"


def test_the_printer_test_prints_a_test_page_not_a_receipt(h: Harness) -> None:
    h.to_service()
    h.send(ui.ShowTests())
    snap = h.send(ui.RunTest("print"))
    [page] = h.printer.printed
    assert page.confirmation.startswith("TEST-")
    assert getattr(page, "method", "") == "test"
    assert [(t.test, t.status) for t in snap.tests] == [("print", "passed")]
    assert h.of_type(E.RECEIPT_PRINT_REQUESTED) == [], "no receipt intent for a test page"


def test_the_bill_test_returns_the_bill_and_credits_nothing(h: Harness) -> None:
    h.to_service()
    h.send(ui.ShowTests(), ui.RunTest("bill"))
    assert h.acceptor.enabled
    h.acceptor.insert(20)
    snap = h.pump()
    assert h.acceptor.returned == [Money(2000)] and h.acceptor.cashbox == []
    assert [(t.test, t.status, t.detail) for t in snap.tests] == [("bill", "passed", "2000")]
    assert h.of_type(E.BILL_STACKED) == [] and h.of_type(E.PAYMENT_COMPLETED) == []
    h.send(ui.Back())
    assert not h.acceptor.enabled


def test_the_scanner_test_shows_the_code_but_journals_only_its_length(h: Harness) -> None:
    h.to_service()
    h.send(ui.ShowTests(), ui.RunTest("scanner"))
    snap = h.send(Scanned("100200300"))
    assert [(t.test, t.detail) for t in snap.tests] == [("scanner", "100200300")]
    assert "100200300" not in str(h.of_type(E.SERVICE_ACTION))
    assert h.state is State.SERVICE_TESTS


def test_the_terminal_check_answers_on_the_tests_page(h: Harness) -> None:
    h.to_service()
    h.send(ui.ShowTests())
    snap = h.send(ui.RunTest("terminal"))
    assert [(t.test, t.status) for t in snap.tests] == [("terminal", "passed")]


def _paid_with_the_receipt_lost(h: Harness) -> dict[str, object]:
    """A $20 cash payment whose receipt the printer (out of paper) could not print."""
    h.printer.works = False
    h.to_cash("20.00")
    h.acceptor.insert(20)
    h.pump()
    h.send(ui.Finish())
    [payment] = h.payments()
    h.printer.works = True
    return dict(payment)


def test_paper_replaced_lists_unprinted_receipts_and_reprints_the_chosen(h: Harness) -> None:
    payment = _paid_with_the_receipt_lost(h)
    h.to_service()
    snap = h.send(ui.ShowPaper())
    assert [r.confirmation for r in snap.unprinted] == [payment["confirmation"]]
    assert snap.unprinted[0].amount == Money(2000)
    h.send(ui.Reprint((str(payment["confirmation"]), "NOT-OFFERED")))
    [reprint] = h.printer.printed
    assert reprint.confirmation == payment["confirmation"]
    assert h.journal.open_intents() == []
    assert h.of_type(E.RECEIPT_PRINTED)[-1]["confirmation"] == payment["confirmation"]
    h.send(ui.Back(), ui.ShowPaper())
    assert h.engine.snapshot.unprinted == ()


def test_the_paper_page_looks_back_over_two_batches_only(h: Harness) -> None:
    """A receipt that failed before the last collection is still offered; one from before
    the collection before that is not (and the page reads no further back)."""
    from kiosk.batches import close_batch

    payment = _paid_with_the_receipt_lost(h)
    close_batch(h.journal, "cash_box_collection", "tech-7")
    h.to_service()
    snap = h.send(ui.ShowPaper())
    assert [r.confirmation for r in snap.unprinted] == [payment["confirmation"]]
    h.send(ui.Back())
    close_batch(h.journal, "cash_box_collection", "tech-7")
    assert h.send(ui.ShowPaper()).unprinted == ()
