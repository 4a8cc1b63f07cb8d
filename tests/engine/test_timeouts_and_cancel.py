"""Walking away and changing one's mind, in every state: nothing lost, nothing stuck.

Time only moves when a test advances the fake clock (``Harness.wait``/``expire``): no sleeps.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from contract import entries as E
from kiosk.config import KioskConfig, Limits
from kiosk.engine import inputs as ui
from kiosk.engine.states import TRANSITIONS, State
from kiosk.money import Money
from kiosk.ports import CardOutcome
from tests.engine.conftest import Harness, MakeHarness
from tests.fakes import WITH_TECHNICIANS


def _declined(h: Harness) -> None:
    h.to_card()
    h.terminal.answer(CardOutcome.DECLINED)
    h.pump()


DRIVE: dict[State, Callable[[Harness], None]] = {
    State.FIND_ACCOUNT: Harness.to_find_account,
    State.CONFIRM_ACCOUNT: lambda h: h.to_confirm(),
    State.AMOUNT: Harness.to_amount,
    State.METHOD: lambda h: h.to_method(),
    State.CASH: lambda h: h.to_cash(),
    State.CARD_DECLINED: _declined,
}
ATTENDED = list(DRIVE)


def _timeout_for(h: Harness, state: State) -> float:
    t = h.config.timeouts
    return t.cash_inactivity if state is State.CASH else t.idle_screen


def test_attended_states_are_the_ones_the_table_interrupts() -> None:
    interrupted = {t.source for t in TRANSITIONS if t.target is State.STILL_THERE}
    # card_checking is interrupted too, but can not end before the sale is settled: its
    # time-outs are in test_card_checking.py
    assert interrupted == {*ATTENDED, State.CARD_CHECKING}


# ----------------------------------------------------------------------------- time-outs


@pytest.mark.parametrize("state", ATTENDED, ids=lambda s: s.value)
def test_time_out_asks_still_there_and_touch_goes_back(harness: Harness, state: State) -> None:
    DRIVE[state](harness)
    assert harness.state is state
    timeout = _timeout_for(harness, state)

    snap = harness.wait(timeout - 0.5)
    assert harness.state is state, "timed out early"
    snap = harness.wait(0.5)
    assert harness.state is State.STILL_THERE
    assert snap.interrupted is state
    assert snap.seconds_left == harness.config.timeouts.still_there
    assert snap.session_id is not None

    snap = harness.send(ui.Touch())
    assert harness.state is state
    assert snap.interrupted is None
    assert snap.seconds_left == timeout  # a full new deadline on the screen we came back to
    assert E.SESSION_ENDED not in harness.types()


@pytest.mark.parametrize("state", ATTENDED, ids=lambda s: s.value)
def test_second_time_out_ends_the_session_without_money(harness: Harness, state: State) -> None:
    DRIVE[state](harness)
    harness.expire()
    assert harness.state is State.STILL_THERE
    harness.wait(harness.config.timeouts.still_there - 0.5)
    assert harness.state is State.STILL_THERE
    snap = harness.wait(0.5)
    assert harness.state is State.IDLE
    assert snap.session_id is None
    assert snap.seconds_left is None  # the attract screen never times out
    assert harness.session_outcomes() == ["timed_out"]
    assert harness.payments() == []
    assert not harness.acceptor.enabled
    assert harness.journal.open_intents() == []


@pytest.mark.parametrize("state", ATTENDED, ids=lambda s: s.value)
def test_touch_resets_the_inactivity_deadline(harness: Harness, state: State) -> None:
    DRIVE[state](harness)
    timeout = _timeout_for(harness, state)
    harness.wait(timeout - 1)
    harness.send(ui.Touch())
    harness.wait(timeout - 1)
    assert harness.state is state, "the touch did not restart the time-out"
    harness.wait(1)
    assert harness.state is State.STILL_THERE


def test_time_out_with_money_in_completes_the_payment(harness: Harness) -> None:
    harness.to_cash("43.17")
    harness.acceptor.insert(20)
    harness.pump()
    harness.expire()
    assert harness.state is State.STILL_THERE
    assert harness.payments() == []
    harness.expire()
    assert harness.state is State.RECEIPT
    [payment] = harness.payments()
    assert payment["amount_cents"] == 2000
    assert harness.printer.printed[0].amount == Money(2000)
    assert not harness.acceptor.enabled
    assert harness.session_outcomes() == []  # still showing the receipt screen
    snap = harness.expire()
    assert harness.state is State.IDLE
    assert snap.session_id is None
    assert harness.session_outcomes() == ["completed"]


def test_time_out_with_a_bill_in_flight_waits_for_the_stack(harness: Harness) -> None:
    harness.acceptor.auto = False
    harness.to_cash("43.17")
    harness.acceptor.insert(20)
    harness.pump()
    harness.expire()
    harness.expire()
    assert harness.state is State.STILL_THERE, "must not end while a bill is going in"
    assert harness.payments() == []
    harness.wait(600)  # however long the acceptor takes
    assert harness.state is State.STILL_THERE
    assert harness.session_outcomes() == []
    harness.acceptor.finish_stack()
    harness.pump()
    assert harness.state is State.RECEIPT
    assert harness.payments()[0]["amount_cents"] == 2000
    assert harness.credited_cents() == 2000


@pytest.mark.parametrize("money_in", [False, True], ids=["nothing_in", "money_in"])
def test_time_out_while_a_bill_is_being_returned_still_finishes(
    make_harness: MakeHarness, money_in: bool
) -> None:
    """A bill on its way back must not leave the kiosk on "Are you still there?" for good."""
    h = make_harness(KioskConfig(limits=Limits(max_overpayment_cents=0)))
    h.acceptor.auto = False
    h.to_cash("43.17")  # the ceiling is the balance, 43.17
    if money_in:
        h.acceptor.insert(5)
        h.pump()
        h.acceptor.finish_stack()
        h.pump()
    h.acceptor.insert(50)  # passes the ceiling: it goes back
    h.pump()
    assert h.acceptor.commands[-1] == "return"
    h.expire()
    h.expire()
    assert h.state is State.STILL_THERE
    h.acceptor.finish_return()
    h.pump()
    h.wait(h.config.timeouts.still_there)
    if money_in:
        assert h.state is State.RECEIPT
        assert h.payments()[0]["amount_cents"] == 500
    else:
        assert h.state is State.IDLE
        assert h.session_outcomes() == ["timed_out"]
        assert h.payments() == []
    assert h.acceptor.returned == [Money(5000)]
    assert h.journal.open_intents() == []


def test_receipt_screen_times_out_to_idle(harness: Harness) -> None:
    harness.to_cash("20.00")
    harness.acceptor.insert(20)
    harness.pump()
    assert harness.state is State.RECEIPT
    harness.wait(harness.config.timeouts.receipt_screen - 0.5)
    assert harness.state is State.RECEIPT
    harness.wait(0.5)
    assert harness.state is State.IDLE
    assert harness.session_outcomes() == ["completed"]


def test_idle_and_out_of_service_never_time_out(harness: Harness) -> None:
    harness.wait(86_400)
    assert harness.state is State.IDLE
    harness.send(ui.SetOutOfService("printer jammed"))
    harness.wait(86_400)
    assert harness.state is State.OUT_OF_SERVICE


def test_card_screen_does_not_ask_still_there(harness: Harness) -> None:
    """The terminal drives the cardholder; only the sale's own time-out applies."""
    harness.to_card()
    harness.wait(harness.config.timeouts.idle_screen + 1)
    assert harness.state is State.CARD


# ----------------------------------------------------------------------------- cancel


def _cash_with_money(h: Harness) -> None:
    h.to_cash("43.17")
    h.acceptor.insert(20)
    h.pump()


def _still_there(h: Harness) -> None:
    h.to_amount()
    h.expire()


def _still_there_with_money(h: Harness) -> None:
    _cash_with_money(h)
    h.expire()


def _receipt(h: Harness) -> None:
    h.to_cash("20.00")
    h.acceptor.insert(20)
    h.pump()


def _out_of_service(h: Harness) -> None:
    h.send(ui.SetOutOfService("maintenance"))


def _service(h: Harness, then: object | None = None) -> None:
    """A technician in service mode (on the page ``then`` opens)."""
    h.send(ui.UpdateConfig(WITH_TECHNICIANS))
    h.to_service()
    if then is not None:
        h.send(then)


def _pin_pad(h: Harness) -> None:
    h.send(ui.UpdateConfig(WITH_TECHNICIANS))
    h.send(ui.EnterService())


def _collecting(h: Harness) -> None:
    _service(h, ui.StartCollection())
    h.send(ui.BoxRemoved())


# state reached, what Cancel leads to, session outcome journaled, payment amount (or None)
CANCELS: dict[str, tuple[Callable[[Harness], None], State, State, str | None, int | None]] = {
    "idle": (lambda h: None, State.IDLE, State.IDLE, None, None),
    "out_of_service": (_out_of_service, State.OUT_OF_SERVICE, State.OUT_OF_SERVICE, None, None),
    "find_account": (DRIVE[State.FIND_ACCOUNT], State.FIND_ACCOUNT, State.IDLE, "cancelled", None),
    "confirm": (DRIVE[State.CONFIRM_ACCOUNT], State.CONFIRM_ACCOUNT, State.IDLE, "cancelled", None),
    "amount": (DRIVE[State.AMOUNT], State.AMOUNT, State.IDLE, "cancelled", None),
    "method": (DRIVE[State.METHOD], State.METHOD, State.IDLE, "cancelled", None),
    "cash_nothing_in": (DRIVE[State.CASH], State.CASH, State.IDLE, "cancelled", None),
    "cash_money_in": (_cash_with_money, State.CASH, State.RECEIPT, None, 2000),
    "card_declined": (_declined, State.CARD_DECLINED, State.IDLE, "cancelled", None),
    "receipt": (_receipt, State.RECEIPT, State.IDLE, "completed", 2000),
    "still_there": (_still_there, State.STILL_THERE, State.IDLE, "cancelled", None),
    "still_there_money_in": (_still_there_with_money, State.STILL_THERE, State.RECEIPT, None, 2000),
    "service_pin": (
        _pin_pad,
        State.SERVICE_PIN,
        State.IDLE,
        None,
        None,
    ),
    "service_menu": (_service, State.SERVICE_MENU, State.SERVICE_MENU, None, None),
    "service_status": (
        lambda h: _service(h, ui.ShowDeviceStatus()),
        State.SERVICE_STATUS,
        State.SERVICE_STATUS,
        None,
        None,
    ),
    "service_tests": (
        lambda h: _service(h, ui.ShowTests()),
        State.SERVICE_TESTS,
        State.SERVICE_TESTS,
        None,
        None,
    ),
    "service_paper": (
        lambda h: _service(h, ui.ShowPaper()),
        State.SERVICE_PAPER,
        State.SERVICE_PAPER,
        None,
        None,
    ),
    "collection": (_collecting, State.COLLECTION, State.SERVICE_MENU, None, None),
}


@pytest.mark.parametrize("name", list(CANCELS))
def test_cancel(harness: Harness, name: str) -> None:
    drive, at, to, outcome, paid = CANCELS[name]
    drive(harness)
    assert harness.state is at
    before = len(harness.types())
    harness.send(ui.Cancel())
    assert harness.state is to
    assert harness.session_outcomes() == ([outcome] if outcome else [])
    assert [p["amount_cents"] for p in harness.payments()] == ([paid] if paid else [])
    if to is at and at in (State.IDLE, State.OUT_OF_SERVICE):
        assert len(harness.types()) == before, "a cancel with nothing to cancel wrote something"
    if to is State.IDLE:
        assert harness.engine.snapshot.session_id is None
        assert not harness.acceptor.enabled
    assert harness.credited_cents() == sum(b.cents for b in harness.acceptor.cashbox)


def test_cancel_covers_every_state() -> None:
    # card, card_checking: test_card.py, test_card_checking.py
    covered = {CANCELS[name][1] for name in CANCELS} | {State.CARD, State.CARD_CHECKING}
    assert covered == set(State)


def test_cancel_during_a_card_sale_asks_the_terminal_to_abort(harness: Harness) -> None:
    harness.to_card()
    harness.send(ui.Cancel())
    assert harness.state is State.CARD  # the terminal decides; we wait for its answer
    assert harness.terminal.aborts == 1


def test_cancel_on_still_there_with_a_bill_going_in_credits_it(harness: Harness) -> None:
    """Cancel while a bill is being stacked: the bill is money in, not an unattributed bill."""
    harness.acceptor.auto = False
    harness.to_cash("43.17")
    harness.acceptor.insert(20)
    harness.pump()
    harness.expire()
    assert harness.state is State.STILL_THERE
    harness.send(ui.Cancel())
    assert harness.payments() == []
    harness.acceptor.finish_stack()
    harness.pump()
    assert harness.state is State.RECEIPT
    [payment] = harness.payments()
    assert payment["amount_cents"] == 2000
    assert harness.of_type(E.BILL_STACKED)[0]["session_id"] == payment["session_id"]


def test_cancel_with_a_bill_in_escrow_returns_it(harness: Harness) -> None:
    """Before money is in, cancel returns the escrowed bill (DESIGN.md)."""
    harness.to_cash("43.17")
    harness.send(ui.Cancel())
    harness.acceptor.insert_anyway(10)
    harness.pump()
    assert harness.acceptor.returned == [Money(1000)]
    assert harness.acceptor.cashbox == []
    assert harness.journal.open_intents() == []


# ----------------------------------------------------------------------------- language


LANGUAGE_STATES: dict[State, Callable[[Harness], None]] = {
    State.IDLE: lambda h: None,
    State.OUT_OF_SERVICE: _out_of_service,
    **DRIVE,
    State.CARD: lambda h: h.to_card(),
    State.CARD_CHECKING: lambda h: h.to_card_checking(),
    State.RECEIPT: _receipt,
    State.STILL_THERE: _still_there,
    State.SERVICE_PIN: _pin_pad,
    State.SERVICE_MENU: _service,
    State.SERVICE_STATUS: lambda h: _service(h, ui.ShowDeviceStatus()),
    State.SERVICE_TESTS: lambda h: _service(h, ui.ShowTests()),
    State.SERVICE_PAPER: lambda h: _service(h, ui.ShowPaper()),
    State.COLLECTION: _collecting,
}


def test_language_states_cover_every_state() -> None:
    assert set(LANGUAGE_STATES) == set(State)


@pytest.mark.parametrize("state", list(LANGUAGE_STATES), ids=lambda s: s.value)
def test_set_language_works_in_any_state(harness: Harness, state: State) -> None:
    LANGUAGE_STATES[state](harness)
    assert harness.state is state
    snap = harness.send(ui.SetLanguage("es"))
    assert snap.language == "es"
    assert harness.state is state, "changing language must not move the session"
    if harness.engine.session is not None:
        assert harness.engine.session.language == "es"


def test_language_goes_back_to_the_default_after_the_session(harness: Harness) -> None:
    harness.to_find_account()
    harness.send(ui.SetLanguage("es"))
    harness.send(ui.Cancel())
    assert harness.engine.snapshot.language == "en"


def test_receipt_is_printed_in_the_language_chosen(harness: Harness) -> None:
    harness.send(ui.Start("es"))
    harness.send(ui.EnterAccount("100200300"), ui.ConfirmAccount())
    harness.send(ui.ChooseAmount(Money(2000)), ui.ChooseMethod("cash"))
    harness.acceptor.insert(20)
    harness.pump()
    assert harness.printer.printed[0].language == "es"
    harness.send(ui.Finish())
    assert harness.engine.snapshot.language == "en"


def test_a_language_not_offered_is_ignored(make_harness: MakeHarness) -> None:
    from kiosk.config import Locale

    h = make_harness(KioskConfig(locale=Locale(languages=["en"])))
    h.to_find_account()
    snap = h.send(ui.SetLanguage("es"))
    assert snap.language == "en"


def test_set_language_counts_as_activity(harness: Harness) -> None:
    harness.to_amount()
    harness.wait(harness.config.timeouts.idle_screen - 1)
    harness.send(ui.SetLanguage("es"))
    harness.wait(harness.config.timeouts.idle_screen - 1)
    assert harness.state is State.AMOUNT


# ----------------------------------------------------------------------------- out of service


def test_out_of_service_from_idle_and_back(harness: Harness) -> None:
    snap = harness.send(ui.SetOutOfService("cash box full"))
    assert harness.state is State.OUT_OF_SERVICE
    assert snap.out_of_service_reason == "cash box full"
    assert harness.of_type(E.OUT_OF_SERVICE) == [{"reason": "cash box full"}]
    harness.send(ui.Start("en"))
    assert harness.state is State.OUT_OF_SERVICE, "no session while out of service"
    snap = harness.send(ui.SetInService())
    assert harness.state is State.IDLE
    assert snap.out_of_service_reason == ""
    assert E.IN_SERVICE in harness.types()
    harness.to_find_account()


def test_out_of_service_does_not_cut_a_session_short(harness: Harness) -> None:
    harness.to_amount()
    harness.send(ui.SetOutOfService("maintenance"))
    assert harness.state is State.AMOUNT
    harness.send(ui.ChooseAmount(Money(2000)))
    assert harness.state is State.METHOD


def test_the_status_page_refreshing_itself_does_not_keep_an_idle_technician_in(
    harness: Harness,
) -> None:
    """The status page asks for fresh figures every 2 s on its own; that is no touch, so the
    page still lets go of a technician who walked away."""
    _service(harness, ui.ShowDeviceStatus())
    idle = harness.config.service.idle_timeout
    for _ in range(int(idle // 2) - 1):
        harness.wait(2)
        harness.send(ui.Refresh())
    assert harness.state is State.SERVICE_STATUS
    harness.wait(2.5)
    assert harness.state is State.IDLE
    assert harness.of_type(E.SERVICE_LEFT)[-1]["reason"] == "timed_out"
