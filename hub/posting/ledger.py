"""The hub's own ledger: an account's balance goes down as its payments post.

The default adapter, and the demo's. The balance change and the posting's ``posted`` mark
are one transaction, so a payment is taken off a balance exactly once, whatever retries or
re-pushes happen. Each posting takes a new catalog version, so kiosks' account deltas carry
the new balance.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, update

from hub.accounts import next_version
from hub.models import AccountRow
from hub.posting.base import PaymentToPost, UnknownAccount


class LedgerAdapter:
    name = "ledger"

    def reference_for(self, payment: PaymentToPost, now: datetime) -> str | None:
        return None

    def deliver(self, payment: PaymentToPost, reference: str | None) -> None:
        """Nothing leaves the hub: the work is in :meth:`apply`."""

    def apply(self, conn: Connection, payment: PaymentToPost, now: datetime) -> None:
        version = next_version(conn, now)
        changed = conn.execute(
            update(AccountRow)
            .where(
                AccountRow.number == payment.account_number,
                AccountRow.removed_version.is_(None),
            )
            .values(
                balance_cents=AccountRow.balance_cents - payment.amount_cents,
                version=version,
                updated_at=now,
            )
        ).rowcount
        if changed != 1:
            raise UnknownAccount(
                f"account {payment.account_number} is not in the hub's accounts "
                "(assign the right one: `kiosk-hub suspense resolve`)"
            )
