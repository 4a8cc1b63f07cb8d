"""The payment session, declared once: states and the transitions between them.

Read a row as "in SOURCE, on EVENT, if GUARD holds, do ACTION and go to TARGET". Rows for the
same (source, event) are tried top to bottom; the first whose guard holds wins; an event with
no matching row is ignored (and logged). ``STAY`` keeps the state, ``PREVIOUS`` goes back to the
screen the "Are you still there?" prompt interrupted. Guards and actions are methods of
:class:`kiosk.engine.machine.PaymentEngine` named here as strings, so this table stays
readable by a person and can be drawn (``kiosk engine diagram``).

Device outcomes (bill stacked, card approved, receipt printed...) are journaled by the engine
*before* this table is consulted, whatever the state: money the hardware took is never lost
because the screen had moved on. A card sale that answers "in doubt", or outlives its
time-out, goes to ``card_checking`` while the terminal is asked what became of it (status
query, reversal if still unknown); those are device calls whose answers come back as events,
and only the settled result reaches this table from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from kiosk.engine import inputs as ui
from kiosk.engine.service_events import EndOfDayAnswered, PinChecked
from kiosk.ports import (
    AcceptorFault,
    AccountFound,
    AccountNotFound,
    BillEscrowed,
    BillRejected,
    BillReturned,
    BillStacked,
    CardProgress,
    CardResult,
    DeviceNotice,
    ReceiptDone,
    Scanned,
)


class State(Enum):
    IDLE = "idle"
    FIND_ACCOUNT = "find_account"
    CONFIRM_ACCOUNT = "confirm_account"
    AMOUNT = "amount"
    METHOD = "method"
    CASH = "cash"
    CARD = "card"
    CARD_CHECKING = "card_checking"
    CARD_DECLINED = "card_declined"
    RECEIPT = "receipt"
    STILL_THERE = "still_there"
    OUT_OF_SERVICE = "out_of_service"
    # a technician at the touchscreen
    SERVICE_PIN = "service_pin"
    SERVICE_MENU = "service_menu"
    SERVICE_STATUS = "service_status"
    SERVICE_TESTS = "service_tests"
    SERVICE_PAPER = "service_paper"
    COLLECTION = "collection"


class _Marker(Enum):
    STAY = "stay"
    PREVIOUS = "previous"


STAY = _Marker.STAY
PREVIOUS = _Marker.PREVIOUS
Target = State | _Marker


@dataclass(frozen=True, slots=True)
class Transition:
    source: State
    event: type
    target: Target
    guard: str | None = None
    action: str | None = None


S = State
T = Transition

#: the technician's pages once the PIN is accepted: no payment is taken on any of them
SERVICE_PAGES = (
    State.SERVICE_MENU,
    State.SERVICE_STATUS,
    State.SERVICE_TESTS,
    State.SERVICE_PAPER,
)
IN_SERVICE_MODE = frozenset({State.SERVICE_PIN, *SERVICE_PAGES, State.COLLECTION})


def _on_every_service_page() -> tuple[Transition, ...]:
    """What works the same on every page: leave (to out of service if the kiosk is held out),
    the time-out that leaves by itself, a refresh, and back to the menu from a sub-page."""
    rows: list[Transition] = []
    for page in SERVICE_PAGES:
        rows += [
            T(page, ui.LeaveService, S.OUT_OF_SERVICE, guard="held_out_of_service",
              action="leave_service"),
            T(page, ui.LeaveService, S.IDLE, action="leave_service"),
            T(page, ui.TimedOut, S.OUT_OF_SERVICE, guard="held_out_of_service",
              action="leave_service_timed_out"),
            T(page, ui.TimedOut, S.IDLE, action="leave_service_timed_out"),
            T(page, ui.Refresh, STAY),
            T(page, ui.ReprintSlip, STAY, guard="a_slip_to_reprint", action="reprint_slip"),
        ]  # fmt: skip
        if page is not S.SERVICE_MENU:
            rows += [T(page, ui.Back, S.SERVICE_MENU, action="back_to_menu")]
    return tuple(rows)


TRANSITIONS: tuple[Transition, ...] = (
    # idle / attract screen; a technician's badge or hidden gesture opens the PIN pad
    T(S.IDLE, ui.EnterService, S.SERVICE_PIN, action="open_pin_pad"),
    T(S.IDLE, Scanned, S.SERVICE_PIN, guard="badge_scanned", action="open_pin_pad"),
    T(S.OUT_OF_SERVICE, ui.EnterService, S.SERVICE_PIN, action="open_pin_pad"),
    T(S.OUT_OF_SERVICE, Scanned, S.SERVICE_PIN, guard="badge_scanned", action="open_pin_pad"),
    T(S.IDLE, ui.Start, S.FIND_ACCOUNT, action="start_session"),
    T(S.IDLE, Scanned, S.FIND_ACCOUNT, action="start_session_and_look_up"),
    T(S.IDLE, ui.SetOutOfService, S.OUT_OF_SERVICE, action="note_out_of_service"),
    T(S.IDLE, ui.CloseBatch, STAY, action="close_batch"),
    T(S.OUT_OF_SERVICE, ui.CloseBatch, STAY, action="close_batch"),
    T(S.OUT_OF_SERVICE, ui.SetInService, S.IDLE, action="clear_out_of_service"),
    # find the account: type or scan, then a lookup answers
    T(S.FIND_ACCOUNT, ui.EnterAccount, STAY, action="look_up"),
    T(S.FIND_ACCOUNT, Scanned, STAY, action="look_up"),
    T(
        S.FIND_ACCOUNT,
        AccountFound,
        S.CONFIRM_ACCOUNT,
        guard="lookup_is_current",
        action="show_account",
    ),
    T(S.FIND_ACCOUNT, AccountNotFound, STAY, guard="lookup_is_current", action="show_not_found"),
    T(S.FIND_ACCOUNT, ui.Cancel, S.IDLE, action="end_without_payment"),
    T(S.FIND_ACCOUNT, ui.Back, S.IDLE, action="end_without_payment"),
    T(S.FIND_ACCOUNT, ui.TimedOut, S.STILL_THERE, action="ask_still_there"),
    # confirm it is theirs
    T(S.CONFIRM_ACCOUNT, ui.ConfirmAccount, S.AMOUNT, action="select_account"),
    T(S.CONFIRM_ACCOUNT, ui.Back, S.FIND_ACCOUNT, action="forget_account"),
    T(S.CONFIRM_ACCOUNT, ui.Cancel, S.IDLE, action="end_without_payment"),
    T(S.CONFIRM_ACCOUNT, ui.TimedOut, S.STILL_THERE, action="ask_still_there"),
    # how much
    T(S.AMOUNT, ui.ChooseAmount, S.METHOD, guard="amount_allowed", action="choose_amount"),
    T(S.AMOUNT, ui.ChooseAmount, STAY, action="explain_amount_limits"),
    T(S.AMOUNT, ui.Back, S.CONFIRM_ACCOUNT),
    T(S.AMOUNT, ui.Cancel, S.IDLE, action="end_without_payment"),
    T(S.AMOUNT, ui.TimedOut, S.STILL_THERE, action="ask_still_there"),
    # cash or card (the card fee is on this screen before the choice)
    T(S.METHOD, ui.ChooseMethod, S.CASH, guard="cash_chosen_and_possible", action="start_cash"),
    T(
        S.METHOD,
        ui.ChooseMethod,
        S.CARD,
        guard="card_chosen_and_possible",
        action="start_card_sale",
    ),
    T(S.METHOD, ui.ChooseMethod, STAY, action="explain_method_unavailable"),
    T(S.METHOD, ui.Back, S.AMOUNT),
    T(S.METHOD, ui.Cancel, S.IDLE, action="end_without_payment"),
    T(S.METHOD, ui.TimedOut, S.STILL_THERE, action="ask_still_there"),
    # cash: each bill escrowed, then stacked or returned
    T(S.CASH, BillEscrowed, STAY, guard="bill_fits", action="stack_bill"),
    T(S.CASH, BillEscrowed, STAY, action="return_bill"),
    T(S.CASH, BillStacked, S.RECEIPT, guard="cash_complete_after_stack", action="complete_payment"),
    T(S.CASH, BillStacked, STAY),
    T(S.CASH, BillReturned, S.RECEIPT, guard="finishing_with_money", action="complete_payment"),
    T(S.CASH, BillReturned, S.IDLE, guard="cancelling_without_money", action="end_without_payment"),
    T(S.CASH, BillReturned, S.METHOD, guard="finishing_without_money", action="stop_cash"),
    T(S.CASH, BillReturned, STAY),
    T(S.CASH, BillRejected, STAY, action="show_bill_rejected"),
    T(S.CASH, ui.FinishCash, STAY, guard="bill_in_flight", action="request_finish"),
    T(S.CASH, ui.FinishCash, S.RECEIPT, guard="money_in", action="complete_payment"),
    T(S.CASH, ui.FinishCash, S.METHOD, action="stop_cash"),
    T(S.CASH, ui.Cancel, STAY, guard="bill_in_flight", action="request_cancel"),
    T(S.CASH, ui.Cancel, S.RECEIPT, guard="money_in", action="complete_payment"),
    T(S.CASH, ui.Cancel, S.IDLE, action="end_without_payment"),
    T(S.CASH, ui.Back, S.METHOD, guard="no_money_in", action="stop_cash"),
    T(S.CASH, AcceptorFault, S.RECEIPT, guard="money_in", action="complete_payment"),
    T(S.CASH, AcceptorFault, S.METHOD, action="stop_cash_on_fault"),
    T(S.CASH, ui.TimedOut, S.STILL_THERE, action="ask_still_there"),
    # card: the terminal drives the cardholder; we show its prompts
    T(S.CARD, CardProgress, STAY, guard="card_is_current", action="show_card_progress"),
    T(S.CARD, CardResult, S.CARD_CHECKING, guard="card_in_doubt", action="check_with_terminal"),
    T(S.CARD, CardResult, S.RECEIPT, guard="card_approved", action="complete_payment"),
    T(S.CARD, CardResult, S.IDLE, guard="cancelled_by_resident", action="end_without_payment"),
    T(S.CARD, CardResult, S.CARD_DECLINED, guard="card_is_current", action="show_card_declined"),
    T(S.CARD, ui.Cancel, STAY, action="abort_card_sale"),
    T(S.CARD, ui.TimedOut, S.CARD_CHECKING, action="give_up_on_sale"),
    # checking with the terminal (status query, then a reversal if it can not say): only
    # settled results arrive; the session can not end before one does
    T(S.CARD_CHECKING, CardResult, S.RECEIPT, guard="card_approved", action="complete_payment"),
    T(
        S.CARD_CHECKING,
        CardResult,
        S.IDLE,
        guard="cancelled_by_resident",
        action="end_without_payment",
    ),
    T(
        S.CARD_CHECKING,
        CardResult,
        S.CARD_DECLINED,
        guard="card_is_current",
        action="show_card_declined",
    ),
    T(S.CARD_CHECKING, ui.Cancel, STAY, action="request_cancel"),
    T(S.CARD_CHECKING, ui.TimedOut, S.STILL_THERE, action="ask_still_there"),
    T(S.CARD_DECLINED, ui.RetryCard, S.CARD, guard="card_possible", action="start_card_sale"),
    T(
        S.CARD_DECLINED,
        ui.ChooseMethod,
        S.CASH,
        guard="cash_chosen_and_possible",
        action="start_cash",
    ),
    T(
        S.CARD_DECLINED,
        ui.ChooseMethod,
        S.CARD,
        guard="card_chosen_and_possible",
        action="start_card_sale",
    ),
    T(S.CARD_DECLINED, ui.Back, S.METHOD),
    T(S.CARD_DECLINED, ui.Cancel, S.IDLE, action="end_without_payment"),
    T(S.CARD_DECLINED, ui.TimedOut, S.STILL_THERE, action="ask_still_there"),
    # receipt / thank you
    T(S.RECEIPT, ReceiptDone, STAY),
    T(S.RECEIPT, ui.Finish, S.IDLE, action="end_after_payment"),
    T(S.RECEIPT, ui.Cancel, S.IDLE, action="end_after_payment"),
    T(S.RECEIPT, ui.TimedOut, S.IDLE, action="end_after_payment"),
    # "Are you still there?"
    T(S.STILL_THERE, ui.Touch, PREVIOUS),
    T(S.STILL_THERE, BillEscrowed, PREVIOUS, guard="bill_fits", action="stack_bill"),
    T(S.STILL_THERE, BillEscrowed, PREVIOUS, action="return_bill"),
    T(S.STILL_THERE, ui.TimedOut, STAY, guard="bill_in_flight", action="request_finish"),
    T(S.STILL_THERE, ui.TimedOut, STAY, guard="card_unsettled", action="request_cancel"),
    T(S.STILL_THERE, ui.TimedOut, S.RECEIPT, guard="money_in", action="complete_payment"),
    T(S.STILL_THERE, ui.TimedOut, S.IDLE, action="end_timed_out"),
    T(
        S.STILL_THERE,
        BillStacked,
        S.RECEIPT,
        guard="cash_complete_after_stack",
        action="complete_payment",
    ),
    T(S.STILL_THERE, ui.Cancel, STAY, guard="bill_in_flight", action="request_finish"),
    T(S.STILL_THERE, ui.Cancel, STAY, guard="card_unsettled", action="request_cancel"),
    T(S.STILL_THERE, ui.Cancel, S.RECEIPT, guard="money_in", action="complete_payment"),
    T(S.STILL_THERE, ui.Cancel, S.IDLE, action="end_without_payment"),
    # a sale settled while the prompt was up (the kiosk was checking it with the terminal)
    T(S.STILL_THERE, CardResult, S.RECEIPT, guard="card_approved", action="complete_payment"),
    T(
        S.STILL_THERE,
        CardResult,
        S.IDLE,
        guard="cancelled_by_resident",
        action="end_without_payment",
    ),
    T(
        S.STILL_THERE,
        CardResult,
        S.CARD_DECLINED,
        guard="card_is_current",
        action="show_card_declined",
    ),
    # service mode: the PIN (checked off the engine thread), then the technician's menu
    T(S.SERVICE_PIN, ui.EnterPin, STAY, guard="pin_entry_open", action="check_pin"),
    T(S.SERVICE_PIN, ui.EnterPin, STAY, action="explain_locked"),
    T(S.SERVICE_PIN, PinChecked, S.SERVICE_MENU, guard="pin_matched", action="enter_service"),
    T(S.SERVICE_PIN, PinChecked, STAY, action="refuse_pin"),
    T(S.SERVICE_PIN, ui.Cancel, S.OUT_OF_SERVICE, guard="held_out_of_service",
      action="close_pin_pad"),
    T(S.SERVICE_PIN, ui.Cancel, S.IDLE, action="close_pin_pad"),
    T(S.SERVICE_PIN, ui.TimedOut, S.OUT_OF_SERVICE, guard="held_out_of_service",
      action="close_pin_pad"),
    T(S.SERVICE_PIN, ui.TimedOut, S.IDLE, action="close_pin_pad"),
    T(S.SERVICE_MENU, ui.ShowDeviceStatus, S.SERVICE_STATUS, action="show_device_status"),
    T(S.SERVICE_MENU, ui.ShowTests, S.SERVICE_TESTS, action="start_tests"),
    T(S.SERVICE_MENU, ui.ShowPaper, S.SERVICE_PAPER, action="list_unprinted"),
    T(S.SERVICE_MENU, ui.StartCollection, S.COLLECTION, action="start_collection"),
    T(S.SERVICE_MENU, ui.SetOutOfService, STAY, action="take_out_of_service"),
    T(S.SERVICE_MENU, ui.SetInService, STAY, action="put_back_in_service"),
    T(S.SERVICE_STATUS, ui.PushNow, STAY, action="push_now"),
    T(S.SERVICE_TESTS, ui.RunTest, STAY, action="run_test"),
    T(S.SERVICE_TESTS, Scanned, STAY, action="show_scanned"),
    T(S.SERVICE_TESTS, BillEscrowed, STAY, action="note_test_bill"),
    T(S.SERVICE_PAPER, ui.Reprint, STAY, action="reprint_receipts"),
    *_on_every_service_page(),
    # cash-box collection: box out, bag/seal number, empty box in; then the kiosk closes the
    # batch, asks the terminal for its end of day and prints the slip by itself
    T(S.COLLECTION, AcceptorFault, STAY, guard="box_came_out", action="note_box_out"),
    T(S.COLLECTION, ui.BoxRemoved, STAY, guard="awaiting_box_out", action="note_box_out"),
    T(S.COLLECTION, ui.EnterSeal, STAY, guard="seal_accepted", action="note_seal"),
    T(S.COLLECTION, ui.EnterSeal, STAY, action="explain_seal"),
    T(S.COLLECTION, DeviceNotice, STAY, guard="box_went_in", action="close_collection"),
    T(S.COLLECTION, ui.BoxInserted, STAY, guard="awaiting_box_in", action="close_collection"),
    T(S.COLLECTION, EndOfDayAnswered, STAY, action="finish_collection"),
    T(S.COLLECTION, ui.ReprintSlip, STAY, guard="a_slip_to_reprint", action="reprint_slip"),
    T(S.COLLECTION, ui.Back, S.SERVICE_MENU, guard="collection_not_under_way",
      action="leave_collection"),
    T(S.COLLECTION, ui.Cancel, S.SERVICE_MENU, guard="collection_not_under_way",
      action="leave_collection"),
    T(S.COLLECTION, ui.TimedOut, STAY, guard="collection_under_way"),
    T(S.COLLECTION, ui.TimedOut, S.OUT_OF_SERVICE, guard="held_out_of_service",
      action="leave_service_timed_out"),
    T(S.COLLECTION, ui.TimedOut, S.IDLE, action="leave_service_timed_out"),
)  # fmt: skip


def transitions_for(state: State, event: object) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source is state and isinstance(event, t.event)]


def diagram() -> str:
    """The table as Graphviz DOT, for docs and for a person who wants to see the flow."""
    lines = ["digraph session {", "  rankdir=LR;"]
    for t in TRANSITIONS:
        target = t.source.value if t.target is STAY else t.target.value
        label = t.event.__name__ + (f" [{t.guard}]" if t.guard else "")
        lines.append(f'  {t.source.value} -> {target} [label="{label}"];')
    lines.append("}")
    return "\n".join(lines)
