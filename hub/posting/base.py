"""What an adapter is given and must do."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Connection


class PostingError(Exception):
    """The CIS did not take the payment this time; the message is kept as ``last_error``."""


class UnknownAccount(PostingError):
    """The billing system does not know the account: retrying will not help, a clerk must
    say which account the payment was meant for (the payment goes to suspense)."""


@dataclass(frozen=True)
class PaymentToPost:
    """A payment as the CIS needs it. ``amount_cents`` is what is credited to the account;
    the card fee is the operator's, not the account's."""

    payment_id: str
    kiosk_id: str
    confirmation: str
    account_number: str
    method: str
    amount_cents: int
    fee_cents: int
    cash_cents: int
    paid_at: str
    effective_date: date
    review: bool
    batch_id: str
    journal_seq: int
    card_brand: str | None
    card_last4: str | None
    card_auth_code: str | None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["effective_date"] = self.effective_date.isoformat()
        return data


class PostingAdapter(Protocol):
    """How payments reach one kind of CIS.

    The poster calls ``reference_for`` once, at the first attempt, and keeps the answer, so
    retries deliver to the same place; then ``deliver`` (outside any transaction: it may be
    slow); then ``apply`` inside the transaction that marks the posting posted. An adapter
    whose target is the hub's own database does its work in ``apply``, which makes it
    exactly once; one that delivers elsewhere must make ``deliver`` idempotent for a
    reference and a payment id, because a process can die between delivering and marking.
    What ``deliver`` returns, if anything, is the billing system's own reference for the
    payment, kept as the posting's reference in place of the adapter's.
    """

    name: str

    def reference_for(self, payment: PaymentToPost, now: datetime) -> str | None: ...

    def deliver(self, payment: PaymentToPost, reference: str | None) -> str | None: ...

    def apply(self, conn: Connection, payment: PaymentToPost, now: datetime) -> None: ...


def posted_now(now: datetime) -> dict[str, Any]:
    """What a posting's row says once it is posted: no error, no claim left on it."""
    return {
        "status": "posted",
        "posted_at": now,
        "updated_at": now,
        "last_error": None,
        "claim_token": None,
        "claimed_until": None,
    }
