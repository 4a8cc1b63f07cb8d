"""What finance looks up: payments with their posting, each batch's collection and its card
settlement (the kiosk's approvals against the terminal's end of day).

Read-only; the console and the exports show these. Collections and end-of-day totals come
from the replicated journal (``collection.started``, ``collection.completed``, and the
terminal fields of ``batch.closed`` for a batch closed from the command line), the rest from
the hub's projections.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from contract import entries as E
from contract import payloads
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
class Collection:
    """Who emptied the cash box that closed a batch, when, and into which bag."""

    technician: str
    collected_at: str  # the kiosk's time, as journaled
    seal_number: str
    cashbox_id: str
    slip_number: int


@dataclass(frozen=True)
class CardSettlementLine:
    kiosk_id: str
    batch_id: str
    closed_at: str | None
    card_count: int  # the kiosk's approvals in the batch (the hub's own projection)
    card_cents: int
    terminal_ok: bool | None  # None: no end of day known for this batch
    terminal_count: int | None
    terminal_cents: int | None
    collection: Collection | None

    @property
    def agreed(self) -> bool | None:
        """None when the terminal's end of day is not known; else whether it matches."""
        if self.terminal_ok is None:
            return None
        return (
            self.terminal_ok
            and self.terminal_cents == self.card_cents
            and self.terminal_count in (None, self.card_count)
        )


def card_settlements(db: Database, kiosk_id: str | None = None) -> list[CardSettlementLine]:
    """Every closed batch's card total beside the terminal's end of day, oldest first."""
    batches = select(Batch.__table__).where(Batch.closed_seq.is_not(None))
    entries = select(
        JournalEntry.kiosk_id, JournalEntry.type, JournalEntry.at, JournalEntry.payload
    )
    entries = entries.where(
        JournalEntry.type.in_((E.COLLECTION_STARTED, E.COLLECTION_COMPLETED, E.BATCH_CLOSED))
    )
    if kiosk_id is not None:
        batches = batches.where(Batch.kiosk_id == kiosk_id)
        entries = entries.where(JournalEntry.kiosk_id == kiosk_id)
    with db.read() as conn:
        batch_rows = conn.execute(batches.order_by(Batch.kiosk_id, Batch.opened_seq)).all()
        entry_rows = conn.execute(entries.order_by(JournalEntry.kiosk_id, JournalEntry.seq)).all()
    found = _terminal_and_collection(entry_rows)
    lines = []
    for b in batch_rows:
        terminal, collection = found.get((b.kiosk_id, b.batch_id), (None, None))
        ok, count, cents = terminal if terminal is not None else (None, None, None)
        lines.append(
            CardSettlementLine(
                b.kiosk_id,
                b.batch_id,
                b.closed_at,
                b.card_count,
                b.card_cents,
                ok,
                count,
                cents,
                collection,
            )
        )
    return lines


Terminal = tuple[bool, int | None, int]


def _terminal_and_collection(
    rows: Sequence[Any],
) -> dict[tuple[str, str], tuple[Terminal | None, Collection | None]]:
    started: dict[tuple[str, str], tuple[str, payloads.CollectionStarted | None]] = {}
    found: dict[tuple[str, str], tuple[Terminal | None, Collection | None]] = {}
    for row in rows:
        p = json.loads(row.payload)
        if row.type == E.COLLECTION_STARTED:
            s = payloads.read(payloads.CollectionStarted, p)
            started[(row.kiosk_id, s.collection_id)] = (row.at, s)
        elif row.type == E.COLLECTION_COMPLETED:
            c = payloads.read(payloads.CollectionCompleted, p)
            at, s = started.get((row.kiosk_id, c.collection_id), (row.at, None))
            collection = (
                Collection(s.technician, at, s.seal_number, s.cashbox_id, s.slip_number)
                if s is not None
                else None
            )
            terminal = (c.terminal_ok, c.terminal_count, c.terminal_cents)
            found[(row.kiosk_id, c.batch_id)] = (terminal, collection)
        elif row.type == E.BATCH_CLOSED and p.get("terminal_ok") is not None:
            key = (row.kiosk_id, str(p["batch_id"]))
            if key not in found:  # a close from the command line, with the terminal's total
                found[key] = ((bool(p["terminal_ok"]), None, int(p["terminal_card_cents"])), None)
    return found


def last_collections(db: Database) -> dict[str, Collection]:
    """Each kiosk's latest cash-box collection, for the fleet page."""
    query = (
        select(JournalEntry.kiosk_id, JournalEntry.at, JournalEntry.payload)
        .where(JournalEntry.type == E.COLLECTION_STARTED)
        .order_by(JournalEntry.kiosk_id, JournalEntry.seq)
    )
    latest: dict[str, Collection] = {}
    with db.read() as conn:
        for row in conn.execute(query):
            s = payloads.read(payloads.CollectionStarted, json.loads(row.payload))
            latest[row.kiosk_id] = Collection(
                s.technician, row.at, s.seal_number, s.cashbox_id, s.slip_number
            )
    return latest
