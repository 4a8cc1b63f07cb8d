"""Batches: what one kiosk took between two cash-box collections.

A batch closes when a technician empties the cash box; the report is what finance matches
against the counted cash and the card settlement: bills per denomination, cash total, card
approvals and totals, reversals, and the journal range it covers (so the hub can prove the
report and the replicated journal agree).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from contract import entries as E
from contract import payloads
from kiosk.money import Money
from kiosk.ports import CardSettlement, CardTerminal


class BatchJournal(Protocol):
    def append(self, type: str, payload: Any) -> E.EntryLike: ...
    def entries(self, after_seq: int = 0, limit: int | None = None) -> Any: ...
    def open_batch_id(self) -> str: ...
    def last_seq(self) -> int: ...
    def last(self, type_: str | None = None) -> E.EntryLike | None: ...


@dataclass(frozen=True)
class BatchReport:
    batch_id: str
    first_seq: int
    last_seq: int
    bills: dict[int, int] = field(default_factory=dict)  # denomination cents -> count
    card_approvals: int = 0
    card_total: Money = field(default_factory=Money.zero)
    card_fees: Money = field(default_factory=Money.zero)
    reversals: int = 0
    reversed_total: Money = field(default_factory=Money.zero)
    payments: int = 0
    receipts_failed: int = 0
    review_payments: int = 0
    rejected_bills: int = 0
    terminal_total: Money | None = None  # what the card terminal's end of day said
    terminal_problem: str = ""  # why the end of day gave no total, when it was asked for

    @property
    def cash_total(self) -> Money:
        return Money(sum(d * n for d, n in self.bills.items()))

    @property
    def bill_count(self) -> int:
        return sum(self.bills.values())

    def lines(self) -> list[str]:
        covers = (
            f"journal entries {self.first_seq}-{self.last_seq}"
            if self.first_seq
            else "no entries yet"
        )
        out = [f"batch {self.batch_id}: {covers}", "cash by denomination:"]
        for denomination in sorted(self.bills):
            count = self.bills[denomination]
            value = Money(denomination * count)
            out.append(f"  {count:>4} x {Money(denomination)!s:>7} = {value!s:>10}")
        out += [
            f"cash total: {self.cash_total} in {self.bill_count} bills",
            f"card approvals: {self.card_approvals}, total {self.card_total} "
            f"(fees {self.card_fees})",
            f"reversals: {self.reversals}, total {self.reversed_total}",
            *self._terminal_line(),
            f"payments: {self.payments} ({self.review_payments} to review), "
            f"receipts not printed: {self.receipts_failed}",
        ]
        return out

    @property
    def card_agreed(self) -> bool:
        """False when the terminal's end of day gave another total, or none at all."""
        if self.terminal_problem:
            return False
        return self.terminal_total is None or self.terminal_total == self.card_total

    def _terminal_line(self) -> list[str]:
        if self.terminal_problem:
            return [f"card terminal end of day: NO ANSWER ({self.terminal_problem})"]
        if self.terminal_total is None:
            return []
        verdict = "matches" if self.terminal_total == self.card_total else "DOES NOT MATCH"
        return [f"card terminal end of day: {self.terminal_total} ({verdict} the kiosk)"]


def report_for_range(entries: list[E.EntryLike], batch_id: str) -> BatchReport:
    bills: Counter[int] = Counter()
    approved: dict[str, int] = {}
    reversed_refs: set[str] = set()
    payments = receipts_failed = review = rejected = 0
    fees = 0
    for entry in entries:
        p = entry.payload
        if entry.type == E.BILL_STACKED:
            bills[int(p["denomination_cents"])] += 1
        elif entry.type == E.CARD_SALE_APPROVED:
            approved[str(p["reference"])] = int(p["total_cents"])
        elif entry.type == E.CARD_REVERSED:
            reversed_refs.add(str(p["reference"]))
        elif entry.type == E.PAYMENT_COMPLETED:
            payments += 1
            review += bool(p.get("review"))
            if p.get("card"):
                fees += int(p["fee_cents"])
        elif entry.type == E.RECEIPT_FAILED:
            receipts_failed += 1
        elif entry.type == E.BILL_REJECTED:
            rejected += 1
    reversed_total = sum(approved.get(ref, 0) for ref in reversed_refs)
    return BatchReport(
        batch_id=batch_id,
        first_seq=entries[0].seq if entries else 0,
        last_seq=entries[-1].seq if entries else 0,
        bills=dict(bills),
        card_approvals=len(approved) - len(reversed_refs & set(approved)),
        card_total=Money(sum(approved.values()) - reversed_total),
        card_fees=Money(fees),
        reversals=len(reversed_refs),
        reversed_total=Money(reversed_total),
        payments=payments,
        receipts_failed=receipts_failed,
        review_payments=review,
        rejected_bills=rejected,
    )


def open_batch_report(journal: BatchJournal) -> BatchReport:
    """The batch still open: everything after the last ``batch.closed`` (found by the index
    on type: a close reads its own batch, not the kiosk's years before it)."""
    closed = journal.last(E.BATCH_CLOSED)
    entries = list(journal.entries(after_seq=0 if closed is None else closed.seq))
    return report_for_range(entries, journal.open_batch_id())


def _settle_terminal(journal: BatchJournal, terminal: CardTerminal) -> CardSettlement:
    """Run the terminal's end of day and journal what it says, whatever it says."""
    try:
        settlement = terminal.end_of_day()
    except Exception as exc:  # the batch still closes; finance sees the terminal's silence
        settlement = CardSettlement(ok=False, reason=f"end of day failed: {exc}")
    end_of_day = end_of_day_payload(settlement)
    journal.append(end_of_day.TYPE, end_of_day.dump())
    return settlement


def end_of_day_payload(
    settlement: CardSettlement, intent_seq: int | None = None, recovered: bool = False
) -> payloads.CardEndOfDay:
    """The ``card.end_of_day`` entry for what the terminal said (``intent_seq``: the
    collection's request it answers)."""
    extra: dict[str, Any] = {}
    if intent_seq is not None:  # unset fields stay out: older entries keep their hashes
        extra = {"intent_seq": intent_seq, "recovered": recovered}
    return payloads.CardEndOfDay(
        ok=settlement.ok,
        total_cents=settlement.total.cents,
        count=settlement.count,
        by_brand=[
            payloads.BrandTotal(brand=b.brand, count=b.count, amount_cents=b.amount.cents)
            for b in settlement.by_brand
        ],
        trace=settlement.trace,
        reason=settlement.reason,
        **extra,
    )


def close_batch(
    journal: BatchJournal, reason: str, by: str, terminal: CardTerminal | None = None
) -> BatchReport:
    """Close the open batch (cash-box collection) and return its report.

    With a terminal, its end of day runs first and its totals are journaled, then set beside
    the kiosk's own card total in the ``batch.closed`` entry, so a mismatch shows at once.
    """
    settlement = _settle_terminal(journal, terminal) if terminal is not None else None
    report = open_batch_report(journal)
    checked: dict[str, Any] = {}
    if settlement is not None:
        checked = {
            "terminal_ok": settlement.ok,
            "terminal_card_cents": settlement.total.cents,
            "card_matches": settlement.ok and settlement.total == report.card_total,
        }
    closed = payloads.BatchClosed(
        batch_id=report.batch_id,
        reason=reason,
        by=by,
        first_seq=report.first_seq,
        cash_cents=report.cash_total.cents,
        bills={str(d): n for d, n in sorted(report.bills.items())},
        card_cents=report.card_total.cents,
        card_count=report.card_approvals,
        reversals=report.reversals,
        **checked,
    )
    closing = journal.append(closed.TYPE, closed.dump())
    terminal_total = settlement.total if settlement is not None and settlement.ok else None
    problem = "" if settlement is None or settlement.ok else settlement.reason or "no answer"
    return replace(
        report, last_seq=closing.seq, terminal_total=terminal_total, terminal_problem=problem
    )
