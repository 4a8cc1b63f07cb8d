"""Realistic payment entries written straight to a kiosk's journal (the real Journal API),
the way the engine journals a cash or card payment, compressed to the entries the hub
projects (session, account, the money, ``payment.completed``, the end of the session).
Every payload is built with its entry type's model in ``contract.payloads``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from contract import payloads as p
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
    amount = 100 * (1 + index % 5)
    journal.record(p.SessionStarted(session_id=session, language="en"))
    journal.record(
        p.AccountSelected(
            session_id=session,
            account_number=account,
            name_masked="M•••• G.",
            address_masked="12•• Oak St",
            balance_cents=4317,
            due_date=None,
            source="live",
            review=False,
        )
    )
    if index % 3 == 0:
        fee = 100
        card = p.PaymentCard(
            reference=f"R-{index}",
            total_cents=amount + fee,
            auth_code="A1B2C3",
            brand="VISA",
            last4="4242",
            terminal_ref=f"T-{index}",
        )
        intent = journal.record(
            p.CardSaleRequested(
                session_id=session,
                reference=card.reference,
                amount_cents=amount,
                fee_cents=fee,
                total_cents=card.total_cents,
            )
        )
        approved = journal.record(
            p.CardSaleApproved(
                session_id=session,
                intent_seq=intent.seq,
                receipt_lines=["VISA ****4242", "APPROVED"],
                **card.model_dump(),
            )
        )
        paid_at = approved.at
        method: p.Method = "card"
        cash_cents = 0
        bills: dict[str, int] = {}
    else:
        fee = 0
        card = None
        bill = f"{session}-b0"
        intent = journal.record(
            p.BillStackRequested(
                session_id=session, bill_id=bill, denomination_cents=amount, cashbox_before=0
            )
        )
        stacked = journal.record(
            p.BillStacked(
                session_id=session,
                intent_seq=intent.seq,
                bill_id=bill,
                denomination_cents=amount,
                recovered=False,
            )
        )
        paid_at = stacked.at
        method = "cash"
        cash_cents = amount
        bills = {str(amount): 1}
    paid_text = paid_at.isoformat()
    journal.record(
        p.PaymentCompleted(
            session_id=session,
            payment_id=payment_id,
            confirmation=f"C{index:07d}",
            account_number=account,
            method=method,
            amount_cents=amount,
            fee_cents=fee,
            cash_cents=cash_cents,
            bills=bills,
            card=card,
            paid_at=paid_text,
            review=False,
            balance_before_cents=4317,
            balance_after_cents=4317 - amount,
            recovered=False,
        )
    )
    journal.record(p.SessionEnded(session_id=session, outcome="completed"))
    return Paid(payment_id, account, amount, paid_text)
