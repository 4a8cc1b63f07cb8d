"""The rows behind the exports: a day's payments and batches, read in one snapshot.

A day is a date in the hub's time zone. A payment belongs to its ``effective_date`` (when the
resident paid, however late it reached the hub); a batch to the day its cash box was
collected (its ``batch.closed``), so a day's batches are the bags that came in that day.
Rows come in the kiosk's own order (kiosk, then journal seq), which does not change when
the export is made again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, select

from hub.collections import NONE, Collection, collections_of
from hub.counts import Reconciliation, expected_bills, reconciliation
from hub.db import Database
from hub.models import Batch, BatchCount, Kiosk, Payment, Posting
from hub.schemas import BatchView, PaymentView


@dataclass(frozen=True)
class PaymentLine:
    """A payment as the staff API shows it, with how its posting went."""

    payment: PaymentView
    attempts: int
    posted_at: datetime | None
    billing_reference: str | None  # what the posting adapter filed it under
    last_error: str | None
    assigned_account: str | None  # a clerk's account for a payment out of suspense


@dataclass(frozen=True)
class BatchLine:
    """A batch's totals as the staff API shows them, what the kiosk said of its collection,
    and finance's count of its cash, if there is one yet."""

    batch: BatchView
    collection: Collection
    count: Reconciliation | None

    @property
    def status(self) -> str:
        """Where the batch stands: open, collected, then the count's status."""
        if self.count is not None:
            return self.count.status
        return "open" if self.batch.closed_seq is None else "collected"


def day_bounds(zone: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    """The UTC moments a day in the hub's zone starts and ends (23 or 25 hours at DST)."""
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end


def local_day(text: str, zone: ZoneInfo) -> date:
    """The day, in the hub's zone, of a kiosk's ISO-8601 time."""
    return datetime.fromisoformat(text).astimezone(zone).date()


def payments_of_day(db: Database, day: date, kiosk_id: str | None = None) -> list[PaymentLine]:
    query = (
        select(
            Payment.__table__,
            Posting.status.label("posting_status"),
            Posting.attempts,
            Posting.posted_at,
            Posting.reference,
            Posting.last_error,
            Posting.assigned_account,
        )
        .outerjoin(Posting, Posting.payment_id == Payment.payment_id)
        .where(Payment.effective_date == day)
        .order_by(Payment.kiosk_id, Payment.journal_seq, Payment.payment_id)
    )
    if kiosk_id is not None:
        query = query.where(Payment.kiosk_id == kiosk_id)
    with db.read() as conn:
        rows = conn.execute(query).all()
    return [
        PaymentLine(
            payment=PaymentView.model_validate(dict(r._mapping)),
            attempts=r.attempts or 0,
            posted_at=r.posted_at,
            billing_reference=r.reference,
            last_error=r.last_error,
            assigned_account=r.assigned_account,
        )
        for r in rows
    ]


def batches_of_day(
    db: Database, zone: ZoneInfo, day: date, kiosk_id: str | None = None
) -> list[BatchLine]:
    """The batches collected on ``day``, with what the kiosk said of the collection and the
    count, if there is one."""
    start, end = day_bounds(zone, day)
    # kiosk times are fixed-width UTC text (2025-03-01T14:05:09.123456Z): a text range
    # narrows the rows, the exact day is then taken from each time itself
    query = select(Batch.__table__).where(
        Batch.closed_at >= (start - timedelta(days=1)).strftime("%Y-%m-%d"),
        Batch.closed_at < (end + timedelta(days=1)).strftime("%Y-%m-%d"),
    )
    if kiosk_id is not None:
        query = query.where(Batch.kiosk_id == kiosk_id)
    with db.read() as conn:
        rows = [
            r
            for r in conn.execute(query.order_by(Batch.kiosk_id, Batch.opened_seq))
            if r.closed_at is not None and local_day(r.closed_at, zone) == day
        ]
        collected = _collections(conn, rows)
    return _lines(db, rows, collected)


def batches_counted_on(db: Database, zone: ZoneInfo, day: date) -> list[BatchLine]:
    """The batches whose cash was counted on ``day``: the bags that go to the bank that day
    (the over/short ledger keeps the same day)."""
    start, end = day_bounds(zone, day)
    counted = (
        select(BatchCount.kiosk_id, BatchCount.batch_id)
        .where(BatchCount.counted_at >= start, BatchCount.counted_at < end)
        .subquery()
    )
    query = (
        select(Batch.__table__)
        .join(
            counted,
            (counted.c.kiosk_id == Batch.kiosk_id) & (counted.c.batch_id == Batch.batch_id),
        )
        .order_by(Batch.kiosk_id, Batch.opened_seq)
    )
    with db.read() as conn:
        rows = conn.execute(query).all()
        collected = _collections(conn, rows)
    return _lines(db, rows, collected)


def one_batch(db: Database, kiosk_id: str, batch_id: str) -> BatchLine | None:
    with db.read() as conn:
        rows = conn.execute(
            select(Batch.__table__).where(Batch.kiosk_id == kiosk_id, Batch.batch_id == batch_id)
        ).all()
        collected = _collections(conn, rows)
    return _lines(db, rows, collected)[0] if rows else None


def _collections(conn: Connection, rows: Sequence[Row[Any]]) -> dict[str, dict[str, Collection]]:
    return {kiosk_id: collections_of(conn, kiosk_id) for kiosk_id in {r.kiosk_id for r in rows}}


def _lines(
    db: Database, rows: Sequence[Row[Any]], collected: dict[str, dict[str, Collection]]
) -> list[BatchLine]:
    return [
        BatchLine(
            batch=BatchView.model_validate(dict(r._mapping)),
            collection=collected[r.kiosk_id].get(r.batch_id, NONE),
            count=reconciliation(db, r.kiosk_id, r.batch_id),
        )
        for r in rows
    ]


def location_of(db: Database, kiosk_id: str) -> str:
    with db.read() as conn:
        return conn.execute(select(Kiosk.location).where(Kiosk.id == kiosk_id)).scalar_one()


def expected_cash(db: Database, line: BatchLine) -> dict[int, int]:
    """Notes per denomination the kiosk says it stacked: as taken at the count if counted
    (what the clerk's count was judged against), else as the hub has them now."""
    if line.count is not None:
        return line.count.expected
    with db.read() as conn:
        return expected_bills(conn, line.batch.kiosk_id, line.batch.batch_id)
