"""The hub's own ledger: an account's balance goes down as its payments post.

The default adapter, and the demo's. The balance change and the posting's ``posted`` mark
are one transaction, so a payment is taken off a balance exactly once, whatever retries or
re-pushes happen. Each posting takes a new catalog version, so kiosks' account deltas carry
the new balance.

A balance stays within what a kiosk can be told (``contract.wire.Account``: at most
``MAX_CENTS`` either way): a payment that would take it further fails with the reason, for
finance to look at, rather than leaving an account no kiosk can look up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from contract.payloads import MAX_CENTS
from hub.accounts import next_version
from hub.models import AccountRow
from hub.posting.base import PaymentToPost, PostingError, UnknownAccount


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
                AccountRow.balance_cents - payment.amount_cents >= -MAX_CENTS,
            )
            .values(
                balance_cents=AccountRow.balance_cents - payment.amount_cents,
                version=version,
                updated_at=now,
            )
        ).rowcount
        if changed != 1 and _exists(conn, payment.account_number):
            raise PostingError(
                f"posting {payment.amount_cents} cents would take account "
                f"{payment.account_number}'s balance beyond the bounds of {MAX_CENTS} cents "
                "a kiosk can show; check the payment and the account's balance"
            )
        if changed != 1:
            raise UnknownAccount(
                f"account {payment.account_number} is not in the hub's accounts "
                "(assign the right one: `kiosk-hub suspense resolve`)"
            )


def _exists(conn: Connection, number: str) -> bool:
    found = conn.execute(
        select(AccountRow.number).where(
            AccountRow.number == number, AccountRow.removed_version.is_(None)
        )
    ).first()
    return found is not None
