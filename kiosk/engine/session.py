"""One resident's session as the engine holds it, and its rebuilding from the journal.

The engine thread owns the live :class:`Session`; nobody else mutates it. After a crash,
:func:`replay_sessions` rebuilds sessions that never ended from their journal entries so
recovery can finish them the same way the engine would have.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from contract import entries as E
from kiosk.money import Money, total
from kiosk.ports import Account, CardResult, LookupSource


@dataclass
class CardApproval:
    reference: str
    total: Money
    auth_code: str
    brand: str
    last4: str
    terminal_ref: str
    receipt_lines: tuple[str, ...] = ()

    @classmethod
    def from_result(cls, result: CardResult) -> CardApproval:
        return cls(
            reference=result.reference,
            total=result.amount,
            auth_code=result.auth_code,
            brand=result.brand,
            last4=result.last4,
            terminal_ref=result.terminal_ref,
            receipt_lines=result.receipt_lines,
        )

    def as_payload(self) -> dict[str, object]:
        return {
            "reference": self.reference,
            "total_cents": self.total.cents,
            "auth_code": self.auth_code,
            "brand": self.brand,
            "last4": self.last4,
            "terminal_ref": self.terminal_ref,
        }


@dataclass
class Session:
    session_id: str
    language: str
    started_at: datetime
    lookup_request: str | None = None
    lookup_pending: bool = False
    bill_amount: Money | None = None  # the amount due printed on a scanned stub
    account: Account | None = None
    account_source: LookupSource | None = None
    account_selected: bool = False
    amount: Money | None = None
    method: str | None = None
    fee: Money = field(default_factory=Money.zero)
    bills: list[Money] = field(default_factory=list)
    escrow: Money | None = None
    pending_stack_seq: int | None = None
    pending_stack_bill: str | None = None
    pending_stack_cashbox: int | None = 0  # None: the acceptor keeps no count
    pending_return_seq: int | None = None
    finish_requested: bool = False
    cancel_requested: bool = False  # the resident pressed Cancel (not Done) while busy
    card_attempts: int = 0
    card_reference: str | None = None
    card_intent_seq: int | None = None
    card_settled: bool = True
    card_checking: bool = False  # a status query or reversal for the sale is under way
    card_prompt: str = ""
    card_decline_reason: str = ""
    card_approval: CardApproval | None = None
    payment_id: str | None = None
    confirmation: str | None = None
    paid_at: datetime | None = None
    receipt_intent_seq: int | None = None
    receipt_state: str | None = None  # "printing" | "printed" | "failed"
    receipt_reason: str = ""
    offline: bool = False
    message: str = ""
    last_seen_at: datetime | None = None  # the latest fact before a crash: the time they paid

    @property
    def inserted(self) -> Money:
        return total(self.bills)

    @property
    def money_in(self) -> bool:
        return bool(self.bills) or self.card_approval is not None

    @property
    def bill_in_flight(self) -> bool:
        return (
            self.escrow is not None
            or self.pending_stack_seq is not None
            or self.pending_return_seq is not None
        )

    @property
    def completed(self) -> bool:
        return self.payment_id is not None

    @property
    def review(self) -> bool:
        return self.account_source is LookupSource.MANUAL


def replace_session(session: Session, **changes: object) -> Session:
    """A detached copy with ``changes``, e.g. the same account with other bills."""
    copy = dataclasses.replace(session, bills=list(session.bills))
    copy.card_approval = None
    copy.payment_id = copy.confirmation = None
    for name, value in changes.items():
        setattr(copy, name, value)
    return copy


def _account_from_payload(payload: dict[str, object]) -> Account:
    due = payload.get("due_date")
    return Account(
        number=str(payload["account_number"]),
        name=str(payload.get("name_masked", "")),
        service_address=str(payload.get("address_masked", "")),
        balance=Money(int(str(payload.get("balance_cents", 0)))),
        due_date=date.fromisoformat(str(due)) if due else None,
    )


def replay_sessions(entries: Iterable[E.EntryLike]) -> dict[str, Session]:
    """Sessions that started but never ended, rebuilt from their entries in order."""
    return _replay(entries, keep_ended=False)


def replay_session(entries: Iterable[E.EntryLike], session_id: str) -> Session | None:
    """One session as its entries tell it, ended or not (to print its receipt again)."""
    return _replay(entries, keep_ended=True, only=session_id).get(session_id)


def _replay(
    entries: Iterable[E.EntryLike], keep_ended: bool, only: str | None = None
) -> dict[str, Session]:
    sessions: dict[str, Session] = {}
    for entry in entries:
        payload = dict(entry.payload)
        session_id = payload.get("session_id")
        if only is not None and session_id != only:
            continue
        if entry.type == E.SESSION_STARTED:
            sessions[str(session_id)] = Session(
                session_id=str(session_id),
                language=str(payload.get("language", "en")),
                started_at=entry.at,
            )
            continue
        session = sessions.get(str(session_id)) if session_id else None
        if session is None:
            continue
        if not payload.get("recovered"):
            session.last_seen_at = entry.at
        if entry.type == E.SESSION_ENDED:
            if not keep_ended:
                del sessions[session.session_id]
        elif entry.type == E.ACCOUNT_SELECTED:
            session.account = _account_from_payload(payload)
            session.account_source = LookupSource(str(payload.get("source", "live")))
            session.account_selected = True
        elif entry.type == E.AMOUNT_CHOSEN:
            session.amount = Money(int(str(payload["amount_cents"])))
        elif entry.type == E.METHOD_CHOSEN:
            session.method = str(payload["method"])
            session.fee = Money(int(str(payload.get("fee_cents", 0))))
        elif entry.type == E.BILL_STACKED:
            session.bills.append(Money(int(str(payload["denomination_cents"]))))
        elif entry.type == E.CARD_SALE_APPROVED:
            session.card_approval = CardApproval(
                reference=str(payload["reference"]),
                total=Money(int(str(payload["total_cents"]))),
                auth_code=str(payload.get("auth_code", "")),
                brand=str(payload.get("brand", "")),
                last4=str(payload.get("last4", "")),
                terminal_ref=str(payload.get("terminal_ref", "")),
            )
        elif entry.type == E.CARD_REVERSED and session.card_approval is not None:
            if session.card_approval.reference == payload.get("reference"):
                session.card_approval = None
        elif entry.type == E.RECEIPT_PRINT_REQUESTED:
            session.receipt_intent_seq = entry.seq
        elif entry.type == E.PAYMENT_COMPLETED:
            session.payment_id = str(payload["payment_id"])
            session.confirmation = str(payload["confirmation"])
    return sessions
