"""A payment import file per day, for a CIS that imports files.

``payments-YYYY-MM-DD.csv`` in the configured directory, named by the day (hub time zone)
a payment was first sent to it; each row carries the payment's own effective date. Columns
(:data:`COLUMNS`) are documented in docs/hub.md.

Appending is atomic: under an exclusive lock on ``.payments.lock`` in the directory, the
file is rewritten to a temporary file with the new row, fsync'd and renamed over the old
one, so a reader (or a crash) sees the file before or after the row, never half a row. The
row is skipped if its payment id is already in the file, so a retry after a crash between
writing and marking the posting posted does not write it twice. The lock is ``flock``: hub
processes writing one directory must share a host (or a file system where it works).
"""

from __future__ import annotations

import csv
import fcntl
import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from hub import csv_cells
from hub.posting.base import PaymentToPost, PostingError
from hub.posting.files import replace_atomically

COLUMNS = (
    "payment_id",
    "confirmation",
    "kiosk_id",
    "account_number",
    "amount_cents",
    "amount",
    "fee_cents",
    "method",
    "effective_date",
    "paid_at",
    "card_brand",
    "card_last4",
    "card_auth_code",
    "review",
    "batch_id",
    "journal_seq",
)


def _dollars(cents: int) -> Decimal:
    """``4317`` -> ``43.17`` by integer arithmetic: no float ever touches an amount."""
    return Decimal(cents).scaleb(-2)


def _row(payment: PaymentToPost) -> list[str]:
    """The payment's row. Its numbers (cents, dollars, journal seq) are numbers; every text,
    most of it from the kiosk, goes through :mod:`hub.csv_cells`."""
    return csv_cells.row(
        [
            payment.payment_id,
            payment.confirmation,
            payment.kiosk_id,
            payment.account_number,
            payment.amount_cents,
            _dollars(payment.amount_cents),
            payment.fee_cents,
            payment.method,
            payment.effective_date.isoformat(),
            payment.paid_at,
            payment.card_brand or "",
            payment.card_last4 or "",
            payment.card_auth_code or "",
            "1" if payment.review else "0",
            payment.batch_id,
            payment.journal_seq,
        ]
    )


class CsvAdapter:
    name = "csv"

    def __init__(self, directory: Path, zone: ZoneInfo) -> None:
        self.directory = directory
        self.zone = zone

    def reference_for(self, payment: PaymentToPost, now: datetime) -> str | None:
        return f"payments-{now.astimezone(self.zone).date().isoformat()}.csv"

    def deliver(self, payment: PaymentToPost, reference: str | None) -> None:
        if reference is None or "/" in reference or reference.startswith("."):
            raise PostingError(f"not a payment file name: {reference!r}")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(self.directory / ".payments.lock", "a+b") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                self._append(self.directory / reference, payment)
        except OSError as exc:
            raise PostingError(f"could not write {self.directory / reference}: {exc}") from exc

    def apply(self, conn: Connection, payment: PaymentToPost, now: datetime) -> None:
        """Nothing to do in the hub's database: the file is the delivery."""

    def _append(self, path: Path, payment: PaymentToPost) -> None:
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
        if existing and any(
            row and row[0] == csv_cells.cell(payment.payment_id)
            for row in csv.reader(io.StringIO(existing, newline=""))
        ):
            return  # delivered before a crash kept us from marking it posted
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        if not existing:
            writer.writerow(csv_cells.row(COLUMNS))
        writer.writerow(_row(payment))
        content = (existing + out.getvalue()).encode("utf-8")
        replace_atomically(path, content, prefix=".payments-")
