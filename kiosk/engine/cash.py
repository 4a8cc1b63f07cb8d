"""Cash settlement: every bill the acceptor takes is credited once, whatever the screen shows.

Where the acceptor keeps a cash box count, the count is the hardware's truth about a bill
whose stack command went astray (DESIGN.md rule 5), so every stack and return intent carries
the count from before it. The count is a slow device call: it is asked for when a bill
reaches escrow, and the intent is journaled and the command sent when the answer comes back
(:meth:`_escrow_counted`). Until then the bill is in flight for every guard of the table, so
nothing ends the session under it. A fault during a stack is settled the same way, by a
count asked for first; the table sees the fault only once the bill's fate is journaled.

Counting is optional (a Pyramid Apex or a JCM acceptor keeps no count; the port answers
None), and cash intake never depends on it: the intent then carries no count, and a stack a
fault left open is settled when the acceptor's path is clear by what the acceptor holds. A
note back in escrow, or found there at power-up, was not stacked; a note it was told to
stack and no longer holds was (:func:`stacked_without_count`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from contract import payloads
from kiosk import crashpoints
from kiosk.completion import completion_payload
from kiosk.device_calls import CallDone
from kiosk.engine.base import EngineBase
from kiosk.engine.session import Session, replace_session
from kiosk.engine.states import State
from kiosk.money import Money
from kiosk.ports import AcceptorFault, BillEscrowed, BillRejected, BillReturned, BillStacked

log = logging.getLogger(__name__)

#: acceptor notices after which a note that did not reach the cash box never will
PATH_CLEAR = frozenset(
    {"jam_cleared", "failure_cleared", "bill_left_path_unreported", "power_up", "cassette_replaced"}
)
ACCEPTOR = "bill_acceptor"


@dataclass
class UnsettledStack:
    """A stack intent a fault left open: settled when the acceptor's path is clear."""

    intent_seq: int
    bill_id: str
    denomination: Money
    cashbox_before: int | None
    session: Session


@dataclass(eq=False)
class EscrowCount:
    """The count asked for before the bill in escrow is stacked (or, once something decides
    it goes back, returned): the intent is journaled when the count answers."""

    session: Session | None
    denomination: Money
    stack: bool
    reason: str = ""  # why it goes back, when it does


@dataclass(frozen=True, eq=False)
class FaultCount:
    """The count that settles a stack a fault interrupted; ``fault`` then goes to the table."""

    session: Session
    fault: AcceptorFault


@dataclass(frozen=True, eq=False)
class PathCount:
    """The count that may settle an :class:`UnsettledStack` after an acceptor notice."""

    unsettled: UnsettledStack
    kind: str
    attempt: int = 1


#: times a count that settles a cleared path is asked for before waiting for the next notice
PATH_COUNT_ATTEMPTS = 3

#: the acceptor's notice that it powered up holding a note in escrow: a stack in flight
#: then never happened (the EBDS power-up policy keeps such a note for the host to decide)
POWER_UP_IN_ESCROW = "power_up_with_bill_in_escrow"
#: the acceptor's fault for the same power-up while a stack of that note was in flight
POWER_UP_FAULT = "power_up"


def stacked_without_count(kind: str, holds_note: bool) -> bool | None:
    """Whether a stack interrupted on an acceptor that keeps no count reached the cash box,
    judged once the acceptor reports ``kind``; None while that can not be told yet.

    The journal's intent says the stack was asked for; the acceptor says whether it still
    holds the note. A note it holds, or held at power-up, was not stacked; once the path is
    clear and it holds none, the note went where it was told.
    """
    if kind == POWER_UP_IN_ESCROW:
        return False
    if kind in PATH_CLEAR:
        return not holds_note
    return None


def settled_stack(
    session_id: str | None,
    intent_seq: int,
    bill_id: str,
    denomination_cents: int,
    into_box: bool,
    reason: str,
) -> payloads.BillStacked | payloads.BillNotStacked:
    """The outcome of a stack intent settled after the fact (by the cash box count or the
    path clearing), the same from the engine and from recovery: stacked (``recovered``) or,
    with ``reason``, not stacked."""
    if into_box:
        return payloads.BillStacked(
            session_id=session_id,
            intent_seq=intent_seq,
            bill_id=bill_id,
            denomination_cents=denomination_cents,
            recovered=True,
        )
    return payloads.BillNotStacked(
        session_id=session_id,
        intent_seq=intent_seq,
        bill_id=bill_id,
        denomination_cents=denomination_cents,
        reason=reason,
    )


class CashSettlement(EngineBase):
    _unsettled_stack: UnsettledStack | None
    _escrow_count: EscrowCount | None
    # the open bill.return.requested (seq, session), kept past the end of its session so
    # the acceptor's answer settles it even after the resident has gone
    _return_intent: tuple[int, str | None] | None

    # ------------------------------------------------------------------ observing the acceptor
    def _observe_escrow(self, event: BillEscrowed) -> object | None:
        s = self.session
        self._record(
            payloads.BillEscrowed(
                session_id=self._sid(), denomination_cents=event.denomination.cents
            )
        )
        if s is not None:
            s.escrow = event.denomination
        if not self._taking_cash() or (s is not None and s.completed):
            # A bill pushed in while we are not taking cash goes straight back; on the
            # technician's tests page that is the test (the table notes what was read).
            testing = self.state is State.SERVICE_TESTS
            self._return_escrowed(
                event.denomination, reason="service_test" if testing else "not_taking_cash"
            )
            return event if testing else None
        return event

    def _observe_stacked(self, event: BillStacked) -> None:
        s = self.session
        self._escrow_count = None  # the bill's fate is known: a count under way is moot
        if (s is None or s.pending_stack_seq is None) and self._resettle_by_stacked(event):
            return
        intent, session_id = None, self._sid()
        bill_id = str(uuid.uuid4())
        if s is not None and s.pending_stack_seq is not None:
            intent, bill_id = s.pending_stack_seq, s.pending_stack_bill or bill_id
        elif self._return_intent is not None:
            # the acceptor stacked what we asked it to return
            intent, session_id = self._return_intent
        self._return_intent = None
        self._record(
            payloads.BillStacked(
                session_id=session_id or "",  # "": stacked with no session at all (unattributed)
                intent_seq=intent,
                bill_id=bill_id,
                denomination_cents=event.denomination.cents,
                recovered=False,
            )
        )
        crashpoints.hit("cash.after_stacked_journaled")
        if s is not None and not s.completed:
            s.bills.append(event.denomination)
        else:
            log.warning("bill stacked outside a payment; journaled for finance as unattributed")
        if s is not None:
            s.escrow = None
            s.pending_stack_seq = s.pending_stack_bill = s.pending_return_seq = None

    def _observe_returned(self, event: BillReturned) -> None:
        s = self.session
        self._escrow_count = None
        if s is not None and s.pending_stack_seq is not None and s.pending_stack_bill:
            # it gave back the note it was told to stack (it refused it at the last moment,
            # or held it through a power cut): that stack is settled, nothing to credit
            self._record(
                settled_stack(
                    s.session_id,
                    s.pending_stack_seq,
                    s.pending_stack_bill,
                    event.denomination.cents,
                    into_box=False,
                    reason="returned by the acceptor",
                )
            )
            s.pending_stack_seq = s.pending_stack_bill = None
        intent, session_id = self._return_intent or (None, self._sid())
        self._return_intent = None
        self._record(
            payloads.BillReturned(
                session_id=session_id,
                intent_seq=intent,
                denomination_cents=event.denomination.cents,
            )
        )
        if s is not None:
            s.escrow = None
            s.pending_return_seq = None

    def _observe_acceptor_fault(self, event: AcceptorFault) -> object | None:
        self._journal_fault(ACCEPTOR, event.reason)
        s = self.session
        if s is None or s.pending_stack_seq is None:
            return event
        # The stack command's fate is unknown: the cash box count is the hardware's truth.
        self._ask(
            ACCEPTOR, "cashbox_count", self.ports.acceptor.cashbox_count, FaultCount(s, event)
        )
        return None

    def _observe_acceptor_notice(self, kind: str) -> None:
        u = self._unsettled_stack
        if u is not None:
            self._ask(
                ACCEPTOR, "cashbox_count", self.ports.acceptor.cashbox_count, PathCount(u, kind)
            )

    # ------------------------------------------------------------------ the counts answer
    def _cash_answer(self, done: CallDone) -> object | None:
        purpose = done.call.purpose
        answered = done.error is None and (done.value is None or isinstance(done.value, int))
        count = done.value if answered and isinstance(done.value, int) else None
        if isinstance(purpose, EscrowCount):
            self._escrow_counted(purpose, answered, count)
        elif isinstance(purpose, FaultCount):
            return self._fault_counted(purpose, answered, count)
        elif isinstance(purpose, PathCount):
            self._path_counted(purpose, answered, count)
        return None

    def _escrow_counted(self, p: EscrowCount, answered: bool, count: int | None) -> None:
        """The stack goes ahead with the count, or with none: the acceptor keeps no count
        (``answered``), or could not give it now. Intake never waits on the count; a stack
        intent without one is settled as on an acceptor that keeps none."""
        if p is not self._escrow_count:
            return  # the acceptor settled the bill by itself meanwhile
        self._escrow_count = None
        s = p.session if p.session is self.session else None
        if not answered:
            log.warning("cash box count unavailable; settling this bill without it")
        if p.stack and s is not None and self._taking_cash():
            self._send_stack(s, p.denomination, count)
            return
        self._send_return(p, count, p.reason or "not_taking_cash")

    def _send_stack(self, s: Session, denomination: Money, cashbox_before: int | None) -> None:
        bill_id = str(uuid.uuid4())
        intent = self._record(
            payloads.BillStackRequested(
                session_id=s.session_id,
                bill_id=bill_id,
                denomination_cents=denomination.cents,
                cashbox_before=cashbox_before,
            )
        )
        s.pending_stack_seq, s.pending_stack_bill = intent.seq, bill_id
        s.pending_stack_cashbox = cashbox_before
        s.message = ""
        crashpoints.hit("cash.after_stack_intent")
        self.ports.acceptor.stack()
        crashpoints.hit("cash.after_stack_sent")

    def _send_return(self, p: EscrowCount, cashbox_before: int | None, reason: str) -> None:
        session_id = p.session.session_id if p.session is not None else None
        intent = self._record(
            payloads.BillReturnRequested(
                session_id=session_id,
                denomination_cents=p.denomination.cents,
                reason=reason,
                cashbox_before=cashbox_before,
            )
        )
        if p.session is not None and p.session is self.session:
            p.session.pending_return_seq = intent.seq
        self._return_intent = (intent.seq, session_id)
        crashpoints.hit("cash.after_return_intent")
        self.ports.acceptor.return_bill()

    def _fault_counted(self, p: FaultCount, answered: bool, count: int | None) -> object | None:
        s = p.session
        if not answered:  # acceptor gone: recovery will settle it at next start
            log.warning("cash box count unavailable; leaving stack intent open")
        else:
            self._settle_stack_by_count(s, count, p.fault.reason)
        return p.fault if s is self.session else None

    def _settle_stack_by_count(self, s: Session, count: int | None, reason: str) -> None:
        """Settle the stack a fault interrupted if the count shows it in the box; else (or
        with no count to tell) keep it open until the acceptor's path is clear."""
        intent_seq, bill_id, denomination = s.pending_stack_seq, s.pending_stack_bill, s.escrow
        if intent_seq is None or denomination is None:
            return
        before = s.pending_stack_cashbox
        if count is not None and before is not None and count > before:
            assert bill_id is not None, "a stack intent names its bill"
            self._record(
                settled_stack(
                    s.session_id, intent_seq, bill_id, denomination.cents, into_box=True, reason=""
                )
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
            u = UnsettledStack(intent_seq, bill_id or str(uuid.uuid4()), denomination, before, s)
            self._unsettled_stack = u
            if (count is None or before is None) and reason == POWER_UP_FAULT:
                self._settle_unsettled(u, False, POWER_UP_IN_ESCROW)
        s.escrow = None
        s.pending_stack_seq = s.pending_stack_bill = None

    def _path_counted(self, p: PathCount, answered: bool, count: int | None) -> None:
        if p.unsettled is not self._unsettled_stack:
            return  # settled meanwhile
        if not answered:
            # the acceptor could not say (a busy line): the path is clear, so ask again
            # rather than leave the bill unsettled until the acceptor says something else
            if p.kind in PATH_CLEAR and p.attempt < PATH_COUNT_ATTEMPTS:
                retry = PathCount(p.unsettled, p.kind, p.attempt + 1)
                self._ask(ACCEPTOR, "cashbox_count", self.ports.acceptor.cashbox_count, retry)
            return
        before = p.unsettled.cashbox_before
        if count is None or before is None:
            holds = self.ports.acceptor.escrowed() is not None
            verdict = stacked_without_count(p.kind, holds)
            if verdict is not None:
                self._settle_unsettled(p.unsettled, verdict, p.kind)
            return
        into_box = count > before
        if into_box or p.kind in PATH_CLEAR:
            self._settle_unsettled(p.unsettled, into_box, p.kind)

    def _resettle_by_stacked(self, stacked: BillStacked) -> bool:
        """A stack a fault left open, reported after all; True when ``stacked`` was it."""
        u = self._unsettled_stack
        if u is None:
            return False
        return self._settle_unsettled(u, stacked.denomination == u.denomination, "")

    def _settle_unsettled(self, u: UnsettledStack, into_box: bool, kind: str) -> bool:
        self._unsettled_stack = None
        self._record(
            settled_stack(
                u.session.session_id, u.intent_seq, u.bill_id, u.denomination.cents, into_box, kind
            )
        )
        if not into_box:
            return False
        if self.session is u.session and not u.session.completed:
            u.session.bills.append(u.denomination)
        else:
            self._pay_late(u)
        return True

    def _pay_late(self, u: UnsettledStack) -> None:
        """A bill that reached the cash box after its session finished is still the
        resident's money: it becomes a payment of its own to the same account."""
        late = replace_session(u.session, bills=[u.denomination])
        payment = completion_payload(late, self.clock.now(), recovered=True)
        self._record(payment.model_copy(update={"late_credit": True}))

    # ------------------------------------------------------------------ guards
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

    def _cash_ceiling(self, s: Session) -> Money:
        limits = self.config.limits
        balance = s.account.balance if s.account else Money(0)
        amount = s.amount or Money(0)
        over = max(amount, balance) + limits.max_overpayment
        return min(limits.max_cash, limits.max_payment, over)

    # ------------------------------------------------------------------ actions
    def _start_cash(self, _event: object) -> None:
        s = self.session
        assert s is not None
        s.method, s.fee, s.message = "cash", Money(0), ""
        self._record(payloads.MethodChosen(session_id=s.session_id, method="cash", fee_cents=0))
        self.ports.acceptor.enable(self._accepted_bills())

    def _stop_cash(self, _event: object) -> None:
        self.ports.acceptor.disable()

    def _stop_cash_on_fault(self, event: AcceptorFault) -> None:
        self.ports.acceptor.disable()
        assert self.session is not None
        self.session.message = "cash_unavailable"

    def _stack_bill(self, event: BillEscrowed) -> None:
        self._count_escrow(event.denomination, stack=True)

    def _return_bill(self, event: BillEscrowed) -> None:
        s = self.session
        assert s is not None
        s.message = "bill_over_limit"
        self._return_escrowed(event.denomination, reason="over_limit")

    def _return_escrowed(self, denomination: Money, reason: str) -> None:
        pending = self._escrow_count
        if pending is not None:  # its count is under way: the bill goes back when it answers
            pending.stack, pending.reason = False, reason
            return
        self._count_escrow(denomination, stack=False, reason=reason)

    def _count_escrow(self, denomination: Money, stack: bool, reason: str = "") -> None:
        self._escrow_count = EscrowCount(self.session, denomination, stack, reason)
        self._count(self._escrow_count)

    def _count(self, purpose: object) -> None:
        """Ask the acceptor for its cash box count; :meth:`_cash_answer` takes the answer."""
        self._ask(ACCEPTOR, "cashbox_count", self.ports.acceptor.cashbox_count, purpose)

    def _show_bill_rejected(self, event: BillRejected) -> None:
        assert self.session is not None
        self.session.escrow = None
        self.session.message = "bill_rejected"
