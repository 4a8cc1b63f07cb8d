"""The declared session table: its names resolve, its states connect, and every row runs.

``CASES`` holds, for every row of :data:`kiosk.engine.states.TRANSITIONS`, a way to drive the
real engine into the row's source state with the row's guard true (and every guard above it
false). The parametrized test fires the event and checks that exactly that row was taken and
the row's target reached. A row added to the table without a case here fails
:func:`test_every_row_has_a_case`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from kiosk.config import KioskConfig, Limits
from kiosk.engine import inputs as ui
from kiosk.engine.machine import PaymentEngine
from kiosk.engine.service_events import EndOfDayAnswered, PinChecked
from kiosk.engine.states import PREVIOUS, STAY, TRANSITIONS, State, Transition, diagram
from kiosk.money import Money
from kiosk.ports import (
    AcceptorFault,
    AccountFound,
    AccountNotFound,
    BillEscrowed,
    BillRejected,
    BillReturned,
    BillStacked,
    CardOutcome,
    CardProgress,
    CardResult,
    DeviceHealth,
    DeviceNotice,
    Health,
    LookupSource,
    ReceiptDone,
    Scanned,
)
from tests.engine.conftest import Harness, MakeHarness
from tests.fakes import WITH_TECHNICIANS, demo_account

ATTENDED = (
    State.FIND_ACCOUNT,
    State.CONFIRM_ACCOUNT,
    State.AMOUNT,
    State.METHOD,
    State.CASH,
    State.CARD_DECLINED,
)

Key = tuple[State, type, str | None]


def key(row: Transition) -> Key:
    return (row.source, row.event, row.guard)


def row_id(row: Transition) -> str:
    return f"{row.source.value}-{row.event.__name__}-{row.guard or 'otherwise'}"


# ----------------------------------------------------------------------------- static checks


def test_every_guard_and_action_is_an_engine_method() -> None:
    for row in TRANSITIONS:
        for name in (row.guard, row.action):
            if name is not None:
                assert callable(getattr(PaymentEngine, f"_{name}", None)), f"_{name} missing"


def test_rows_are_unique_per_source_event_and_guard() -> None:
    counts = Counter(key(row) for row in TRANSITIONS)
    assert [k for k, n in counts.items() if n > 1] == []


def test_an_unguarded_row_is_the_last_for_its_source_and_event() -> None:
    """Rows after an unguarded one for the same (source, event) could never be taken."""
    for i, row in enumerate(TRANSITIONS):
        if row.guard is None:
            later = [
                t for t in TRANSITIONS[i + 1 :] if (t.source, t.event) == (row.source, row.event)
            ]
            assert later == [], f"{row_id(row)} hides {[row_id(t) for t in later]}"


def _interrupting_states() -> set[State]:
    return {t.source for t in TRANSITIONS if t.target is State.STILL_THERE}


def test_every_state_is_reachable_from_idle() -> None:
    reached, frontier = {State.IDLE}, [State.IDLE]
    while frontier:
        state = frontier.pop()
        for row in TRANSITIONS:
            if row.source is not state:
                continue
            if row.target is STAY:
                targets = {state}
            elif row.target is PREVIOUS:
                targets = _interrupting_states()
            else:
                assert isinstance(row.target, State)
                targets = {row.target}
            for target in targets - reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(State)


def test_every_state_can_get_back_to_idle() -> None:
    """No dead end: from every state some path leads to the attract screen."""
    back = {State.IDLE}
    changed = True
    while changed:
        changed = False
        for row in TRANSITIONS:
            targets = (
                {row.source}
                if row.target is STAY
                else (_interrupting_states() if row.target is PREVIOUS else {row.target})
            )
            if row.source not in back and targets & back:
                back.add(row.source)
                changed = True
    assert back == set(State)


@pytest.mark.parametrize("state", ATTENDED, ids=lambda s: s.value)
def test_every_attended_state_has_a_time_out_and_a_cancel(state: State) -> None:
    events = {row.event for row in TRANSITIONS if row.source is state}
    assert ui.TimedOut in events
    assert ui.Cancel in events
    assert any(
        row.target is State.STILL_THERE
        for row in TRANSITIONS
        if row.source is state and row.event is ui.TimedOut
    )


def test_still_there_can_always_be_left_by_touch_time_out_and_cancel() -> None:
    events = {row.event for row in TRANSITIONS if row.source is State.STILL_THERE}
    assert {ui.Touch, ui.TimedOut, ui.Cancel} <= events


def test_diagram_is_dot_naming_every_state_and_row() -> None:
    dot = diagram()
    assert dot.startswith("digraph session {")
    assert dot.rstrip().endswith("}")
    for state in State:
        assert re.search(rf"\b{state.value}\b", dot), state
    edges = [line for line in dot.splitlines() if "->" in line]
    assert len(edges) == len(TRANSITIONS)
    assert 'cash -> receipt [label="FinishCash [money_in]"];' in dot


# ----------------------------------------------------------------------------- every row

EMITTED = object()  # the fake device has already put the event on the engine's queue


@dataclass(frozen=True)
class Case:
    source: State
    event: type
    guard: str | None
    setup: Callable[[Harness], object]  # drives into the source; returns what to fire
    config: KioskConfig | None = None
    previous: State | None = None  # where PREVIOUS leads in this case


NO_OVERPAY = KioskConfig(limits=Limits(max_overpayment_cents=0))
_event: type  # the loop variable of the rows registered in a loop below
S = State
CASES: list[Case] = []


def case(
    source: State,
    event: type,
    guard: str | None = None,
    *,
    config: KioskConfig | None = None,
    previous: State | None = None,
) -> Callable[[Callable[[Harness], object]], Callable[[Harness], object]]:
    def register(setup: Callable[[Harness], object]) -> Callable[[Harness], object]:
        CASES.append(Case(source, event, guard, setup, config, previous))
        return setup

    return register


def _stacked(h: Harness, *dollars: int) -> None:
    for bill in dollars:
        h.acceptor.insert(bill)
        h.pump()
        if not h.acceptor.auto:
            h.acceptor.finish_stack()
            h.pump()


# idle and out of service
@case(S.IDLE, ui.Start)
def _(h: Harness) -> object:
    return ui.Start("es")


@case(S.IDLE, Scanned)
def _(h: Harness) -> object:
    h.directory.auto = False
    return Scanned("100200300")


@case(S.IDLE, ui.SetOutOfService)
def _(h: Harness) -> object:
    return ui.SetOutOfService("cash box full")


@case(S.OUT_OF_SERVICE, ui.SetInService)
def _(h: Harness) -> object:
    h.send(ui.SetOutOfService("cash box full"))
    return ui.SetInService()


@case(S.IDLE, ui.CloseBatch)
def _(h: Harness) -> object:
    return ui.CloseBatch("tech-7")


@case(S.OUT_OF_SERVICE, ui.CloseBatch)
def _(h: Harness) -> object:
    h.send(ui.SetOutOfService("cash box full"))
    return ui.CloseBatch("tech-7")


# find the account
@case(S.FIND_ACCOUNT, ui.EnterAccount)
def _(h: Harness) -> object:
    h.to_find_account()
    h.directory.auto = False
    return ui.EnterAccount("100200300")


@case(S.FIND_ACCOUNT, Scanned)
def _(h: Harness) -> object:
    h.to_find_account()
    h.directory.auto = False
    return Scanned("100200300")


@case(S.FIND_ACCOUNT, AccountFound, "lookup_is_current")
def _(h: Harness) -> object:
    h.to_find_account()
    h.directory.auto = False
    h.send(ui.EnterAccount("100200300"))
    return AccountFound("100200300", demo_account(), LookupSource.LIVE)


@case(S.FIND_ACCOUNT, AccountNotFound, "lookup_is_current")
def _(h: Harness) -> object:
    h.to_find_account()
    h.directory.auto = False
    h.send(ui.EnterAccount("999"))
    return AccountNotFound("999", "unknown")


for _event in (ui.Cancel, ui.Back):

    @case(S.FIND_ACCOUNT, _event)
    def _(h: Harness, event: type = _event) -> object:
        h.to_find_account()
        return event()


@case(S.FIND_ACCOUNT, ui.TimedOut)
def _(h: Harness) -> object:
    h.to_find_account()
    return ui.TimedOut()


# confirm
for _event in (ui.ConfirmAccount, ui.Back, ui.Cancel, ui.TimedOut):

    @case(S.CONFIRM_ACCOUNT, _event)
    def _(h: Harness, event: type = _event) -> object:
        h.to_confirm()
        return event()


# amount
@case(S.AMOUNT, ui.ChooseAmount, "amount_allowed")
def _(h: Harness) -> object:
    h.to_amount()
    return ui.ChooseAmount(Money(4317))


@case(S.AMOUNT, ui.ChooseAmount)
def _(h: Harness) -> object:
    h.to_amount()
    return ui.ChooseAmount(Money(1))


for _event in (ui.Back, ui.Cancel, ui.TimedOut):

    @case(S.AMOUNT, _event)
    def _(h: Harness, event: type = _event) -> object:
        h.to_amount()
        return event()


# method
@case(S.METHOD, ui.ChooseMethod, "cash_chosen_and_possible")
def _(h: Harness) -> object:
    h.to_method()
    return ui.ChooseMethod("cash")


@case(S.METHOD, ui.ChooseMethod, "card_chosen_and_possible")
def _(h: Harness) -> object:
    h.terminal.next_outcome = None
    h.to_method()
    return ui.ChooseMethod("card")


@case(S.METHOD, ui.ChooseMethod)
def _(h: Harness) -> object:
    h.to_method()
    h.terminal.state = DeviceHealth(Health.FAULT, "disconnected")
    return ui.ChooseMethod("card")


for _event in (ui.Back, ui.Cancel, ui.TimedOut):

    @case(S.METHOD, _event)
    def _(h: Harness, event: type = _event) -> object:
        h.to_method()
        return event()


# cash
@case(S.CASH, BillEscrowed, "bill_fits")
def _(h: Harness) -> object:
    h.to_cash()
    h.acceptor.auto = False
    h.acceptor.insert(20)
    return EMITTED


@case(S.CASH, BillEscrowed, config=NO_OVERPAY)
def _(h: Harness) -> object:
    h.to_cash("43.17")  # ceiling 43.17: no overpayment allowed
    _stacked(h, 20, 20)
    h.acceptor.insert(5)  # 45.00 would pass it
    return EMITTED


@case(S.CASH, BillStacked, "cash_complete_after_stack")
def _(h: Harness) -> object:
    h.acceptor.auto = False
    h.to_cash("20.00")
    h.acceptor.insert(20)
    h.pump()
    h.acceptor.finish_stack()
    return EMITTED


@case(S.CASH, BillStacked)
def _(h: Harness) -> object:
    h.acceptor.auto = False
    h.to_cash("43.17")
    h.acceptor.insert(20)
    h.pump()
    h.acceptor.finish_stack()
    return EMITTED


@case(S.CASH, BillReturned, config=NO_OVERPAY)
def _(h: Harness) -> object:
    h.acceptor.auto = False
    h.to_cash("43.17")
    _stacked(h, 20, 20)
    h.acceptor.insert(5)
    h.pump()
    assert h.acceptor.commands[-1] == "return"
    h.acceptor.finish_return()
    return EMITTED


@case(S.CASH, BillReturned, "finishing_with_money", config=NO_OVERPAY)
def _(h: Harness) -> object:
    h.acceptor.auto = False
    h.to_cash("43.17")
    _stacked(h, 20)
    h.acceptor.insert(50)  # 70.00 passes the ceiling: it is being returned
    h.pump()
    h.send(ui.FinishCash())  # Done while the bill is on its way back
    h.acceptor.finish_return()
    return EMITTED


@case(S.CASH, BillReturned, "cancelling_without_money", config=NO_OVERPAY)
def _(h: Harness) -> object:
    h.acceptor.auto = False
    h.to_cash("5.00")
    h.acceptor.insert(50)  # over the ceiling (the 43.17 balance): being returned
    h.pump()
    h.send(ui.Cancel())
    h.acceptor.finish_return()
    return EMITTED


@case(S.CASH, BillReturned, "finishing_without_money", config=NO_OVERPAY)
def _(h: Harness) -> object:
    h.acceptor.auto = False
    h.to_cash("5.00")
    h.acceptor.insert(50)
    h.pump()
    h.send(ui.FinishCash())
    h.acceptor.finish_return()
    return EMITTED


@case(S.CASH, BillRejected)
def _(h: Harness) -> object:
    h.to_cash()
    h.acceptor.insert(2)  # $2 is not enabled: the acceptor refuses it itself
    return EMITTED


for _event in (ui.FinishCash, ui.Cancel):

    @case(S.CASH, _event, "bill_in_flight")
    def _(h: Harness, event: type = _event) -> object:
        h.acceptor.auto = False
        h.to_cash()
        h.acceptor.insert(20)
        h.pump()
        return event()

    @case(S.CASH, _event, "money_in")
    def _(h: Harness, event: type = _event) -> object:
        h.to_cash()
        _stacked(h, 20)
        return event()

    @case(S.CASH, _event)
    def _(h: Harness, event: type = _event) -> object:
        h.to_cash()
        return event()


@case(S.CASH, ui.Back, "no_money_in")
def _(h: Harness) -> object:
    h.to_cash()
    return ui.Back()


@case(S.CASH, AcceptorFault, "money_in")
def _(h: Harness) -> object:
    h.to_cash()
    _stacked(h, 20)
    h.acceptor.fault("jam")
    return EMITTED


@case(S.CASH, AcceptorFault)
def _(h: Harness) -> object:
    h.to_cash()
    h.acceptor.fault("cash box removed")
    return EMITTED


@case(S.CASH, ui.TimedOut)
def _(h: Harness) -> object:
    h.to_cash()
    return ui.TimedOut()


# card
@case(S.CARD, CardProgress, "card_is_current")
def _(h: Harness) -> object:
    h.to_card()
    return CardProgress(h.reference, "enter_pin")


@case(S.CARD, CardResult, "card_approved")
def _(h: Harness) -> object:
    h.to_card()
    h.terminal.answer(CardOutcome.APPROVED)
    return EMITTED


@case(S.CARD, CardResult, "cancelled_by_resident")
def _(h: Harness) -> object:
    h.to_card()
    h.send(ui.Cancel())
    h.terminal.answer(CardOutcome.CANCELLED)
    return EMITTED


@case(S.CARD, CardResult, "card_is_current")
def _(h: Harness) -> object:
    h.to_card()
    h.terminal.answer(CardOutcome.DECLINED)
    return EMITTED


@case(S.CARD, ui.Cancel)
def _(h: Harness) -> object:
    h.to_card()
    return ui.Cancel()


@case(S.CARD, CardResult, "card_in_doubt")
def _(h: Harness) -> object:
    h.to_card()
    h.terminal.answer(CardOutcome.IN_DOUBT)
    return EMITTED


@case(S.CARD, ui.TimedOut)
def _(h: Harness) -> object:
    h.to_card()
    return ui.TimedOut()


# checking with the terminal: the status query is held until the case releases it
@case(S.CARD_CHECKING, CardResult, "card_approved")
def _(h: Harness) -> object:
    h.to_card_checking(CardOutcome.APPROVED)
    h.calls.release()
    return EMITTED


@case(S.CARD_CHECKING, CardResult, "cancelled_by_resident")
def _(h: Harness) -> object:
    h.to_card_checking(CardOutcome.DECLINED)
    h.send(ui.Cancel())
    h.calls.release()
    return EMITTED


@case(S.CARD_CHECKING, CardResult, "card_is_current")
def _(h: Harness) -> object:
    h.to_card_checking(CardOutcome.DECLINED)
    h.calls.release()
    return EMITTED


@case(S.CARD_CHECKING, ui.Cancel)
def _(h: Harness) -> object:
    h.to_card_checking()
    return ui.Cancel()


@case(S.CARD_CHECKING, ui.TimedOut)
def _(h: Harness) -> object:
    h.to_card_checking()
    return ui.TimedOut()


def _checking_then_asked(h: Harness, status: CardOutcome = CardOutcome.IN_DOUBT) -> None:
    h.to_card_checking(status)
    h.expire()
    assert h.state is State.STILL_THERE


@case(S.STILL_THERE, ui.TimedOut, "card_unsettled")
def _(h: Harness) -> object:
    _checking_then_asked(h)
    return ui.TimedOut()


@case(S.STILL_THERE, ui.Cancel, "card_unsettled")
def _(h: Harness) -> object:
    _checking_then_asked(h)
    return ui.Cancel()


@case(S.STILL_THERE, CardResult, "card_approved")
def _(h: Harness) -> object:
    _checking_then_asked(h, CardOutcome.APPROVED)
    h.calls.release()
    return EMITTED


@case(S.STILL_THERE, CardResult, "cancelled_by_resident")
def _(h: Harness) -> object:
    _checking_then_asked(h, CardOutcome.DECLINED)
    h.expire()  # walked away while the kiosk was asking the terminal
    h.calls.release()
    return EMITTED


@case(S.STILL_THERE, CardResult, "card_is_current")
def _(h: Harness) -> object:
    _checking_then_asked(h, CardOutcome.DECLINED)
    h.calls.release()
    return EMITTED


def _declined(h: Harness) -> None:
    h.to_card()
    h.terminal.answer(CardOutcome.DECLINED)
    h.pump()
    assert h.state is State.CARD_DECLINED


@case(S.CARD_DECLINED, ui.RetryCard, "card_possible")
def _(h: Harness) -> object:
    _declined(h)
    return ui.RetryCard()


@case(S.CARD_DECLINED, ui.ChooseMethod, "cash_chosen_and_possible")
def _(h: Harness) -> object:
    _declined(h)
    return ui.ChooseMethod("cash")


@case(S.CARD_DECLINED, ui.ChooseMethod, "card_chosen_and_possible")
def _(h: Harness) -> object:
    _declined(h)
    return ui.ChooseMethod("card")


for _event in (ui.Back, ui.Cancel, ui.TimedOut):

    @case(S.CARD_DECLINED, _event)
    def _(h: Harness, event: type = _event) -> object:
        _declined(h)
        return event()


# receipt
@case(S.RECEIPT, ReceiptDone)
def _(h: Harness) -> object:
    h.printer.auto = False
    h.to_cash("20.00")
    _stacked(h, 20)
    assert h.state is State.RECEIPT
    h.printer.finish()
    return EMITTED


for _event in (ui.Finish, ui.Cancel, ui.TimedOut):

    @case(S.RECEIPT, _event)
    def _(h: Harness, event: type = _event) -> object:
        h.to_cash("20.00")
        _stacked(h, 20)
        return event()


# are you still there?
@case(S.STILL_THERE, ui.Touch, previous=S.AMOUNT)
def _(h: Harness) -> object:
    h.to_amount()
    h.expire()
    return ui.Touch()


@case(S.STILL_THERE, BillEscrowed, "bill_fits", previous=S.CASH)
def _(h: Harness) -> object:
    h.to_cash()
    h.expire()
    h.acceptor.insert(20)
    return EMITTED


@case(S.STILL_THERE, BillEscrowed, config=NO_OVERPAY, previous=S.CASH)
def _(h: Harness) -> object:
    h.to_cash("43.17")
    _stacked(h, 20, 20)
    h.expire()
    h.acceptor.insert(5)
    return EMITTED


def _bill_stacking_then_asked(h: Harness) -> None:
    h.acceptor.auto = False
    h.to_cash()
    h.acceptor.insert(20)
    h.pump()
    h.expire()
    assert h.state is State.STILL_THERE


@case(S.STILL_THERE, ui.TimedOut, "bill_in_flight")
def _(h: Harness) -> object:
    _bill_stacking_then_asked(h)
    return ui.TimedOut()


@case(S.STILL_THERE, ui.TimedOut, "money_in")
def _(h: Harness) -> object:
    h.to_cash()
    _stacked(h, 20)
    h.expire()
    return ui.TimedOut()


@case(S.STILL_THERE, ui.TimedOut)
def _(h: Harness) -> object:
    h.to_amount()
    h.expire()
    return ui.TimedOut()


@case(S.STILL_THERE, BillStacked, "cash_complete_after_stack")
def _(h: Harness) -> object:
    _bill_stacking_then_asked(h)
    h.expire()  # walked away: finish once the bill is in
    h.acceptor.finish_stack()
    return EMITTED


@case(S.STILL_THERE, ui.Cancel, "bill_in_flight")
def _(h: Harness) -> object:
    _bill_stacking_then_asked(h)
    return ui.Cancel()


@case(S.STILL_THERE, ui.Cancel, "money_in")
def _(h: Harness) -> object:
    h.to_cash()
    _stacked(h, 20)
    h.expire()
    return ui.Cancel()


@case(S.STILL_THERE, ui.Cancel)
def _(h: Harness) -> object:
    h.to_amount()
    h.expire()
    return ui.Cancel()


# service mode: the technicians of tests/fakes.py (Dana: PIN 2468, badge TECH-0042)
TECH = WITH_TECHNICIANS


def _out_of_service(h: Harness) -> None:
    h.send(ui.SetOutOfService("cash box full"))
    assert h.state is S.OUT_OF_SERVICE


for _source in (S.IDLE, S.OUT_OF_SERVICE):

    @case(_source, ui.EnterService, config=TECH)
    def _(h: Harness, source: State = _source) -> object:
        if source is S.OUT_OF_SERVICE:
            _out_of_service(h)
        return ui.EnterService()

    @case(_source, Scanned, "badge_scanned", config=TECH)
    def _(h: Harness, source: State = _source) -> object:
        if source is S.OUT_OF_SERVICE:
            _out_of_service(h)
        return Scanned("TECH-0042")


@case(S.SERVICE_PIN, ui.EnterPin, "pin_entry_open", config=TECH)
def _(h: Harness) -> object:
    h.send(ui.EnterService())
    return ui.EnterPin("2468")


@case(S.SERVICE_PIN, ui.EnterPin, config=TECH)
def _(h: Harness) -> object:
    h.calls.hold.add("check_pin")
    h.send(ui.EnterService(), ui.EnterPin("2468"))
    return ui.EnterPin("2468")  # the first is still being checked


@case(S.SERVICE_PIN, PinChecked, "pin_matched", config=TECH)
def _(h: Harness) -> object:
    h.calls.hold.add("check_pin")
    h.send(ui.EnterService(), ui.EnterPin("2468"))
    h.calls.release()
    return EMITTED


@case(S.SERVICE_PIN, PinChecked, config=TECH)
def _(h: Harness) -> object:
    h.calls.hold.add("check_pin")
    h.send(ui.EnterService(), ui.EnterPin("0000"))
    h.calls.release()
    return EMITTED


for _event in (ui.Cancel, ui.TimedOut):

    @case(S.SERVICE_PIN, _event, "held_out_of_service", config=TECH)
    def _(h: Harness, event: type = _event) -> object:
        _out_of_service(h)
        h.send(ui.EnterService())
        return event()

    @case(S.SERVICE_PIN, _event, config=TECH)
    def _(h: Harness, event: type = _event) -> object:
        h.send(ui.EnterService())
        return event()


_MENU_ITEMS = (ui.ShowDeviceStatus, ui.ShowTests, ui.ShowPaper, ui.StartCollection, ui.SetInService)
for _event in _MENU_ITEMS:

    @case(S.SERVICE_MENU, _event, config=TECH)
    def _(h: Harness, event: type = _event) -> object:
        h.to_service()
        return event()


@case(S.SERVICE_MENU, ui.SetOutOfService, config=TECH)
def _(h: Harness) -> object:
    h.to_service()
    return ui.SetOutOfService("printer broken")


_PAGE_OPENERS: dict[State, object] = {
    S.SERVICE_MENU: None,
    S.SERVICE_STATUS: ui.ShowDeviceStatus(),
    S.SERVICE_TESTS: ui.ShowTests(),
    S.SERVICE_PAPER: ui.ShowPaper(),
}


def _to_page(h: Harness, page: State, held: bool = False, slip: bool = False) -> None:
    h.to_service()
    if slip:
        h.collect()
        h.send(ui.Back())
    if held:
        h.send(ui.SetOutOfService("printer broken"))
    opener = _PAGE_OPENERS[page]
    if opener is not None:
        h.send(opener)
    assert h.state is page


for _page in _PAGE_OPENERS:
    for _event in (ui.LeaveService, ui.TimedOut):

        @case(_page, _event, "held_out_of_service", config=TECH)
        def _(h: Harness, page: State = _page, event: type = _event) -> object:
            _to_page(h, page, held=True)
            return event()

        @case(_page, _event, config=TECH)
        def _(h: Harness, page: State = _page, event: type = _event) -> object:
            _to_page(h, page)
            return event()

    @case(_page, ui.Refresh, config=TECH)
    def _(h: Harness, page: State = _page) -> object:
        _to_page(h, page)
        return ui.Refresh()

    @case(_page, ui.ReprintSlip, "a_slip_to_reprint", config=TECH)
    def _(h: Harness, page: State = _page) -> object:
        _to_page(h, page, slip=True)
        return ui.ReprintSlip()

    if _page is not S.SERVICE_MENU:

        @case(_page, ui.Back, config=TECH)
        def _(h: Harness, page: State = _page) -> object:
            _to_page(h, page)
            return ui.Back()


@case(S.SERVICE_STATUS, ui.PushNow, config=TECH)
def _(h: Harness) -> object:
    _to_page(h, S.SERVICE_STATUS)
    return ui.PushNow()


@case(S.SERVICE_TESTS, ui.RunTest, config=TECH)
def _(h: Harness) -> object:
    _to_page(h, S.SERVICE_TESTS)
    return ui.RunTest("print")


@case(S.SERVICE_TESTS, Scanned, config=TECH)
def _(h: Harness) -> object:
    _to_page(h, S.SERVICE_TESTS)
    return Scanned("100200300")


@case(S.SERVICE_TESTS, BillEscrowed, config=TECH)
def _(h: Harness) -> object:
    _to_page(h, S.SERVICE_TESTS)
    h.send(ui.RunTest("bill"))
    h.acceptor.insert(20)
    return EMITTED


@case(S.SERVICE_PAPER, ui.Reprint, config=TECH)
def _(h: Harness) -> object:
    _to_page(h, S.SERVICE_PAPER)
    return ui.Reprint(())


def _collecting(h: Harness, step: str) -> None:
    h.to_service()
    h.send(ui.StartCollection())
    if step in ("seal", "box_in", "closing"):
        h.acceptor.fault("cassette_removed")
        h.pump()
    if step in ("box_in", "closing"):
        h.send(ui.EnterSeal("BAG-1"))
    if step == "closing":
        h.calls.hold.add("end_of_day")
        h.send(ui.BoxInserted())
    snap = h.engine.snapshot
    assert snap.collection is not None and snap.collection.step == step


@case(S.COLLECTION, AcceptorFault, "box_came_out", config=TECH)
def _(h: Harness) -> object:
    _collecting(h, "box_out")
    h.acceptor.fault("cassette_removed")
    return EMITTED


@case(S.COLLECTION, ui.BoxRemoved, "awaiting_box_out", config=TECH)
def _(h: Harness) -> object:
    _collecting(h, "box_out")
    return ui.BoxRemoved()


@case(S.COLLECTION, ui.EnterSeal, "seal_accepted", config=TECH)
def _(h: Harness) -> object:
    _collecting(h, "seal")
    return ui.EnterSeal("bag-0042")


@case(S.COLLECTION, ui.EnterSeal, config=TECH)
def _(h: Harness) -> object:
    _collecting(h, "seal")
    return ui.EnterSeal("no spaces allowed")


@case(S.COLLECTION, DeviceNotice, "box_went_in", config=TECH)
def _(h: Harness) -> object:
    _collecting(h, "box_in")
    return DeviceNotice("bill_acceptor", "cassette_replaced")


@case(S.COLLECTION, ui.BoxInserted, "awaiting_box_in", config=TECH)
def _(h: Harness) -> object:
    _collecting(h, "box_in")
    return ui.BoxInserted()


@case(S.COLLECTION, EndOfDayAnswered, config=TECH)
def _(h: Harness) -> object:
    _collecting(h, "closing")
    h.calls.release()
    return EMITTED


@case(S.COLLECTION, ui.ReprintSlip, "a_slip_to_reprint", config=TECH)
def _(h: Harness) -> object:
    h.to_service()
    h.collect()
    return ui.ReprintSlip()


for _event in (ui.Back, ui.Cancel):

    @case(S.COLLECTION, _event, "collection_not_under_way", config=TECH)
    def _(h: Harness, event: type = _event) -> object:
        _collecting(h, "seal")
        return event()


@case(S.COLLECTION, ui.TimedOut, "collection_under_way", config=TECH)
def _(h: Harness) -> object:
    _collecting(h, "closing")
    return ui.TimedOut()


@case(S.COLLECTION, ui.TimedOut, "held_out_of_service", config=TECH)
def _(h: Harness) -> object:
    _out_of_service(h)
    h.send(ui.EnterService(), ui.EnterPin("2468"), ui.StartCollection())
    return ui.TimedOut()


@case(S.COLLECTION, ui.TimedOut, config=TECH)
def _(h: Harness) -> object:
    _collecting(h, "box_out")
    return ui.TimedOut()


CASE_BY_KEY = {(c.source, c.event, c.guard): c for c in CASES}


def test_every_row_has_a_case() -> None:
    assert len(CASE_BY_KEY) == len(CASES), "two cases for one row"
    assert set(CASE_BY_KEY) == {key(row) for row in TRANSITIONS}


def _fire(h: Harness, event: object) -> None:
    if event is EMITTED:
        h.pump()
    elif isinstance(event, ui.TimedOut):
        h.expire()
    else:
        h.send(event)


@pytest.mark.parametrize("row", TRANSITIONS, ids=row_id)
def test_row(row: Transition, make_harness: MakeHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    c = CASE_BY_KEY.get(key(row))
    assert c is not None, f"no case for {row_id(row)}"
    h = make_harness(c.config)
    event = c.setup(h)
    assert h.state is row.source

    taken: list[tuple[Transition, State]] = []
    original = h.engine._take

    def spy(transition: Transition, ev: object) -> None:
        original(transition, ev)
        taken.append((transition, h.engine.state))

    monkeypatch.setattr(h.engine, "_take", spy)
    _fire(h, event)

    if row.target is STAY:
        expected = row.source
    elif row.target is PREVIOUS:
        assert c.previous is not None
        expected = c.previous
    else:
        assert isinstance(row.target, State)
        expected = row.target
    assert taken, f"no transition taken from {row.source.value}"
    assert taken[0] == (row, expected)
    assert h.journal.verify().ok


# ----------------------------------------------------------------------------- failing guards


def test_a_stale_lookup_answer_is_ignored(harness: Harness) -> None:
    harness.directory.accounts["555"] = demo_account("555", "10.00")
    harness.to_find_account()
    harness.directory.auto = False
    harness.send(ui.EnterAccount("100200300"), ui.EnterAccount("555"))
    harness.send(AccountFound("100200300", demo_account(), LookupSource.LIVE))
    assert harness.state is State.FIND_ACCOUNT
    assert harness.engine.snapshot.lookup_pending
    harness.directory.answer("555")
    snap = harness.pump()
    assert harness.state is State.CONFIRM_ACCOUNT
    assert snap.account is not None and snap.account.balance == Money(1000)


def test_not_found_shows_a_message_and_allows_another_try(harness: Harness) -> None:
    harness.to_find_account()
    snap = harness.send(ui.EnterAccount("999"))
    assert harness.state is State.FIND_ACCOUNT
    assert snap.message == "account_unknown"
    snap = harness.send(ui.EnterAccount(" 100200300 "))
    assert harness.state is State.CONFIRM_ACCOUNT
    assert snap.message == ""


def test_cash_unavailable_when_the_acceptor_is_faulted(harness: Harness) -> None:
    harness.acceptor.state = DeviceHealth(Health.FAULT, "jam")
    harness.to_method()
    assert harness.engine.snapshot.cash_available is False
    snap = harness.send(ui.ChooseMethod("cash"))
    assert harness.state is State.METHOD
    assert snap.message == "cash_unavailable"
    assert not harness.acceptor.enabled


def test_back_from_cash_is_refused_once_money_is_in(harness: Harness) -> None:
    harness.to_cash("43.17")
    harness.acceptor.insert(20)
    harness.pump()
    harness.send(ui.Back())
    assert harness.state is State.CASH
    assert harness.acceptor.enabled
