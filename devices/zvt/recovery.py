"""What became of a sale, from the sale record and the terminal's last transaction.

ZVT's way to recover a lost answer is to ask the terminal again: Repeat Receipt (06 20)
sends the Status-Information of the last transaction it stored. That transaction is ours
only if we can prove it: its trace number is the one we saw for the sale before the answer
was lost, or the terminal's last trace number has moved on since the sale began (recorded
*before* the authorisation went out), the amount is ours, it is a sale (not a reversal,
which names an original trace, nor an end-of-day, which has totals), and no other sale
already owns that trace. If the last trace is the one from before the sale, the sale never
became a transaction. Anything else cannot be told apart from an older sale of the same
amount, and stays in doubt: the engine then reverses or a person settles it.

A terminal whose journal was empty when the sale began (Repeat Receipt refused with
"function not possible" before any transaction was ever seen, ``trace_before`` known to be
none) has no older sale to confuse ours with: the first sale transaction it shows with our
amount is ours, and a journal still empty afterwards means the sale never happened.
"""

from __future__ import annotations

from enum import Enum

from devices.zvt import ledger
from devices.zvt.bmp import StatusInformation
from devices.zvt.ledger import SaleRecord
from kiosk.money import Money
from kiosk.ports import CardOutcome, CardResult


class Verdict(Enum):
    OURS = "ours"
    NOT_PROCESSED = "not_processed"


def match(record: SaleRecord, info: StatusInformation, owner: str | None) -> Verdict | None:
    """Whether the terminal's last transaction ``info`` is ``record``'s sale.

    ``owner`` is the reference already known to own ``info.trace``, if any.
    """
    if info.trace is None:
        return None
    if record.trace is not None and info.trace == record.trace:
        return Verdict.OURS
    if record.trace_before_known and info.trace == record.trace_before:
        return Verdict.NOT_PROCESSED
    if not record.trace_before_known or info.is_reversal or info.totals is not None:
        return None
    if info.amount_cents != record.amount_cents or owner not in (None, record.reference):
        return None
    return Verdict.OURS


def empty_before(record: SaleRecord) -> bool:
    """The terminal had no transaction stored when ``record``'s sale began."""
    return record.trace_before_known and record.trace_before is None


def terminal_ref(receipt: int | None, trace: int | None) -> str:
    """The terminal's reference for a sale: its receipt number (what a reversal names)."""
    if receipt is not None:
        return f"{receipt:04d}"
    return f"T{trace:06d}" if trace is not None else ""


def approval(
    record: SaleRecord, info: StatusInformation | None, lines: tuple[str, ...]
) -> CardResult:
    """The APPROVED result for ``record`` (the terminal's amount wins if it says one)."""
    amount = record.amount_cents
    if info is not None and info.amount_cents:
        amount = info.amount_cents
    return CardResult(
        record.reference,
        CardOutcome.APPROVED,
        amount=Money(amount),
        auth_code=record.auth_code,
        brand=record.brand,
        last4=record.last4,
        terminal_ref=terminal_ref(record.receipt, record.trace),
        reason=record.reason if record.reason in ("late", "recovered") else "",
        receipt_lines=lines,
    )


def from_record(record: SaleRecord) -> CardResult:
    """What the sale record already knows for certain (no need to ask the terminal)."""
    if record.state == ledger.APPROVED:
        return approval(record, None, ())
    if record.state == ledger.REVERSED:
        return CardResult(record.reference, CardOutcome.CANCELLED, reason="reversed")
    if record.state == ledger.CANCELLED:
        return CardResult(record.reference, CardOutcome.CANCELLED, reason=record.reason)
    if record.state in (ledger.SENT, ledger.IN_DOUBT):
        return CardResult(record.reference, CardOutcome.IN_DOUBT, amount=Money(record.amount_cents))
    return CardResult(record.reference, CardOutcome.DECLINED, reason=record.reason or "declined")
