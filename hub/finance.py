"""What finance looks up: payments with their posting, each batch's collection and its card
settlement (the kiosk's approvals against the terminal's end of day).

Read-only; the console and the exports show these. Collections and end-of-day totals come
from the replicated journal (``collection.started``, ``collection.completed``, and the
terminal fields of ``batch.closed`` for a batch closed from the command line), the rest from
the hub's projections.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from hub.collections import NONE, Collection, collections_of
from hub.db import Database
from hub.models import Batch, JournalEntry, Payment, Posting

SEARCH_LIMIT = 200


@dataclass(frozen=True)
class PaymentLine:
    payment_id: str
    kiosk_id: str
    confirmation: str
    account_number: str  # as the resident paid it
    method: str
    amount_cents: int
    fee_cents: int
    paid_at: str
    effective_date: date
    batch_id: str
    posting_status: str
    attempts: int
    last_error: str
    reference: str  # the billing system's (or the import file's) reference, once posted
    assigned_account: str  # the account a clerk resolved it to from suspense, if any


def search_payments(
    db: Database,
    *,
    account: str | None = None,
    confirmation: str | None = None,
    kiosk_id: str | None = None,
    day: date | None = None,
    status: str | None = None,
    limit: int = SEARCH_LIMIT,
) -> list[PaymentLine]:
    """Payments matching every filter given, newest first (at most ``limit``)."""
    query = (
        select(
            Payment.payment_id,
            Payment.kiosk_id,
            Payment.confirmation,
            Payment.account_number,
            Payment.method,
            Payment.amount_cents,
            Payment.fee_cents,
            Payment.paid_at,
            Payment.effective_date,
            Payment.batch_id,
            Posting.status,
            Posting.attempts,
            Posting.last_error,
            Posting.reference,
            Posting.assigned_account,
        )
        .join(Posting, Posting.payment_id == Payment.payment_id)
        .order_by(Payment.paid_at.desc(), Payment.payment_id)
        .limit(limit)
    )
    if account:
        query = query.where(
            (Payment.account_number == account.strip())
            | (Posting.assigned_account == account.strip())
        )
    if confirmation:
        # typed from a receipt, in whatever case
        query = query.where(func.upper(Payment.confirmation) == confirmation.strip().upper())
    if kiosk_id:
        query = query.where(Payment.kiosk_id == kiosk_id)
    if day is not None:
        query = query.where(Payment.effective_date == day)
    if status:
        query = query.where(Posting.status == status)
    with db.read() as conn:
        return [
            PaymentLine(
                row.payment_id,
                row.kiosk_id,
                row.confirmation,
                row.account_number,
                row.method,
                row.amount_cents,
                row.fee_cents,
                row.paid_at,
                row.effective_date,
                row.batch_id,
                row.status,
                row.attempts,
                row.last_error or "",
                row.reference or "",
                row.assigned_account or "",
            )
            for row in conn.execute(query)
        ]


@dataclass(frozen=True)
class CardSettlementLine:
    kiosk_id: str
    batch_id: str
    closed_at: str | None
    card_count: int  # the kiosk's approvals in the batch (the hub's own projection)
    card_cents: int
    collection: Collection  # who collected it and what the terminal said (None: not known)

    @property
    def terminal_ok(self) -> bool | None:
        return self.collection.terminal_ok

    @property
    def terminal_cents(self) -> int | None:
        return self.collection.terminal_cents

    @property
    def agreed(self) -> bool | None:
        """None when the terminal's end of day is not known; else whether it matches the
        hub's own count of the batch's approvals (not the kiosk's word for it)."""
        c = self.collection
        if c.terminal_ok is None:
            return None
        return (
            c.terminal_ok
            and c.terminal_cents == self.card_cents
            and c.terminal_count in (None, self.card_count)
        )


def card_settlements(db: Database, kiosk_id: str | None = None) -> list[CardSettlementLine]:
    """Every closed batch's card total beside the terminal's end of day, oldest first."""
    query = select(Batch.__table__).where(Batch.closed_seq.is_not(None))
    if kiosk_id is not None:
        query = query.where(Batch.kiosk_id == kiosk_id)
    lines = []
    with db.read() as conn:
        batches = conn.execute(query.order_by(Batch.kiosk_id, Batch.opened_seq)).all()
        known: dict[str, dict[str, Collection]] = {}
        for b in batches:
            if b.kiosk_id not in known:
                known[b.kiosk_id] = collections_of(conn, b.kiosk_id)
            collection = known[b.kiosk_id].get(b.batch_id, NONE)
            lines.append(
                CardSettlementLine(
                    b.kiosk_id, b.batch_id, b.closed_at, b.card_count, b.card_cents, collection
                )
            )
    return lines


def last_collections(db: Database) -> dict[str, Collection]:
    """Each kiosk's latest cash-box collection (one a technician made), for the fleet page."""
    latest: dict[str, Collection] = {}
    with db.read() as conn:
        kiosks = conn.execute(select(JournalEntry.kiosk_id).distinct()).scalars().all()
        for kiosk_id in kiosks:
            made = [c for c in collections_of(conn, kiosk_id).values() if c.collected_at]
            if made:
                latest[kiosk_id] = max(made, key=lambda c: str(c.collected_at))
    return latest
