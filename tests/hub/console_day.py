"""A day for finance to reconcile, written into a hub the way kiosks and the poster would.

Kiosk ``k1`` took four payments in one batch, then was collected (Dana Lopez, cash box
BOX-3, seal SEAL-0042): $20 + $5 and $20 + $20 in cash to known accounts, a $10 note paid to
an account typed by hand that the billing system does not know (suspense), and a $50.00
card payment (and its $1.25 fee) that the terminal's end of day does not agree with
($40.00). The second cash payment's posting failed (the billing system was down) and waits
for a retry. A second batch is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from contract import entries as e
from hub import accounts, demo
from hub.posting.base import PaymentToPost, PostingAdapter, PostingError
from tests.hub.harness import HubHarness, KioskSide
from tests.store.builders import Step, batch_closed, card_payment, cash_payment, write

TYPO = "100200399"  # no such account
MEANT = "100200302"
FAILED = "P-s2"
SUSPENDED = "P-s4"
EXPECTED = {500: 1, 1000: 1, 2000: 3}  # the bills the kiosk stacked in the batch


@dataclass
class DownFor:
    """The billing system, down for one payment: the hub's ledger otherwise."""

    real: PostingAdapter
    payment_id: str

    @property
    def name(self) -> str:
        return self.real.name

    def reference_for(self, payment: PaymentToPost, now: datetime) -> str | None:
        return self.real.reference_for(payment, now)

    def deliver(self, payment: PaymentToPost, reference: str | None) -> None:
        if payment.payment_id == self.payment_id:
            raise PostingError("HTTP 503 from the billing system")
        self.real.deliver(payment, reference)

    def apply(self, conn: Connection, payment: PaymentToPost, now: datetime) -> None:
        self.real.apply(conn, payment, now)


def reconciliation_day(hub: HubHarness, folder: Path) -> str:
    """Write the day into ``hub``; returns the collected batch's id."""
    accounts.import_accounts(hub.ctx.db, demo.demo_csv(), hub.clock(), hub.clock().date())
    creds = hub.enroll("k1")
    kiosk = KioskSide(folder / "kiosk-k1.sqlite")
    try:
        kiosk.write(cash_payment("s1", MEANT, [2000, 500]))
        kiosk.write(cash_payment("s2", "100200419", [2000, 2000]))
        kiosk.write(card_payment("s3", "100200419", 5000, 125))
        kiosk.write(cash_payment("s4", TYPO, [1000]))
        batch_id = kiosk.journal.open_batch_id()
        bills = {str(d): n for d, n in EXPECTED.items()}
        started = {
            "collection_id": "c1",
            "slip_number": 7,
            "batch_id": batch_id,
            "technician": "Dana Lopez",
            "cashbox_id": "BOX-3",
            "seal_number": "SEAL-0042",
        }
        closed = batch_closed(batch_id, bills=bills, cash_cents=7500, card_cents=5125)
        completed = {
            "collection_id": "c1",
            "slip_number": 7,
            "batch_id": batch_id,
            "bills": bills,
            "cash_cents": 7500,
            "rejected_bills": 0,
            "payments": 4,
            "first_seq": 1,
            "last_seq": 80,
            "card_count": 1,
            "card_cents": 5125,
            "terminal_ok": True,
            "terminal_count": 1,
            "terminal_cents": 4000,
            "agreed": False,
        }
        write(
            kiosk.journal,
            [
                Step(e.COLLECTION_STARTED, started, intent=True),
                Step(e.BATCH_CLOSED, closed.model_dump(mode="json")),
                Step(e.COLLECTION_COMPLETED, completed, settles=True),
            ],
        )
        kiosk.write(cash_payment("s5", MEANT, [100]))  # into the next, open batch
        real = hub.ctx.poster.adapter
        hub.ctx.poster.adapter = DownFor(real, FAILED)
        try:
            sent = kiosk.wire()
            # the kiosk has taken two more payments since, still on their way to the hub
            response = hub.push(creds, sent, head_seq=sent[-1].seq + 8)
            assert response.status_code == 200, response.text
        finally:
            hub.ctx.poster.adapter = real
    finally:
        kiosk.close()
    return batch_id
