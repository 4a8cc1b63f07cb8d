"""The CSV exports: a day's payments, a day's batches, the over/short ledger.

UTF-8, CRLF line ends, one header row; every row goes through :func:`hub.csv_cells.row`, so a
kiosk's ``=HYPERLINK(...)`` is shown as text by a spreadsheet, never run. Nothing in a file
depends on when it was made: the same day exported again gives the same bytes unless the
data changed (a posting went through, a count was approved). Columns: docs/hub.md, "Exports".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from hub import counts, csv_cells
from hub.csv_cells import Cell
from hub.db import Database
from hub.exports.formats import dollars, iso_local
from hub.exports.records import BatchLine, PaymentLine, batches_of_day, payments_of_day
from hub.staff import audit

PAYMENT_COLUMNS = (
    "payment_id",
    "confirmation",
    "kiosk_id",
    "account_number",
    "assigned_account",
    "method",
    "amount_cents",
    "amount",
    "fee_cents",
    "cash_cents",
    "card_brand",
    "card_last4",
    "card_auth_code",
    "paid_at",
    "effective_date",
    "review",
    "batch_id",
    "journal_seq",
    "posting_status",
    "attempts",
    "posted_at",
    "billing_reference",
    "last_error",
)
BATCH_COLUMNS = (
    "kiosk_id",
    "batch_id",
    "status",
    "opened_at",
    "closed_at",
    "close_reason",
    "collected_at",
    "collected_by",
    "seal_number",
    "cash_cents",
    "bill_count",
    "card_cents",
    "card_count",
    "terminal_cents",
    "card_agreed",
    "payment_count",
    "payment_cents",
    "counted_cents",
    "variance_cents",
    "counted_by",
    "counted_at",
    "decided_by",
    "decided_at",
)
OVER_SHORT_COLUMNS = ("day", "kiosk_id", "batches", "over_cents", "short_cents", "net_cents")


def payments_csv(db: Database, zone: ZoneInfo, day: date, kiosk_id: str | None = None) -> bytes:
    """The payments whose effective date is ``day`` (hub zone), of one kiosk or all."""
    return _file(PAYMENT_COLUMNS, (_payment(p, zone) for p in payments_of_day(db, day, kiosk_id)))


def batches_csv(db: Database, zone: ZoneInfo, day: date, kiosk_id: str | None = None) -> bytes:
    """The batches collected on ``day``, with their counts where counted."""
    return _file(BATCH_COLUMNS, (_batch(b, zone) for b in batches_of_day(db, zone, day, kiosk_id)))


def over_short_csv(
    db: Database, zone: ZoneInfo, since: date | None = None, until: date | None = None
) -> bytes:
    """The over/short ledger per kiosk and day, from ``since`` to ``until`` (both included)."""
    rows: Iterable[list[Cell]] = (
        [e.day.isoformat(), e.kiosk_id, e.batches, e.over_cents, e.short_cents, e.net_cents]
        for e in counts.over_short(db, zone)
        if (since is None or e.day >= since) and (until is None or e.day <= until)
    )
    return _file(OVER_SHORT_COLUMNS, rows)


AUDIT_COLUMNS = ("id", "at", "actor", "action", "target", "before", "after", "detail")


def audit_csv(db: Database, zone: ZoneInfo, limit: int = 100_000) -> bytes:
    """The audit log, oldest first: who did what, when, and the state before and after."""
    records = sorted(audit.listing(db, limit), key=lambda r: r.id)
    return _file(
        AUDIT_COLUMNS,
        (
            [
                r.id,
                iso_local(r.at, zone),
                r.actor,
                r.action,
                r.target,
                r.before or "",
                r.after or "",
                r.detail,
            ]
            for r in records
        ),
    )


def _file(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_cells.row(header))
    for values in rows:
        writer.writerow(csv_cells.row(values))
    return out.getvalue().encode("utf-8")


def _flag(value: bool | None) -> str:
    return "" if value is None else "1" if value else "0"


def _payment(line: PaymentLine, zone: ZoneInfo) -> list[Cell]:
    p = line.payment
    return [
        p.payment_id,
        p.confirmation,
        p.kiosk_id,
        p.account_number,
        line.assigned_account or "",
        p.method,
        p.amount_cents,
        dollars(p.amount_cents),
        p.fee_cents,
        p.cash_cents,
        p.card_brand or "",
        p.card_last4 or "",
        p.card_auth_code or "",
        p.paid_at,
        p.effective_date.isoformat(),
        _flag(p.review),
        p.batch_id,
        p.journal_seq,
        p.posting_status or "",
        line.attempts,
        iso_local(line.posted_at, zone),
        line.billing_reference or "",
        line.last_error or "",
    ]


def _batch(line: BatchLine, zone: ZoneInfo) -> list[Cell]:
    b, c, n = line.batch, line.collection, line.count
    return [
        b.kiosk_id,
        b.batch_id,
        line.status,
        iso_local(b.opened_at, zone),
        iso_local(b.closed_at, zone),
        b.close_reason or "",
        iso_local(c.collected_at, zone),
        c.technician or c.closed_by or "",
        c.seal_number or "",
        b.cash_cents,
        b.bill_count,
        b.card_cents,
        b.card_count,
        "" if c.terminal_cents is None else c.terminal_cents,
        _flag(c.agreed),
        b.payment_count,
        b.payment_cents,
        "" if n is None else n.counted_cents,
        "" if n is None else n.variance_cents,
        "" if n is None else n.counted_by,
        "" if n is None else iso_local(n.counted_at, zone),
        "" if n is None else n.decided_by or "",
        "" if n is None else iso_local(n.decided_at, zone),
    ]
