"""Realistic payment entries written straight to a kiosk's journal (the real Journal API),
the way the engine journals a cash or card payment, compressed to the entries the hub
projects (session, account, the money, ``payment.completed``, the end of the session)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from contract import entries as e
from kiosk.store.journal import Journal


@dataclass(frozen=True)
class Paid:
    payment_id: str
    account: str
    amount_cents: int
    paid_at: str  # the kiosk's text, as journaled


def write_payment(journal: Journal, index: int, account: str) -> Paid:
    """One payment of 1-5 dollars; every third is by card. Returns what the hub must show."""
    session = f"s-{uuid.uuid4()}"
    payment_id = str(uuid.uuid4())
    card = index % 3 == 0
    amount = 100 * (1 + index % 5)
    journal.append(e.SESSION_STARTED, {"session_id": session, "language": "en"})
    journal.append(
        e.ACCOUNT_SELECTED,
        {
            "session_id": session,
            "account_number": account,
            "source": "live",
            "review": False,
            "balance_cents": 4317,
        },
    )
    if card:
        reference = f"R-{index}"
        intent = journal.append(
            e.CARD_SALE_REQUESTED,
            {
                "session_id": session,
                "reference": reference,
                "amount_cents": amount,
                "fee_cents": 100,
                "total_cents": amount + 100,
            },
        )
        approved = journal.append(
            e.CARD_SALE_APPROVED,
            {
                "session_id": session,
                "reference": reference,
                "intent_seq": intent.seq,
                "total_cents": amount + 100,
                "auth_code": "A1B2C3",
                "brand": "VISA",
                "last4": "4242",
                "terminal_ref": f"T-{index}",
                "receipt_lines": ["VISA ****4242", "APPROVED"],
            },
        )
        paid_at = approved.at
        details = {
            "method": "card",
            "fee_cents": 100,
            "cash_cents": 0,
            "bills": {},
            "card": {
                "reference": reference,
                "brand": "VISA",
                "last4": "4242",
                "auth_code": "A1B2C3",
            },
        }
    else:
        bill = f"{session}-b0"
        intent = journal.append(
            e.BILL_STACK_REQUESTED,
            {
                "session_id": session,
                "bill_id": bill,
                "denomination_cents": amount,
                "cashbox_before": 0,
            },
        )
        stacked = journal.append(
            e.BILL_STACKED,
            {
                "session_id": session,
                "bill_id": bill,
                "denomination_cents": amount,
                "recovered": False,
                "intent_seq": intent.seq,
            },
        )
        paid_at = stacked.at
        details = {
            "method": "cash",
            "fee_cents": 0,
            "cash_cents": amount,
            "bills": {str(amount): 1},
            "card": None,
        }
    paid_text = paid_at.isoformat()
    journal.append(
        e.PAYMENT_COMPLETED,
        {
            "session_id": session,
            "payment_id": payment_id,
            "confirmation": f"C{index:07d}",
            "account_number": account,
            "amount_cents": amount,
            "paid_at": paid_text,
            "review": False,
            "balance_before_cents": 4317,
            "balance_after_cents": 4317 - amount,
            "recovered": False,
            **details,
        },
    )
    journal.append(e.SESSION_ENDED, {"session_id": session, "outcome": "completed"})
    return Paid(payment_id, account, amount, paid_text)
