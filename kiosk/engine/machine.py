"""The payment engine: the one writer of payment state.

One thread takes events from one queue (device events from driver threads, resident input
from the screens, its own time-outs), journals what happened, looks the event up in the
state table of :mod:`kiosk.engine.states`, runs the named guard and action, and publishes an
immutable :class:`~kiosk.engine.snapshot.Snapshot`. Tests drive it without a thread through
:meth:`PaymentEngine.handle` and :meth:`PaymentEngine.pump`.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from contract import entries as E
from kiosk import crashpoints
from kiosk.batches import BatchReport, close_batch
from kiosk.bill_stub import NotRecognised, StubParser
from kiosk.completion import (
    account_selected_payload,
    approval_payload,
    completion_payload,
    credited_amount,
    receipt_content,
)
from kiosk.config import KioskConfig
from kiosk.engine import inputs as ui
from kiosk.engine.session import CardApproval, Session, replace_session
from kiosk.engine.snapshot import AccountView, Snapshot
from kiosk.engine.states import PREVIOUS, STAY, State, Transition, transitions_for
from kiosk.fees import card_fee
from kiosk.masking import mask_account, mask_address, mask_name
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
    Clock,
    DeviceFault,
    DeviceNotice,
    PortSet,
    ReceiptDone,
    Scanned,
)

log = logging.getLogger(__name__)

Observer = Callable[[Snapshot], None]


#: acceptor notices after which a note that did not reach the cash box never will
_PATH_CLEAR = frozenset(
    {"jam_cleared", "failure_cleared", "bill_left_path_unreported", "power_up", "cassette_replaced"}
)


@dataclass
class _UnsettledStack:
    """A stack intent a fault left open: settled when the acceptor's path is clear."""

    intent_seq: int
    bill_id: str
    denomination: Money
    cashbox_before: int
    session: Session


class JournalWriter(Protocol):
    """The part of :class:`kiosk.store.journal.Journal` the engine uses."""

    def append(self, type: str, payload: dict[str, Any]) -> E.EntryLike: ...
    def entries(self, after_seq: int = 0, limit: int | None = None) -> Any: ...
    def open_batch_id(self) -> str: ...
    def last_seq(self) -> int: ...


class PaymentEngine:
    def __init__(
        self, config: KioskConfig, journal: JournalWriter, ports: PortSet, clock: Clock
    ) -> None:
        self.config = config
        self.journal = journal
        self.ports = ports
        self.clock = clock
        self.state = State.IDLE
        self.session: Session | None = None
        self.language = config.locale.default_language
        self._interrupted: State | None = None
        self._deadline: float | None = None
        self._out_of_service_reason = ""
        self._out_of_service_pending = ""
        self._stubs = StubParser.from_config(config.scanner)
        self._unsettled_stack: _UnsettledStack | None = None
        self._config_pending: KioskConfig | None = None
        self.last_batch: BatchReport | None = None  # the latest close, for service mode
        # the open bill.return.requested (seq, session), kept past the end of its session so
        # the acceptor's answer settles it even after the resident has gone
        self._return_intent: tuple[int, str | None] | None = None
        # open receipt.print.requested by confirmation -> (seq, session): the printer may
        # answer after the resident pressed Done and the session ended
        self._receipt_intents: dict[str, tuple[int, str]] = {}
        self._queue: queue.Queue[object] = queue.Queue()
        self._observers: list[Observer] = []
        self._version = 0
        self._thread: threading.Thread | None = None
        self.snapshot = self._build_snapshot()
        for port in (ports.acceptor, ports.terminal, ports.printer, ports.scanner, ports.directory):
            port.attach(self.submit)

    # ------------------------------------------------------------------ public surface
    def subscribe(self, observer: Observer) -> None:
        self._observers.append(observer)
        observer(self.snapshot)

    def submit(self, event: object) -> None:
        """Thread-safe: the only way other threads talk to the engine."""
        self._queue.put(event)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="payment-engine", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        self.submit(ui.Stop())
        if self._thread is not None:
            self._thread.join(timeout)

    def pump(self, limit: int = 10_000) -> int:
        """Handle every queued event on the calling thread (tests and scripted runs)."""
        handled = 0
        while handled < limit:
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                break
            self.handle(event)
            handled += 1
        self.check_deadline()
        return handled

    def check_deadline(self) -> None:
        if self._deadline is not None and self.clock.monotonic() >= self._deadline:
            self._deadline = None
            self.handle(ui.TimedOut())

    def handle(self, event: object) -> None:
        settled = self._observe(event)
        if settled is None:
            self._publish()
            return
        if isinstance(settled, ui.UpdateConfig):
            self._config_pending = settled.config
        if isinstance(settled, ui.SetOutOfService) and self.state is not State.IDLE:
            # never in the middle of a resident's payment: when this session ends
            self._out_of_service_pending = settled.reason
        if (
            isinstance(settled, ui.Touch | ui.Start | ui.EnterAccount | ui.ChooseAmount)
            and self.state is not State.CARD  # the terminal's sale has its own, fixed limit
        ):
            self._reset_deadline()
        for transition in transitions_for(self.state, settled):
            if transition.guard is None or self._call(transition.guard, settled):
                self._take(transition, settled)
                break
        else:
            if not isinstance(settled, ui.Touch | ui.TimedOut):
                log.debug("no transition from %s on %r", self.state.value, settled)
        if self._config_pending is not None and self.state in (State.IDLE, State.OUT_OF_SERVICE):
            self._apply_config(self._config_pending)
        if self.state is State.IDLE and self._out_of_service_pending:
            reason, self._out_of_service_pending = self._out_of_service_pending, ""
            self.handle(ui.SetOutOfService(reason))
            return
        self._publish()

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        while True:
            try:
                event = self._queue.get(timeout=0.05)
            except queue.Empty:
                self.check_deadline()
                continue
            if isinstance(event, ui.Stop):
                return
            try:
                self.handle(event)
                self.check_deadline()
            except Exception:  # the engine must outlive one bad event
                log.exception("engine failed handling %r", event)

    def _take(self, transition: Transition, event: object) -> None:
        before = self.state
        if transition.action is not None:
            self._call(transition.action, event)
        if transition.target is STAY:
            target = self.state
        elif transition.target is PREVIOUS:
            target = self._interrupted or State.IDLE
        else:
            assert isinstance(transition.target, State)
            target = transition.target
        self.state = target
        if target is not State.STILL_THERE:
            self._interrupted = None
        # Always a fresh deadline, also after a time-out that stays (a bill still in flight):
        # that time-out comes back, so a bill that is returned rather than stacked can not
        # leave the prompt up for good. The card sale's limit runs from its start, though:
        # the terminal's prompts do not extend it.
        if not (target is before is State.CARD):
            self._reset_deadline()

    def _call(self, name: str, event: object) -> bool:
        method: Callable[[object], bool | None] = getattr(self, f"_{name}")
        return bool(method(event))

    # ------------------------------------------------------------------ journaling facts
    def _write(self, type_: str, **payload: Any) -> E.EntryLike:
        return self.journal.append(type_, payload)

    def _sid(self) -> str | None:
        return self.session.session_id if self.session else None

    def _observe(self, event: object) -> object | None:
        """Journal what a device reports, whatever the state; settle card doubts.

        Returns the event for the state table, or None when nothing more is to be done.
        """
        if isinstance(event, ui.SetLanguage):
            self._set_language(event.language)
            return None
        if isinstance(event, BillEscrowed):
            return self._observe_escrow(event)
        if isinstance(event, BillStacked):
            self._observe_stacked(event)
            return event
        if isinstance(event, BillReturned):
            self._observe_returned(event)
            return event
        if isinstance(event, BillRejected):
            self._write(E.BILL_REJECTED, session_id=self._sid(), reason=event.reason)
            return event
        if isinstance(event, AcceptorFault):
            self._observe_acceptor_fault(event)
            return event
        if isinstance(event, DeviceFault):
            self._write(E.DEVICE_FAULT, device=event.device, reason=event.reason)
            return None
        if isinstance(event, DeviceNotice):
            self._write(E.DEVICE_NOTICE, device=event.device, kind=event.kind, detail=event.detail)
            if event.device == "bill_acceptor":
                self._resettle_stack(event, None)
            return None
        if isinstance(event, CardResult):
            return self._observe_card_result(event)
        if isinstance(event, ui.TimedOut) and self.state is State.CARD:
            return self._card_timed_out()
        if isinstance(event, ReceiptDone):
            self._observe_receipt(event)
            return event
        return event

    def _observe_escrow(self, event: BillEscrowed) -> object | None:
        s = self.session
        taking_cash = s is not None and (
            self.state is State.CASH
            or (self.state is State.STILL_THERE and self._interrupted is State.CASH)
        )
        self._write(
            E.BILL_ESCROWED, session_id=self._sid(), denomination_cents=event.denomination.cents
        )
        if s is not None:
            s.escrow = event.denomination
        if not taking_cash or (s is not None and s.completed):
            # A bill pushed in while we are not taking cash goes straight back.
            self._return_escrowed(event.denomination, reason="not_taking_cash")
            return None
        return event

    def _observe_stacked(self, event: BillStacked) -> None:
        s = self.session
        if (s is None or s.pending_stack_seq is None) and self._resettle_stack(None, event):
            return
        intent, session_id = None, self._sid()
        bill_id = str(uuid.uuid4())
        if s is not None and s.pending_stack_seq is not None:
            intent, bill_id = s.pending_stack_seq, s.pending_stack_bill or bill_id
        elif self._return_intent is not None:
            # the acceptor stacked what we asked it to return
            intent, session_id = self._return_intent
        self._return_intent = None
        self._write(
            E.BILL_STACKED,
            session_id=session_id or "",  # "": stacked with no session at all (unattributed)
            intent_seq=intent,
            bill_id=bill_id,
            denomination_cents=event.denomination.cents,
            recovered=False,
        )
        crashpoints.hit("cash.after_stacked_journaled")
        if s is not None and not s.completed:
            s.bills.append(event.denomination)
        elif s is None or s.completed:
            log.warning("bill stacked outside a payment; journaled for finance as unattributed")
        if s is not None:
            s.escrow = None
            s.pending_stack_seq = s.pending_stack_bill = s.pending_return_seq = None

    def _observe_returned(self, event: BillReturned) -> None:
        s = self.session
        intent, session_id = self._return_intent or (None, self._sid())
        self._return_intent = None
        self._write(
            E.BILL_RETURNED,
            session_id=session_id,
            intent_seq=intent,
            denomination_cents=event.denomination.cents,
        )
        if s is not None:
            s.escrow = None
            s.pending_return_seq = None

    def _observe_acceptor_fault(self, event: AcceptorFault) -> None:
        self._write(E.DEVICE_FAULT, device="bill_acceptor", reason=event.reason)
        s = self.session
        if s is None or s.pending_stack_seq is None:
            return
        # The stack command's fate is unknown: the cash box count is the hardware's truth.
        self._settle_stack_by_count(s, reason=event.reason)

    def _settle_stack_by_count(self, s: Session, reason: str) -> None:
        intent_seq, bill_id, denomination = s.pending_stack_seq, s.pending_stack_bill, s.escrow
        if intent_seq is None or denomination is None:
            return
        try:
            count = self.ports.acceptor.cashbox_count()
        except Exception as exc:  # acceptor gone: recovery will settle it at next start
            log.warning("cash box count unavailable (%s); leaving stack intent open", exc)
            return
        if count > s.pending_stack_cashbox:
            self._write(
                E.BILL_STACKED,
                session_id=s.session_id,
                intent_seq=intent_seq,
                bill_id=bill_id,
                denomination_cents=denomination.cents,
                recovered=True,
            )
            s.bills.append(denomination)
        else:
            # The note may still be in the path (a jam): a technician may yet clear it into
            # the cash box. The intent stays open until the acceptor says the path is clear;
            # the resident is not kept waiting for that.
            log.warning(
                "stack of %s unsettled after %s; waiting for the path to clear",
                denomination,
                reason,
            )
            self._unsettled_stack = _UnsettledStack(
                intent_seq, bill_id or str(uuid.uuid4()), denomination, s.pending_stack_cashbox, s
            )
        s.escrow = None
        s.pending_stack_seq = s.pending_stack_bill = None

    def _resettle_stack(self, notice: DeviceNotice | None, stacked: BillStacked | None) -> bool:
        """Settle a stack a fault left open; True when ``stacked`` was that bill."""
        u = self._unsettled_stack
        if u is None:
            return False
        if stacked is not None:
            into_box = stacked.denomination == u.denomination
        else:
            try:
                into_box = self.ports.acceptor.cashbox_count() > u.cashbox_before
            except Exception:
                return False
            if not into_box and (notice is None or notice.kind not in _PATH_CLEAR):
                return False
        self._unsettled_stack = None
        common = {
            "session_id": u.session.session_id,
            "intent_seq": u.intent_seq,
            "bill_id": u.bill_id,
            "denomination_cents": u.denomination.cents,
        }
        if not into_box:
            self._write(E.BILL_NOT_STACKED, **common, reason=notice.kind if notice else "")
            return False
        self._write(E.BILL_STACKED, **common, recovered=True)
        if self.session is u.session and not u.session.completed:
            u.session.bills.append(u.denomination)
        else:
            self._pay_late(u)
        return True

    def _pay_late(self, u: _UnsettledStack) -> None:
        """A bill that reached the cash box after its session finished is still the
        resident's money: it becomes a payment of its own to the same account."""
        late = replace_session(u.session, bills=[u.denomination])
        payload = completion_payload(late, self.clock.now(), recovered=True)
        self._write(E.PAYMENT_COMPLETED, **payload, late_credit=True)

    def _observe_card_result(self, result: CardResult) -> object | None:
        s = self.session
        if s is None or result.reference != s.card_reference or s.card_settled:
            self._late_card_result(result)
            return None
        if result.outcome is CardOutcome.IN_DOUBT:
            self._write(
                E.CARD_SALE_IN_DOUBT,
                session_id=s.session_id,
                intent_seq=s.card_intent_seq,
                reference=result.reference,
            )
            result = self._settle_in_doubt(s)
        else:
            self._journal_card_result(s, result)
        return result

    def _journal_card_result(self, s: Session, result: CardResult, recovered: bool = False) -> None:
        s.card_settled = True
        common: dict[str, Any] = {
            "session_id": s.session_id,
            "intent_seq": s.card_intent_seq,
            "reference": result.reference,
        }
        if result.outcome is CardOutcome.APPROVED:
            self._write(
                E.CARD_SALE_APPROVED, **(common | approval_payload(result)), recovered=recovered
            )
            crashpoints.hit("card.after_approved_journaled")
            s.card_approval = CardApproval.from_result(result)
        elif result.outcome is CardOutcome.DECLINED:
            self._write(E.CARD_SALE_DECLINED, **common, reason=result.reason)
            s.card_decline_reason = result.reason or "declined"
        else:
            self._write(E.CARD_SALE_CANCELLED, **common, by=result.reason or "cardholder")
            s.card_decline_reason = "cancelled"

    def _settle_in_doubt(self, s: Session) -> CardResult:
        """Ask the terminal what became of the sale; reverse it if nobody can say."""
        reference = s.card_reference or ""
        try:
            status = self.ports.terminal.status(reference)
        except Exception as exc:
            log.warning("terminal status query failed: %s", exc)
            status = CardResult(reference=reference, outcome=CardOutcome.IN_DOUBT)
        if status.outcome is not CardOutcome.IN_DOUBT:
            self._journal_card_result(s, status, recovered=True)
            return status
        self._reverse(s.session_id, reference, reason="in_doubt", intent_seq=s.card_intent_seq)
        s.card_settled = True
        s.card_decline_reason = "in_doubt_reversed"
        return CardResult(
            reference=reference, outcome=CardOutcome.DECLINED, reason="in_doubt_reversed"
        )

    def _reverse(
        self, session_id: str | None, reference: str, reason: str, intent_seq: int | None
    ) -> bool:
        intent = self._write(
            E.CARD_REVERSAL_REQUESTED,
            session_id=session_id,
            reference=reference,
            reason=reason,
            sale_intent_seq=intent_seq,
        )
        crashpoints.hit("card.after_reversal_intent")
        try:
            ok = self.ports.terminal.reverse(reference)
        except Exception as exc:
            log.warning("reversal of %s failed: %s", reference, exc)
            ok = False
        if ok:
            self._write(
                E.CARD_REVERSED, session_id=session_id, intent_seq=intent.seq, reference=reference
            )
            if intent_seq is not None:
                # the reversal also settles the sale intent it undid
                self._write(
                    E.CARD_REVERSED,
                    session_id=session_id,
                    intent_seq=intent_seq,
                    reference=reference,
                )
        else:
            self._write(
                E.CARD_REVERSAL_FAILED,
                session_id=session_id,
                intent_seq=intent.seq,
                reference=reference,
                reason="terminal did not confirm the reversal",
            )
        return ok

    def _late_card_result(self, result: CardResult) -> None:
        """A result for a sale we already settled or gave up on: never keep money silently."""
        s = self.session
        if result.outcome is CardOutcome.APPROVED:
            if (
                s is not None
                and s.card_approval is not None
                and s.card_approval.reference == result.reference
            ):
                return  # the same approval reported twice
            self._write(
                E.CARD_SALE_APPROVED,
                session_id=self._sid(),
                intent_seq=None,
                **approval_payload(result),
                recovered=False,
                late=True,
            )
            self._reverse(self._sid(), result.reference, reason="late_approval", intent_seq=None)
        else:
            log.info(
                "ignoring settled card result %s for %s", result.outcome.value, result.reference
            )

    def _card_timed_out(self) -> CardResult:
        s = self.session
        assert s is not None
        try:
            self.ports.terminal.abort()
        except Exception as exc:
            log.warning("abort failed: %s", exc)
        self._write(
            E.CARD_SALE_IN_DOUBT,
            session_id=s.session_id,
            intent_seq=s.card_intent_seq,
            reference=s.card_reference,
            reason="timeout",
        )
        return self._settle_in_doubt(s)

    def _observe_receipt(self, event: ReceiptDone) -> None:
        s = self.session
        intent, session_id = self._receipt_intents.pop(event.confirmation, (None, self._sid()))
        if event.printed:
            self._write(
                E.RECEIPT_PRINTED,
                session_id=session_id,
                intent_seq=intent,
                confirmation=event.confirmation,
            )
        else:
            self._write(
                E.RECEIPT_FAILED,
                session_id=session_id,
                intent_seq=intent,
                confirmation=event.confirmation,
                reason=event.reason,
            )
        if s is not None and s.confirmation == event.confirmation:
            s.receipt_state = "printed" if event.printed else "failed"
            s.receipt_reason = event.reason

    # ------------------------------------------------------------------ guards
    def _lookup_is_current(self, event: AccountFound | AccountNotFound) -> bool:
        return self.session is not None and event.request == self.session.lookup_request

    def _amount_allowed(self, event: ui.ChooseAmount) -> bool:
        low, high = self._amount_bounds()
        return low <= event.amount <= high

    def _cash_possible(self) -> bool:
        s = self.session
        if s is None or s.amount is None:
            return False
        return self.ports.acceptor.health().usable and s.amount <= self.config.limits.max_cash

    def _card_possible(self, _event: object = None) -> bool:
        return self.ports.terminal.health().usable

    def _cash_chosen_and_possible(self, event: ui.ChooseMethod) -> bool:
        return event.method == "cash" and self._cash_possible()

    def _card_chosen_and_possible(self, event: ui.ChooseMethod) -> bool:
        return event.method == "card" and self._card_possible()

    def _bill_fits(self, event: BillEscrowed) -> bool:
        s = self.session
        if s is None or s.amount is None or s.finish_requested or s.inserted >= s.amount:
            return False
        return s.inserted + event.denomination <= self._cash_ceiling(s)

    def _cash_complete_after_stack(self, _event: object) -> bool:
        s = self.session
        if s is None or s.amount is None or s.bill_in_flight:
            return False
        return s.inserted >= s.amount or s.finish_requested

    def _bill_in_flight(self, _event: object) -> bool:
        return self.session is not None and self.session.bill_in_flight

    def _money_in(self, _event: object) -> bool:
        return self.session is not None and self.session.money_in

    def _no_money_in(self, _event: object) -> bool:
        return not self._money_in(_event) and not self._bill_in_flight(_event)

    def _card_is_current(self, event: CardProgress | CardResult) -> bool:
        return self.session is not None and event.reference == self.session.card_reference

    def _cancelled_by_resident(self, event: CardResult) -> bool:
        s = self.session
        return self._card_is_current(event) and s is not None and s.cancel_requested

    def _finishing_with_money(self, _event: object) -> bool:
        s = self.session
        return s is not None and s.finish_requested and s.money_in and not s.bill_in_flight

    def _cancelling_without_money(self, _event: object) -> bool:
        s = self.session
        return s is not None and s.cancel_requested and not s.money_in and not s.bill_in_flight

    def _finishing_without_money(self, _event: object) -> bool:
        s = self.session
        return s is not None and s.finish_requested and not s.money_in and not s.bill_in_flight

    def _card_approved(self, event: CardResult) -> bool:
        return self._card_is_current(event) and event.outcome is CardOutcome.APPROVED

    # ------------------------------------------------------------------ actions
    def _start_session(self, event: object) -> None:
        if isinstance(event, ui.Start) and event.language in self.config.locale.languages:
            self.language = event.language
        self.session = Session(
            session_id=str(uuid.uuid4()),
            language=self.language,
            started_at=self.clock.now(),
        )
        self._write(E.SESSION_STARTED, session_id=self.session.session_id, language=self.language)

    def _start_session_and_look_up(self, event: Scanned) -> None:
        self._start_session(event)
        self._look_up(event)

    def _look_up(self, event: ui.EnterAccount | Scanned) -> None:
        s = self.session
        assert s is not None
        if isinstance(event, Scanned):
            stub = self._stubs.parse(event.code)
            if isinstance(stub, NotRecognised):
                # a misread or another biller's stub: never guess an account from it
                log.info("barcode not recognised: %s", stub.message)
                s.lookup_pending = False
                s.message = "barcode_not_recognised"
                return
            number, s.bill_amount = stub.account, stub.amount_due
        else:
            number = event.number.strip()
        s.lookup_request = number
        s.lookup_pending = True
        s.message = ""
        self.ports.directory.lookup(number)

    def _show_account(self, event: AccountFound) -> None:
        s = self.session
        assert s is not None
        s.account, s.account_source = event.account, event.source
        s.lookup_pending = False
        s.message = ""

    def _show_not_found(self, event: AccountNotFound) -> None:
        s = self.session
        assert s is not None
        s.lookup_pending = False
        s.message = f"account_{event.reason}"

    def _select_account(self, _event: object) -> None:
        s = self.session
        assert s is not None
        s.account_selected = True
        self._write(E.ACCOUNT_SELECTED, **account_selected_payload(s))

    def _forget_account(self, _event: object) -> None:
        s = self.session
        assert s is not None
        s.account = None
        s.account_source = None
        s.lookup_request = None

    def _choose_amount(self, event: ui.ChooseAmount) -> None:
        s = self.session
        assert s is not None
        s.amount = event.amount
        s.message = ""
        self._write(E.AMOUNT_CHOSEN, session_id=s.session_id, amount_cents=event.amount.cents)

    def _explain_amount_limits(self, event: ui.ChooseAmount) -> None:
        assert self.session is not None
        low, _ = self._amount_bounds()
        self.session.message = "amount_too_low" if event.amount < low else "amount_too_high"

    def _explain_method_unavailable(self, event: ui.ChooseMethod) -> None:
        assert self.session is not None
        if (
            event.method == "cash"
            and self.session.amount
            and self.session.amount > self.config.limits.max_cash
        ):
            self.session.message = "cash_over_limit"
        else:
            self.session.message = f"{event.method}_unavailable"

    def _start_cash(self, _event: object) -> None:
        s = self.session
        assert s is not None
        s.method, s.fee, s.message = "cash", Money(0), ""
        self._write(E.METHOD_CHOSEN, session_id=s.session_id, method="cash", fee_cents=0)
        self.ports.acceptor.enable(self._accepted_bills())

    def _stop_cash(self, _event: object) -> None:
        self.ports.acceptor.disable()

    def _stop_cash_on_fault(self, event: AcceptorFault) -> None:
        self.ports.acceptor.disable()
        assert self.session is not None
        self.session.message = "cash_unavailable"

    def _stack_bill(self, event: BillEscrowed) -> None:
        s = self.session
        assert s is not None
        cashbox_before = self._cashbox_count()
        if cashbox_before is None:
            # without the count, a crash could leave this bill's fate unknowable: do not stack
            s.message = "bill_not_accepted_now"
            self._return_escrowed(event.denomination, reason="acceptor_unavailable")
            return
        bill_id = str(uuid.uuid4())
        intent = self._write(
            E.BILL_STACK_REQUESTED,
            session_id=s.session_id,
            bill_id=bill_id,
            denomination_cents=event.denomination.cents,
            cashbox_before=cashbox_before,
        )
        s.pending_stack_seq, s.pending_stack_bill = intent.seq, bill_id
        s.pending_stack_cashbox = cashbox_before
        s.message = ""
        crashpoints.hit("cash.after_stack_intent")
        self.ports.acceptor.stack()
        crashpoints.hit("cash.after_stack_sent")

    def _return_bill(self, event: BillEscrowed) -> None:
        s = self.session
        assert s is not None
        s.message = "bill_over_limit"
        self._return_escrowed(event.denomination, reason="over_limit")

    def _return_escrowed(self, denomination: Money, reason: str) -> None:
        s = self.session
        intent = self._write(
            E.BILL_RETURN_REQUESTED,
            session_id=self._sid(),
            denomination_cents=denomination.cents,
            reason=reason,
            cashbox_before=self._cashbox_count(),
        )
        if s is not None:
            s.pending_return_seq = intent.seq
        self._return_intent = (intent.seq, self._sid())
        crashpoints.hit("cash.after_return_intent")
        self.ports.acceptor.return_bill()

    def _cashbox_count(self) -> int | None:
        """The acceptor's cash box count, or None when it can not answer right now."""
        try:
            return self.ports.acceptor.cashbox_count()
        except Exception as exc:
            log.warning("cash box count unavailable: %s", exc)
            return None

    def _show_bill_rejected(self, event: BillRejected) -> None:
        assert self.session is not None
        self.session.escrow = None
        self.session.message = "bill_rejected"

    def _request_finish(self, _event: object) -> None:
        assert self.session is not None
        self.session.finish_requested = True

    def _request_cancel(self, _event: object) -> None:
        assert self.session is not None
        self.session.finish_requested = self.session.cancel_requested = True

    def _start_card_sale(self, _event: object) -> None:
        s = self.session
        assert s is not None and s.amount is not None
        fee = card_fee(s.amount, self.config.card_fee)
        s.method, s.fee, s.message = "card", fee, ""
        self._write(E.METHOD_CHOSEN, session_id=s.session_id, method="card", fee_cents=fee.cents)
        s.card_attempts += 1
        s.card_reference = f"{s.session_id[:8].upper()}-{s.card_attempts}"
        s.card_prompt = ""
        s.card_decline_reason = ""
        total_charged = s.amount + fee
        intent = self._write(
            E.CARD_SALE_REQUESTED,
            session_id=s.session_id,
            reference=s.card_reference,
            amount_cents=s.amount.cents,
            fee_cents=fee.cents,
            total_cents=total_charged.cents,
        )
        s.card_intent_seq = intent.seq
        s.card_settled = False
        crashpoints.hit("card.after_sale_intent")
        try:
            self.ports.terminal.start_sale(total_charged, s.card_reference)
        except Exception as exc:  # did the request reach the terminal? only its status can say
            log.warning("starting the card sale failed: %s", exc)
            self.submit(CardResult(reference=s.card_reference, outcome=CardOutcome.IN_DOUBT))
        crashpoints.hit("card.after_sale_sent")

    def _show_card_progress(self, event: CardProgress) -> None:
        assert self.session is not None
        self.session.card_prompt = event.message

    def _show_card_declined(self, event: CardResult) -> None:
        assert self.session is not None
        self.session.message = "card_declined"

    def _abort_card_sale(self, _event: object) -> None:
        assert self.session is not None
        self.session.cancel_requested = True
        self.ports.terminal.abort()

    def _complete_payment(self, _event: object) -> None:
        s = self.session
        assert s is not None
        if s.method == "cash":
            self.ports.acceptor.disable()
        if s.completed:
            return
        s.paid_at = self.clock.now()
        payload = completion_payload(s, s.paid_at, recovered=False)
        self._write(E.PAYMENT_COMPLETED, **payload)
        s.payment_id, s.confirmation = payload["payment_id"], payload["confirmation"]
        crashpoints.hit("payment.after_completed_journaled")
        s.offline = not self.ports.directory.online()
        self._print_receipt(s, payload)

    def _print_receipt(self, s: Session, payload: dict[str, Any]) -> None:
        content = receipt_content(s, payload, self.config, offline=s.offline)
        intent = self._write(
            E.RECEIPT_PRINT_REQUESTED, session_id=s.session_id, confirmation=s.confirmation
        )
        s.receipt_intent_seq = intent.seq
        self._receipt_intents[content.confirmation] = (intent.seq, s.session_id)
        s.receipt_state = "printing"
        crashpoints.hit("receipt.after_print_intent")
        if not self.ports.printer.health().usable:
            self.submit(
                ReceiptDone(
                    content.confirmation, printed=False, reason=self.ports.printer.health().reason
                )
            )
            return
        self.ports.printer.print_receipt(content)
        crashpoints.hit("receipt.after_print_sent")

    def _ask_still_there(self, _event: object) -> None:
        self._interrupted = self.state

    def _end(self, outcome: str) -> None:
        s = self.session
        if s is None:
            return
        if s.money_in and not s.completed:
            # money the hardware took (a bill stacked although we asked to return it) is
            # never left unpaid: the session becomes a payment of what went in
            self._complete_payment(None)
            outcome = "completed"
        if s.escrow is not None and s.pending_stack_seq is None and s.pending_return_seq is None:
            self._return_escrowed(s.escrow, reason="cancelled")
        if s.method == "cash":
            self.ports.acceptor.disable()
        self._write(E.SESSION_ENDED, session_id=s.session_id, outcome=outcome)
        self.session = None
        self.language = self.config.locale.default_language

    def _end_without_payment(self, _event: object) -> None:
        self._end("cancelled")

    def _end_timed_out(self, _event: object) -> None:
        self._end("timed_out")

    def _end_after_payment(self, _event: object) -> None:
        self._end("completed")

    def _note_out_of_service(self, event: ui.SetOutOfService) -> None:
        self._out_of_service_reason = event.reason
        self._write(E.OUT_OF_SERVICE, reason=event.reason)

    def _apply_config(self, config: KioskConfig) -> None:
        self._config_pending = None
        self.config = config
        self._stubs = StubParser.from_config(config.scanner)
        self._write(
            E.CONFIG_APPLIED,
            limits=config.limits.model_dump(mode="json"),
            card_fee=config.card_fee.model_dump(mode="json"),
        )

    def _close_batch(self, event: ui.CloseBatch) -> None:
        self.last_batch = close_batch(
            self.journal, "cash_box_collection", event.by, terminal=self.ports.terminal
        )

    def _clear_out_of_service(self, _event: object) -> None:
        self._out_of_service_reason = ""
        self._write(E.IN_SERVICE)

    def _set_language(self, language: str) -> None:
        if language not in self.config.locale.languages:
            return
        self.language = language
        if self.session is not None:
            self.session.language = language
        self._reset_deadline()

    # ------------------------------------------------------------------ helpers
    def _amount_bounds(self) -> tuple[Money, Money]:
        limits = self.config.limits
        s = self.session
        balance = s.account.balance if s and s.account else Money(0)
        low = limits.min_payment
        if balance.is_positive() and balance < low:
            low = balance  # a small remaining balance can always be paid off
        high = min(limits.max_payment, Money(max(balance.cents, 0)) + limits.max_overpayment)
        return low, high

    def _cash_ceiling(self, s: Session) -> Money:
        limits = self.config.limits
        balance = s.account.balance if s.account else Money(0)
        amount = s.amount or Money(0)
        over = max(amount, balance) + limits.max_overpayment
        return min(limits.max_cash, limits.max_payment, over)

    def _accepted_bills(self) -> list[Money]:
        return [Money(c) for c in self.config.limits.accepted_bills_cents]

    def _timeout_for(self, state: State) -> float | None:
        t = self.config.timeouts
        return {
            State.FIND_ACCOUNT: t.idle_screen,
            State.CONFIRM_ACCOUNT: t.idle_screen,
            State.AMOUNT: t.idle_screen,
            State.METHOD: t.idle_screen,
            State.CARD_DECLINED: t.idle_screen,
            State.CASH: t.cash_inactivity,
            State.CARD: t.card_sale,
            State.STILL_THERE: t.still_there,
            State.RECEIPT: t.receipt_screen,
        }.get(state)

    def _reset_deadline(self) -> None:
        timeout = self._timeout_for(self.state)
        self._deadline = None if timeout is None else self.clock.monotonic() + timeout

    def _publish(self) -> None:
        snapshot = replace(self._build_snapshot(), version=self.snapshot.version)
        if snapshot == self.snapshot:
            return
        self._version += 1
        self.snapshot = snapshot = replace(snapshot, version=self._version)
        for observer in list(self._observers):
            try:
                observer(snapshot)
            except Exception:
                log.exception("snapshot observer failed")

    def _build_snapshot(self) -> Snapshot:
        s = self.session
        seconds_left = None
        if self._deadline is not None:
            seconds_left = max(0.0, self._deadline - self.clock.monotonic())
        base = Snapshot(
            state=self.state,
            language=self.language,
            interrupted=self._interrupted,
            seconds_left=None if seconds_left is None else round(seconds_left),
            out_of_service_reason=self._out_of_service_reason,
            cash_available=self.ports.acceptor.health().usable,
            card_available=self.ports.terminal.health().usable,
            max_cash=self.config.limits.max_cash,
            accepted_bills=tuple(self._accepted_bills()),
            offline=not self.ports.directory.online(),
            version=self._version,
        )
        if s is None:
            return base
        low, high = self._amount_bounds()
        account = None
        if s.account is not None:
            a = s.account
            account = AccountView(
                number_masked=mask_account(a.number),
                name_masked=mask_name(a.name),
                address_masked=mask_address(a.service_address),
                balance=a.balance,
                due_date=a.due_date,
                usage=a.usage,
                source=s.account_source.value if s.account_source else "live",
                review=s.review,
            )
        fee = card_fee(s.amount, self.config.card_fee) if s.amount is not None else Money(0)
        cash_fits = s.amount is None or s.amount <= self.config.limits.max_cash
        return replace(
            base,
            session_id=s.session_id,
            message=s.message,
            lookup_pending=s.lookup_pending,
            bill_amount=s.bill_amount,
            account=account,
            amount=credited_amount(s) if s.completed else s.amount,
            min_amount=low,
            max_amount=high,
            method=s.method,
            card_fee=fee,
            cash_available=base.cash_available and cash_fits,
            inserted=s.inserted,
            bills=tuple(s.bills),
            bill_in_escrow=s.bill_in_flight,
            card_prompt=s.card_prompt,
            card_decline_reason=s.card_decline_reason,
            confirmation=s.confirmation,
            receipt=s.receipt_state,
            offline=base.offline or s.offline,
        )
