"""Suspense: payments that wait for a clerk to say which account they were meant for.

A resident can pay an account the kiosk found only in an old cache, or typed by hand while
offline: money that must be posted somewhere, never failed forever or lost. The poster puts
such a posting in ``suspense`` (:class:`hub.posting.base.UnknownAccount`); a clerk assigns the
right account, which makes it pending again with who and when kept beside it, and it posts.

The hub also *holds* a posting there itself (``held``), when the payment needs a person's
check before it moves a balance: its id is already another kiosk's payment's, or it is over
its kiosk's limits as they stood when it arrived (:mod:`hub.projections`). The payment is
kept and counts in its batch; no poster takes a held posting, however it is asked, until a
clerk resolves it here (to the account it was paid to, or another). The reason is kept as
the posting's ``last_error`` and shown beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from hub.db import Database
from hub.errors import Invalid, NotFound
from hub.models import AccountRow, Payment, Posting


@dataclass(frozen=True)
class Suspended:
    payment_id: str
    kiosk_id: str
    confirmation: str
    account_number: str  # as the resident paid it
    amount_cents: int
    paid_at: str
    reason: str  # what the billing system said, or why the hub holds it


def listing(db: Database) -> list[Suspended]:
    """Every payment in suspense, oldest first."""
    query = (
        select(
            Payment.payment_id,
            Payment.kiosk_id,
            Payment.confirmation,
            Payment.account_number,
            Payment.amount_cents,
            Payment.paid_at,
            Posting.last_error,
        )
        .join(Posting, Posting.payment_id == Payment.payment_id)
        .where(Posting.status == "suspense")
        .order_by(Payment.paid_at, Payment.payment_id)
    )
    with db.read() as conn:
        return [
            Suspended(
                row.payment_id,
                row.kiosk_id,
                row.confirmation,
                row.account_number,
                row.amount_cents,
                row.paid_at,
                row.last_error or "",
            )
            for row in conn.execute(query)
        ]


def resolve(
    db: Database,
    payment_id: str,
    account_number: str,
    by: str,
    now: datetime,
    on_change: Callable[[Connection], None] | None = None,
) -> None:
    """Assign ``account_number`` to a payment in suspense; it is pending again (post it next).

    Refused, changing nothing: a payment not in suspense (posted meanwhile, or resolved by
    someone else), an account the hub's own accounts do not have (when it has any).
    ``on_change`` runs in the same transaction once it is assigned (the console's audit)."""
    account_number = account_number.strip()
    if not account_number or len(account_number) > 64:
        raise Invalid("give the account number the payment was meant for")
    with db.write() as conn:
        status = conn.execute(
            select(Posting.status).where(Posting.payment_id == payment_id)
        ).scalar()
        if status is None:
            raise NotFound(f"no payment {payment_id}")
        if status != "suspense":
            raise Invalid(f"payment {payment_id} is not in suspense (it is {status})")
        known = conn.execute(
            select(AccountRow.number).where(
                AccountRow.number == account_number, AccountRow.removed_version.is_(None)
            )
        ).scalar()
        catalog = conn.execute(select(AccountRow.number).limit(1)).scalar()
        if catalog is not None and known is None:
            raise Invalid(f"account {account_number} is not in the hub's accounts")
        changed = conn.execute(
            update(Posting)
            .where(Posting.payment_id == payment_id, Posting.status == "suspense")
            .values(
                status="pending",
                held=False,
                assigned_account=account_number,
                resolved_by=by[:128],
                resolved_at=now,
                next_attempt_at=now,
                updated_at=now,
            )
        ).rowcount
        if changed != 1:
            raise Invalid(f"payment {payment_id} was resolved by someone else meanwhile")
        if on_change is not None:
            on_change(conn)
