"""Journal entries written by hand, built with the contract's payload models.

The store is tested on its own, without the engine, so these builders stand in for what the
engine writes. ``Step.settles`` marks an outcome whose ``intent_seq`` is the seq of the
step's intent, filled in by :func:`write` once that seq is known.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contract import entries as e
from contract import payloads as p
from kiosk.store.journal import Journal, JournalEntry


class StepClock:
    """A wall clock that moves one second per reading, so every entry has its own time."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2025, 3, 1, 14, 0, 0, 123456, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment


@dataclass
class Step:
    type: str
    payload: dict[str, Any]
    intent: bool = False  # remember this entry's seq for the next settling step
    settles: bool = False  # payload["intent_seq"] = seq of the last intent


def write(journal: Journal, steps: Iterable[Step]) -> list[JournalEntry]:
    written: list[JournalEntry] = []
    last_intent = 0
    for step in steps:
        payload = dict(step.payload)
        if step.settles:
            payload["intent_seq"] = last_intent
        entry = journal.append(step.type, payload)
        if step.intent:
            last_intent = entry.seq
        written.append(entry)
    return written


def session(
    session_id: str, account: str, amount_cents: int, method: str, fee_cents: int
) -> list[Step]:
    return [
        Step(e.SESSION_STARTED, {"session_id": session_id, "language": "en"}),
        Step(
            e.ACCOUNT_SELECTED,
            {
                "session_id": session_id,
                "account_number": account,
                "name_masked": "Maria G.",
                "address_masked": "12•• Oak St",
                "balance_cents": amount_cents,
                "due_date": None,
                "source": "live",
                "review": False,
            },
        ),
        Step(e.AMOUNT_CHOSEN, {"session_id": session_id, "amount_cents": amount_cents}),
        Step(e.METHOD_CHOSEN, {"session_id": session_id, "method": method, "fee_cents": fee_cents}),
    ]


def stack_bill(session_id: str, bill_id: str, cents: int, recovered: bool = False) -> list[Step]:
    return [
        Step(e.BILL_ESCROWED, {"session_id": session_id, "denomination_cents": cents}),
        Step(
            e.BILL_STACK_REQUESTED,
            {
                "session_id": session_id,
                "bill_id": bill_id,
                "denomination_cents": cents,
                "cashbox_before": 0,
            },
            intent=True,
        ),
        Step(
            e.BILL_STACKED,
            {
                "session_id": session_id,
                "bill_id": bill_id,
                "denomination_cents": cents,
                "recovered": recovered,
            },
            settles=True,
        ),
    ]


def completed(
    session_id: str,
    payment_id: str,
    account: str,
    method: str,
    amount_cents: int,
    fee_cents: int = 0,
    cash_cents: int = 0,
    bills: dict[str, int] | None = None,
    card: dict[str, Any] | None = None,
    review: bool = False,
) -> list[Step]:
    payload = {
        "session_id": session_id,
        "payment_id": payment_id,
        "confirmation": f"C-{payment_id}",
        "account_number": account,
        "method": method,
        "amount_cents": amount_cents,
        "fee_cents": fee_cents,
        "cash_cents": cash_cents,
        "bills": bills or {},
        "card": card,
        "paid_at": "2025-03-01T14:05:00+00:00",
        "review": review,
        "balance_before_cents": amount_cents,
        "balance_after_cents": 0,
        "recovered": False,
    }
    return [
        Step(e.PAYMENT_COMPLETED, payload),
        Step(
            e.RECEIPT_PRINT_REQUESTED,
            {"session_id": session_id, "confirmation": payload["confirmation"]},
            intent=True,
        ),
        Step(
            e.RECEIPT_PRINTED,
            {"session_id": session_id, "confirmation": payload["confirmation"]},
            settles=True,
        ),
        Step(e.SESSION_ENDED, {"session_id": session_id, "outcome": "completed"}),
    ]


def cash_payment(session_id: str, account: str, bills: list[int]) -> list[Step]:
    total = sum(bills)
    steps = session(session_id, account, total, "cash", 0)
    counts: dict[str, int] = {}
    for index, cents in enumerate(bills):
        steps += stack_bill(session_id, f"{session_id}-bill{index}", cents)
        counts[str(cents)] = counts.get(str(cents), 0) + 1
    return steps + completed(
        session_id, f"P-{session_id}", account, "cash", total, cash_cents=total, bills=counts
    )


def card_sale(
    session_id: str, reference: str, amount_cents: int, fee_cents: int, outcome: str
) -> list[Step]:
    """A sale request and its outcome: approved, declined, cancelled or in_doubt."""
    total = amount_cents + fee_cents
    request = Step(
        e.CARD_SALE_REQUESTED,
        {
            "session_id": session_id,
            "reference": reference,
            "amount_cents": amount_cents,
            "fee_cents": fee_cents,
            "total_cents": total,
        },
        intent=True,
    )
    base = {"session_id": session_id, "reference": reference}
    if outcome == "approved":
        lines = {"receipt_lines": ["VISA ****4242", "APPROVED"]}
        result = Step(e.CARD_SALE_APPROVED, base | approval(total) | lines, settles=True)
    elif outcome == "declined":
        result = Step(e.CARD_SALE_DECLINED, base | {"reason": "insufficient funds"}, settles=True)
    elif outcome == "cancelled":
        result = Step(e.CARD_SALE_CANCELLED, base | {"by": "resident"}, settles=True)
    else:
        # names its sale but settles nothing: recovery will ask the terminal
        result = Step(e.CARD_SALE_IN_DOUBT, base, settles=True)
    return [request, result]


def approval(total_cents: int) -> dict[str, Any]:
    return {
        "total_cents": total_cents,
        "auth_code": "A1B2C3",
        "brand": "VISA",
        "last4": "4242",
        "terminal_ref": "T-000123",
    }


def card_payment(session_id: str, account: str, amount_cents: int, fee_cents: int) -> list[Step]:
    reference = f"R-{session_id}"
    card = {"reference": reference} | approval(amount_cents + fee_cents)
    return (
        session(session_id, account, amount_cents, "card", fee_cents)
        + card_sale(session_id, reference, amount_cents, fee_cents, "approved")
        + completed(
            session_id, f"P-{session_id}", account, "card", amount_cents, fee_cents, card=card
        )
    )


def reversal(session_id: str, reference: str, succeeds: bool = True) -> list[Step]:
    base = {"session_id": session_id, "reference": reference}
    outcome = (
        Step(e.CARD_REVERSED, base, settles=True)
        if succeeds
        else Step(e.CARD_REVERSAL_FAILED, base | {"reason": "terminal offline"}, settles=True)
    )
    return [
        Step(e.CARD_REVERSAL_REQUESTED, base | {"reason": "payment not recorded"}, intent=True),
        outcome,
    ]


def batch_closed(
    batch_id: str,
    *,
    first_seq: int = 0,
    bills: dict[str, int] | None = None,
    cash_cents: int = 0,
    card_cents: int = 0,
    card_count: int = 0,
    reversals: int = 0,
) -> p.BatchClosed:
    """A cash-box collection closing ``batch_id``, its terminal's end of day agreeing.

    The totals are what the closing says; the projections count the batch from its entries.
    """
    return p.BatchClosed(
        batch_id=batch_id,
        reason="collection",
        by="tech-1",
        first_seq=first_seq,
        bills=bills or {},
        cash_cents=cash_cents,
        card_cents=card_cents,
        card_count=card_count,
        reversals=reversals,
        terminal_ok=True,
        terminal_card_cents=card_cents,
        card_matches=True,
    )
