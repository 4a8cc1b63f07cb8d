"""A batch's reconciliation report: what the kiosk took, what finance counted, who decided.

One page for one batch: the kiosk and the batch; the collection as the kiosk journaled it
(who, when, bag/seal number); the cash per denomination, expected against counted, with the
variance, its status and the supervisor's decision and reason; the card approvals against
the terminal's end of day. The page's only time stamp is the latest change of its data.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from reportlab.lib.units import inch
from reportlab.platypus import Flowable

from hub.collections import Collection
from hub.counts import Reconciliation
from hub.db import Database
from hub.errors import NotFound
from hub.exports import pdf_layout as ui
from hub.exports.formats import local_time, money, note, signed_money
from hub.exports.records import BatchLine, expected_cash, location_of, one_batch

TITLE = "Batch reconciliation report"
STATUS_TEXT = {
    "open": "Open: the cash box has not been collected",
    "collected": "Collected, not counted yet",
    "counted": "Counted, equal to the kiosk's figures; awaiting a supervisor",
    "variance": "Variance: awaiting a supervisor's approval",
    "reconciled": "Reconciled",
    "approved": "Variance approved",
}


def batch_report_pdf(db: Database, zone: ZoneInfo, kiosk_id: str, batch_id: str) -> bytes:
    line = one_batch(db, kiosk_id, batch_id)
    if line is None:
        raise NotFound(f"kiosk {kiosk_id} has no batch {batch_id}")
    expected = expected_cash(db, line)
    story: list[Flowable] = [
        ui.text(TITLE, ui.TITLE),
        ui.text(f"Kiosk {line.batch.kiosk_id}, batch {line.batch.batch_id}", ui.SMALL),
        ui.heading("Batch"),
        ui.facts(_batch_facts(line, location_of(db, kiosk_id), zone)),
        ui.heading("Collection"),
        ui.facts(_collection_facts(line, zone)),
        ui.heading("Cash"),
        _cash_table(expected, line.count),
        ui.space(),
        ui.facts(_count_facts(line, zone)),
        ui.heading("Card"),
        ui.facts(_card_facts(line)),
    ]
    footer = f"Figures as of {local_time(_latest_change(line), zone)}"
    return ui.render(TITLE, f"{line.batch.kiosk_id} {line.batch.batch_id}", footer, story)


def _batch_facts(line: BatchLine, location: str, zone: ZoneInfo) -> list[tuple[str, str]]:
    b = line.batch
    return [
        ("Kiosk", f"{b.kiosk_id} ({location})"),
        ("Batch", f"{b.batch_id} (journal seq {b.opened_seq} to {b.closed_seq or '…'})"),
        ("Opened", local_time(b.opened_at, zone)),
        ("Closed", local_time(b.closed_at, zone) or "still open"),
        ("Payments", f"{b.payment_count}, {money(b.payment_cents)}"),
        ("Status", STATUS_TEXT.get(line.status, line.status)),
    ]


def _collection_facts(line: BatchLine, zone: ZoneInfo) -> list[tuple[str, str]]:
    c: Collection = line.collection
    if c.collected_at is None:
        if line.batch.closed_at is None:
            return [("Collected", "not yet")]
        by = f" by {c.closed_by}" if c.closed_by else ""
        closed = local_time(line.batch.closed_at, zone)
        return [
            ("Collected", "no collection entry from the kiosk"),
            ("Batch closed", f"{closed}{by} ({line.batch.close_reason})"),
        ]
    return [
        ("Collected by", c.technician or ""),
        ("Collected at", local_time(c.collected_at, zone)),
        ("Bag/seal number", c.seal_number or ""),
        ("Cash box", c.cashbox_id or ""),
        ("Collection slip", "" if c.slip_number is None else f"no. {c.slip_number}"),
        ("Rejected bills", "" if c.rejected_bills is None else str(c.rejected_bills)),
    ]


def _cash_table(expected: dict[int, int], count: Reconciliation | None) -> Flowable:
    counted = {} if count is None else count.counted
    rows = [["Note", "Expected notes", "Expected", "Counted notes", "Counted", "Difference"]]
    for value in sorted(set(expected) | set(counted)):
        e = expected.get(value, 0)
        if count is None:
            rows.append([note(value), str(e), money(e * value), "", "", ""])
            continue
        n = counted.get(value, 0)
        rows.append(
            [note(value), str(e), money(e * value), str(n), money(n * value), _diff(n - e, value)]
        )
    expected_cents = sum(d * n for d, n in expected.items())
    if count is None:
        rows.append(["Total", str(sum(expected.values())), money(expected_cents), "", "", ""])
    else:
        rows.append(
            [
                "Total",
                str(sum(expected.values())),
                money(count.expected_cents),
                str(sum(counted.values())),
                money(count.counted_cents),
                signed_money(count.variance_cents),
            ]
        )
    widths = [0.8 * inch, 1.05 * inch, 1.15 * inch, 1.05 * inch, 1.15 * inch]
    return ui.grid(rows, [*widths, ui.WIDTH - sum(widths)], total_row=True)


def _diff(notes: int, value: int) -> str:
    return "" if notes == 0 else f"{notes:+d} ({signed_money(notes * value)})"


def _count_facts(line: BatchLine, zone: ZoneInfo) -> list[tuple[str, str]]:
    n = line.count
    if n is None:
        return [("Count", "not counted yet")]
    facts = [("Variance", _variance(n.variance_cents))]
    if n.first is not None:  # counted twice: both counters, and whether they agreed
        first = n.first
        facts.append(
            (
                "First count by",
                f"{first.counted_by}, {local_time(first.counted_at, zone)}: "
                f"{money(first.counted_cents)}",
            )
        )
        facts.append(("Second count by", f"{n.counted_by}, {local_time(n.counted_at, zone)}"))
        if n.counts_differ:
            facts.append(("Counts", "THE TWO COUNTS DIFFER"))
    else:
        facts.append(("Counted by", f"{n.counted_by}, {local_time(n.counted_at, zone)}"))
    if n.decided_by is not None:
        facts.append(("Decided by", f"{n.decided_by}, {local_time(n.decided_at, zone)}"))
    if n.reason:
        facts.append(("Reason", n.reason))
    return facts


def _variance(cents: int) -> str:
    if cents == 0:
        return "none"
    return f"{signed_money(cents)} ({'over' if cents > 0 else 'short'})"


def _card_facts(line: BatchLine) -> list[tuple[str, str]]:
    c = line.collection
    kiosk = f"{line.batch.card_count} approval(s), {money(line.batch.card_cents)}"
    if c.terminal_ok is None:
        return [("Kiosk", kiosk), ("Terminal end of day", "none ran at the close")]
    if not c.terminal_ok:
        terminal = "failed: the terminal gave no totals"
    else:
        count = "" if c.terminal_count is None else f"{c.terminal_count} approval(s), "
        terminal = f"{count}{money(c.terminal_cents or 0)}"
    result = "unknown" if c.agreed is None else "agreed" if c.agreed else "NOT AGREED: look into it"
    return [("Kiosk", kiosk), ("Terminal end of day", terminal), ("Result", result)]


def _latest_change(line: BatchLine) -> datetime:
    """The newest moment among the batch's opening and close, its collection and its count's
    decisions: a report made again without a change since shows the same."""
    moments = [
        datetime.fromisoformat(t)
        for t in (line.batch.opened_at, line.batch.closed_at, line.collection.collected_at)
        if t is not None
    ]
    if line.count is not None:
        moments += [m for m in (line.count.counted_at, line.count.decided_at) if m is not None]
    return max(moments)
