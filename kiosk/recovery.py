"""Start-up recovery: settle every intent the journal left open, then finish open sessions.

Runs before the engine takes a new payment. Each open intent is resolved by asking the
device what really happened (the cash box count, the terminal's transaction status, the
printer), and the answer is journaled as the intent's outcome with ``recovered: true``. A
session that had money in when the power went is then finished exactly as the engine would
have (DESIGN.md: once money is in, walking away completes the payment), so a bill stacked or
a card approved before a crash is credited once and only once.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from contract import entries as E
from contract import payloads
from kiosk import __version__, crashpoints
from kiosk.batches import BatchReport, close_batch
from kiosk.collection import (
    CollectionSteps,
    closed_batch_report,
    collections,
    completion,
    end_of_day_payload,
    slip_for,
    unprinted_collection,
)
from kiosk.completion import approval_payload, completion_payload, receipt_content
from kiosk.config import KioskConfig
from kiosk.engine.cash import POWER_UP_IN_ESCROW, settled_stack
from kiosk.engine.session import Session, replay_sessions
from kiosk.money import Money
from kiosk.ports import (
    AcceptorFault,
    BillReturned,
    BillStacked,
    CardOutcome,
    CardResult,
    CardSettlement,
    Clock,
    DeviceFault,
    DeviceNotice,
    DeviceRecovered,
    PortSet,
    Printable,
    ReceiptDone,
)
from kiosk.reversal import Reversal, record_reversal, request_reversal, reverse_on

log = logging.getLogger(__name__)


class RecoverableJournal(Protocol):
    def record(self, payload: payloads.Payload) -> E.EntryLike: ...
    def append(self, type: str, payload: Any) -> E.EntryLike: ...
    def open_intents(self) -> list[Any]: ...
    def open_session_entries(self) -> list[Any]: ...
    def of_types(self, *types: str) -> list[Any]: ...
    def batches(self) -> list[Any]: ...
    def entries(self, after_seq: int = 0, limit: int | None = None) -> Iterator[Any]: ...
    def open_batch_id(self) -> str: ...
    def last_seq(self) -> int: ...
    def last(self, type_: str | None = None) -> Any: ...


@dataclass
class RecoveryReport:
    intents: list[str] = field(default_factory=list)  # "seq type -> resolution"
    sessions: list[str] = field(default_factory=list)  # "session -> outcome"

    @property
    def anything(self) -> bool:
        return bool(self.intents or self.sessions)

    def lines(self) -> list[str]:
        return [*self.intents, *self.sessions]


class _DeviceAnswers:
    """Collects what ports emit during recovery, so recovery can wait for one answer."""

    def __init__(self) -> None:
        self._events: queue.Queue[object] = queue.Queue()
        self.notices: list[DeviceNotice | DeviceFault | AcceptorFault | DeviceRecovered] = []
        self.moved: list[BillStacked | BillReturned] = []
        """Every note the acceptor reported stacked or returned since recovery attached (a
        note held in escrow at power-up goes back by itself): an acceptor with no cash box
        count has nothing else to tell what became of a note."""

    def emit(self, event: object) -> None:
        if isinstance(event, DeviceNotice | DeviceFault | AcceptorFault | DeviceRecovered):
            self.notices.append(event)  # journaled by recovery, not waited for
            return
        if isinstance(event, BillStacked | BillReturned):
            self.moved.append(event)
        self._events.put(event)

    def saw(self, kind: type[BillStacked] | type[BillReturned], cents: int) -> bool:
        return any(isinstance(e, kind) and e.denomination.cents == cents for e in self.moved)

    def noticed(self, kind: str) -> bool:
        return any(isinstance(e, DeviceNotice) and e.kind == kind for e in self.notices)

    def wait_for(self, accept: Callable[[object], bool], timeout: float) -> object | None:
        try:
            while True:
                event = self._events.get(timeout=timeout)
                if accept(event):
                    return event
        except queue.Empty:
            return None


class Recovery:
    def __init__(
        self,
        journal: RecoverableJournal,
        ports: PortSet,
        config: KioskConfig,
        clock: Clock,
        answer_timeout: float = 10.0,
    ) -> None:
        self.journal = journal
        self.ports = ports
        self.config = config
        self.clock = clock
        self.answer_timeout = answer_timeout
        self.answers = _DeviceAnswers()
        self.report = RecoveryReport()
        self._open_sessions: set[str] = set()

    def run(self) -> RecoveryReport:
        intents = list(self.journal.open_intents())
        sessions = replay_sessions(self.journal.open_session_entries())
        no_slip = unprinted_collection(self.journal)
        if (
            not intents
            and not sessions
            and no_slip is None
            and self.ports.acceptor.escrowed() is None
        ):
            return self.report
        for port in (self.ports.acceptor, self.ports.terminal, self.ports.printer):
            port.attach(self.answers.emit)
        self._open_sessions = set(sessions)
        self._record(
            payloads.RecoveryStarted(open_intents=len(intents), open_sessions=len(sessions))
        )
        bill_intents = (E.BILL_STACK_REQUESTED, E.BILL_RETURN_REQUESTED)
        # a stack sent before the restart may still be finishing: count after it has
        if any(i.type in bill_intents for i in intents) and not self.ports.acceptor.wait_idle(
            self.answer_timeout
        ):
            log.warning("bill acceptor still busy; settling by the count as it is now")
        for intent in sorted(intents, key=lambda e: e.seq):
            resolution = self._resolve(intent)
            self.report.intents.append(f"{intent.seq} {intent.type} -> {resolution}")
        self._return_stray_escrow(sessions)
        for session in replay_sessions(self.journal.open_session_entries()).values():
            outcome = self._finish(session)
            self.report.sessions.append(f"session {session.session_id[:8]} -> {outcome}")
        no_slip = unprinted_collection(self.journal)
        if no_slip is not None:
            self.report.intents.append(f"collection {no_slip[:8]} -> {self._print_slip(no_slip)}")
        self._journal_notices()
        return self.report

    def _journal_notices(self) -> None:
        """What devices reported while recovery held their attention (power up, faults)."""
        for notice in self.answers.notices:
            if isinstance(notice, DeviceNotice):
                self._record(
                    payloads.DeviceNotice(
                        device=notice.device, kind=notice.kind, detail=notice.detail
                    )
                )
            elif isinstance(notice, DeviceFault):
                self._record(payloads.DeviceFault(device=notice.device, reason=notice.reason))
            elif isinstance(notice, DeviceRecovered):
                self._record(payloads.DeviceRecovered(device=notice.device))
            else:
                self._record(payloads.DeviceFault(device="bill_acceptor", reason=notice.reason))
        self.answers.notices.clear()

    # ------------------------------------------------------------------ intents
    def _record(self, payload: payloads.Payload) -> E.EntryLike:
        """Journal one fact, built with its entry type's model (``contract.payloads``)."""
        return self.journal.record(payload)

    def _resolve(self, intent: Any) -> str:
        handlers: dict[str, Callable[[Any, dict[str, Any]], str]] = {
            E.BILL_STACK_REQUESTED: self._resolve_stack,
            E.BILL_RETURN_REQUESTED: self._resolve_return,
            E.CARD_SALE_REQUESTED: self._resolve_sale,
            E.CARD_REVERSAL_REQUESTED: self._resolve_reversal,
            E.RECEIPT_PRINT_REQUESTED: self._resolve_receipt,
            E.COLLECTION_STARTED: self._resolve_collection,
            E.CARD_END_OF_DAY_REQUESTED: self._resolve_end_of_day,
            E.SLIP_PRINT_REQUESTED: self._resolve_slip,
        }
        return handlers[intent.type](intent, dict(intent.payload))

    def _resolve_stack(self, intent: Any, p: dict[str, Any]) -> str:
        count = self.ports.acceptor.cashbox_count()
        before = p.get("cashbox_before")
        if count is not None and before is not None:
            into_box = count > int(before)
            reason = "not stacked before the restart"
        else:
            # No count: the intent says the acceptor was told to stack this note. It did
            # unless it still holds the note (in escrow, after a power-up too) or gave it back.
            cents = int(p["denomination_cents"])
            # held at power-up: an EBDS acceptor keeps it in escrow, an ID-003 one gives it
            # back when it is reset, without saying which note it was
            held = self.ports.acceptor.escrowed() is not None or self.answers.noticed(
                POWER_UP_IN_ESCROW
            )
            into_box = not held and not self.answers.saw(BillReturned, cents)
            reason = "still in escrow after the restart" if held else "returned by the acceptor"
        self._record(
            settled_stack(
                p.get("session_id"),
                intent.seq,
                p["bill_id"],
                p["denomination_cents"],
                into_box,
                reason,
            )
        )
        if into_box:
            return "stacked"
        if self.ports.acceptor.escrowed() is not None:
            self._return_bill(p.get("session_id"), Money(int(p["denomination_cents"])))
            return "not stacked; returned to the customer"
        return "not stacked"

    def _return_stray_escrow(self, sessions: dict[str, Session]) -> None:
        """A bill held in escrow with no intent (the crash came before the intent committed)
        was never credited: hand it back."""
        bill = self.ports.acceptor.escrowed()
        if bill is None:
            return
        session_id = next(iter(sessions), None)
        self._return_bill(session_id, bill)
        self.report.intents.append(f"bill of {bill} in escrow with no intent -> returned")

    def _resolve_return(self, intent: Any, p: dict[str, Any]) -> str:
        count = self.ports.acceptor.cashbox_count()
        before = p.get("cashbox_before")
        if count is not None and before is not None:
            stacked = count > int(before)
        else:  # no count: returned as asked, unless the acceptor reported it stacked
            stacked = self.answers.saw(BillStacked, int(p["denomination_cents"]))
        if stacked:
            self._record(
                payloads.BillStacked(
                    session_id=p.get("session_id") or "",  # "": a bill with no session at all
                    intent_seq=intent.seq,
                    bill_id=f"recovered-{intent.seq}",
                    denomination_cents=p["denomination_cents"],
                    recovered=True,
                )
            )
            return "stacked instead of returned; credited"
        if self.ports.acceptor.escrowed() is not None:
            self.ports.acceptor.return_bill()
            self.answers.wait_for(lambda e: isinstance(e, BillReturned), self.answer_timeout)
        self._record(
            payloads.BillReturned(
                session_id=p.get("session_id"),
                intent_seq=intent.seq,
                denomination_cents=p["denomination_cents"],
                recovered=True,
            )
        )
        return "returned"

    def _return_bill(self, session_id: str | None, denomination: Money) -> None:
        intent = self._record(
            payloads.BillReturnRequested(
                session_id=session_id,
                denomination_cents=denomination.cents,
                reason="recovery",
                cashbox_before=self.ports.acceptor.cashbox_count(),
            )
        )
        self.ports.acceptor.return_bill()
        answer = self.answers.wait_for(
            lambda e: isinstance(e, BillReturned | BillStacked), self.answer_timeout
        )
        if isinstance(answer, BillStacked):
            self._record(
                payloads.BillStacked(
                    session_id=session_id or "",
                    intent_seq=intent.seq,
                    bill_id=f"recovered-{intent.seq}",
                    denomination_cents=denomination.cents,
                    recovered=True,
                )
            )
        else:
            self._record(
                payloads.BillReturned(
                    session_id=session_id,
                    intent_seq=intent.seq,
                    denomination_cents=denomination.cents,
                    recovered=True,
                )
            )

    def _resolve_sale(self, intent: Any, p: dict[str, Any]) -> str:
        reference = str(p["reference"])
        try:
            status = self.ports.terminal.status(reference)
        except Exception as exc:
            log.warning("terminal status for %s unavailable: %s", reference, exc)
            status = CardResult(reference=reference, outcome=CardOutcome.IN_DOUBT)
        session_id = p.get("session_id")
        if status.outcome is CardOutcome.APPROVED:
            self._record(approval_payload(status, session_id, intent.seq, recovered=True))
            if p.get("session_id") in self._open_sessions:
                return "approved"
            # Its session ended without this sale (its reversal had failed, say): no payment
            # will ever be recorded for it, so the money goes back (DESIGN.md rule 5).
            reversed_ok = self._reverse(p.get("session_id"), reference, sale_intent_seq=None)
            return "approved after its session ended; " + (
                "reversed" if reversed_ok else "reversal failed"
            )
        if status.outcome is CardOutcome.DECLINED:
            self._record(
                payloads.CardSaleDeclined(
                    session_id=session_id,
                    intent_seq=intent.seq,
                    reference=reference,
                    reason=status.reason or "declined",
                )
            )
            return "declined"
        if status.outcome is CardOutcome.CANCELLED:
            self._record(
                payloads.CardSaleCancelled(
                    session_id=session_id,
                    intent_seq=intent.seq,
                    reference=reference,
                    by=status.reason or "terminal",
                )
            )
            return "cancelled"
        reversed_ok = self._reverse(p.get("session_id"), reference, sale_intent_seq=intent.seq)
        return "unknown; reversed" if reversed_ok else "unknown; reversal failed"

    def _reverse(self, session_id: str | None, reference: str, sale_intent_seq: int | None) -> bool:
        reversal = request_reversal(
            self._record, session_id, reference, "recovery", sale_intent_seq
        )
        return self._carry_out_reversal(reversal)

    def _carry_out_reversal(self, reversal: Reversal) -> bool:
        ok = reverse_on(self.ports.terminal, reversal.reference)
        open_seqs = {e.seq for e in self.journal.open_intents()} if ok else set()
        record_reversal(self._record, reversal, ok, sale_open=reversal.sale_intent_seq in open_seqs)
        return ok

    def _resolve_reversal(self, intent: Any, p: dict[str, Any]) -> str:
        sale_seq = p.get("sale_intent_seq")
        reversal = Reversal(
            intent.seq,
            p.get("session_id"),
            str(p["reference"]),
            int(sale_seq) if sale_seq is not None else None,
        )
        return "reversed" if self._carry_out_reversal(reversal) else "reversal failed"

    def _resolve_receipt(self, intent: Any, p: dict[str, Any]) -> str:
        confirmation = str(p["confirmation"])
        printed = self.ports.printer.was_printed(confirmation)
        if printed:
            self._record(
                payloads.ReceiptPrinted(
                    session_id=p.get("session_id"),
                    intent_seq=intent.seq,
                    confirmation=confirmation,
                    recovered=True,
                )
            )
            return "printed"
        reason = "interrupted by a restart" if printed is False else "printer can not tell"
        self._record(
            payloads.ReceiptFailed(
                session_id=p.get("session_id"),
                intent_seq=intent.seq,
                confirmation=confirmation,
                reason=reason,
                recovered=True,
            )
        )
        return f"not printed ({reason})"

    # ------------------------------------------------------------------ collections
    def _resolve_collection(self, intent: Any, p: dict[str, Any]) -> str:
        """Finish a cash-box collection from where it stopped: the batch closed once, the
        terminal's end of day asked for (again, if its answer was never journaled), the
        counts set beside it, and the slip printed."""
        started = payloads.read(payloads.CollectionStarted, p)
        steps = CollectionSteps.find(self.journal.entries(after_seq=intent.seq - 1), started)
        done: list[str] = []
        if steps.closing_seq is None:
            close_batch(self.journal, "cash_box_collection", started.technician)
            done.append("batch closed")
            crashpoints.hit("recovery.after_collection_batch_closed")
            steps = CollectionSteps.find(self.journal.entries(after_seq=intent.seq - 1), started)
        assert steps.closing_seq is not None
        opened = next(
            b.opened_seq for b in self.journal.batches() if b.batch_id == started.batch_id
        )
        report = closed_batch_report(
            self.journal.entries(after_seq=opened - 1), steps.closing_seq, started.batch_id
        )
        if steps.end_of_day_request is None:
            request = payloads.CardEndOfDayRequested(collection_id=started.collection_id)
            steps.end_of_day_request = self._record(request).seq
        if steps.settlement is None:
            steps.settlement = self._end_of_day_again(steps.end_of_day_request, report)
            done.append("end of day asked again")
        else:
            done.append("end of day found done")
        completed = completion(started, intent.seq, report, steps.settlement, recovered=True)
        self._record(completed)
        crashpoints.hit("recovery.after_collection_completed")
        slip = self._print_slip(started.collection_id)
        return ", ".join([*done, "counts journaled", slip])

    def _end_of_day_again(self, request_seq: int, report: BatchReport) -> CardSettlement:
        try:
            settlement = self.ports.terminal.end_of_day()
        except Exception as exc:
            settlement = CardSettlement(ok=False, reason=f"end of day failed: {exc}")
        if settlement.ok and settlement.total.cents == 0 and report.card_approvals:
            # asked twice, a terminal answers the second time with an empty batch: its end
            # of day ran before the restart, and only its own receipt has the totals
            settlement = replace(
                settlement,
                reason="the terminal had already settled this batch before the restart; "
                "its end-of-day receipt has the totals",
            )
        self._record(end_of_day_payload(settlement, request_seq, recovered=True))
        return settlement

    def _resolve_end_of_day(self, intent: Any, p: dict[str, Any]) -> str:
        """Asked by a collection whose own resolution settles it; here only when the
        collection was already complete (a restart between the two entries)."""
        for entry in self.journal.entries(after_seq=intent.seq):
            if entry.type == E.CARD_END_OF_DAY and entry.payload.get("intent_seq") == intent.seq:
                return "answered with its collection"
        settlement = self._end_of_day_again(
            intent.seq, BatchReport(batch_id="", first_seq=0, last_seq=0)
        )
        return "asked again" if settlement.ok else f"not answered ({settlement.reason})"

    def _resolve_slip(self, intent: Any, p: dict[str, Any]) -> str:
        confirmation = str(p["confirmation"])
        if self.ports.printer.was_printed(confirmation):
            self._record(
                payloads.SlipPrinted(
                    intent_seq=intent.seq, confirmation=confirmation, recovered=True
                )
            )
            return "printed"
        self._record(
            payloads.SlipFailed(
                intent_seq=intent.seq,
                confirmation=confirmation,
                reason="interrupted by a restart; print it again from service mode",
                recovered=True,
            )
        )
        return "not printed (print it again from service mode)"

    def _print_slip(self, collection_id: str) -> str:
        record = next(
            (
                r
                for r in collections(
                    self.journal.of_types(E.COLLECTION_STARTED, E.COLLECTION_COMPLETED)
                )
                if r.started.collection_id == collection_id
            ),
            None,
        )
        if record is None or record.completed is None:
            return "no slip"
        slip = slip_for(record, self.config, self.config.locale.default_language, __version__)
        intent = self._record(
            payloads.SlipPrintRequested(collection_id=collection_id, confirmation=slip.confirmation)
        )
        printed, reason = self._print_and_wait(slip)
        if printed:
            self._record(
                payloads.SlipPrinted(intent_seq=intent.seq, confirmation=slip.confirmation)
            )
            return "slip printed"
        self._record(
            payloads.SlipFailed(
                intent_seq=intent.seq, confirmation=slip.confirmation, reason=reason
            )
        )
        return f"slip not printed ({reason})"

    def _print_and_wait(self, item: Printable) -> tuple[bool, str]:
        """Print and wait for the printer's answer: (printed, why not)."""
        if not self.ports.printer.health().usable:
            return False, "printer unavailable"
        self.ports.printer.print_receipt(item)
        answer = self.answers.wait_for(
            lambda e: isinstance(e, ReceiptDone) and e.confirmation == item.confirmation,
            self.answer_timeout,
        )
        if isinstance(answer, ReceiptDone):
            return answer.printed, answer.reason
        return False, "no answer from the printer"

    # ------------------------------------------------------------------ sessions
    def _finish(self, session: Session) -> str:
        outcome = "abandoned"
        if session.money_in and not session.completed:
            # the resident paid when the money went in, not when the kiosk came back
            paid_at = session.last_seen_at or self.clock.now()
            payment = completion_payload(session, paid_at, recovered=True)
            self._record(payment)
            crashpoints.hit("recovery.after_completed_journaled")
            session.payment_id = payment.payment_id
            session.confirmation = payment.confirmation
            self._print(session, payment)
            outcome = f"completed {payment.confirmation}"
        elif session.completed:
            if session.receipt_intent_seq is None:
                earlier = self._completion_of(session)
                if earlier is not None:
                    self._print(session, earlier)
            outcome = f"completed {session.confirmation}"
        self._record(payloads.SessionEnded(session_id=session.session_id, outcome="recovered"))
        return outcome

    def _completion_of(self, session: Session) -> payloads.PaymentCompleted | None:
        """The payment of a session still open (its entries are the open sessions')."""
        for entry in self.journal.open_session_entries():
            if (
                entry.type == E.PAYMENT_COMPLETED
                and entry.payload.get("session_id") == session.session_id
            ):
                return payloads.read(payloads.PaymentCompleted, entry.payload)
        return None

    def _print(self, session: Session, payment: payloads.PaymentCompleted) -> None:
        content = receipt_content(
            session, payment, self.config, offline=not self.ports.directory.online()
        )
        intent = self._record(
            payloads.ReceiptPrintRequested(
                session_id=session.session_id, confirmation=content.confirmation
            )
        )
        crashpoints.hit("recovery.after_print_intent")
        printed, reason = self._print_and_wait(content)
        if printed:
            self._record(
                payloads.ReceiptPrinted(
                    session_id=session.session_id,
                    intent_seq=intent.seq,
                    confirmation=content.confirmation,
                )
            )
        else:
            self._record(
                payloads.ReceiptFailed(
                    session_id=session.session_id,
                    intent_seq=intent.seq,
                    confirmation=content.confirmation,
                    reason=reason,
                )
            )


def recover(
    journal: RecoverableJournal,
    ports: PortSet,
    config: KioskConfig,
    clock: Clock,
    answer_timeout: float = 10.0,
) -> RecoveryReport:
    return Recovery(journal, ports, config, clock, answer_timeout).run()
