"""A day's deposit slip: the cash counted that day, bag by bag, and the total for the bank.

Every batch counted on the day (in the hub's zone, the day the over/short ledger uses) is a
line: kiosk, batch, bag/seal number, notes counted per denomination and the bag's total.
Under them, the notes and amount per denomination and the total to deposit, then lines for
the people who prepare, check and receive the deposit to sign. What is deposited is what was
counted, whether or not a variance is approved yet; a batch still awaiting a decision is
marked so the preparer knows.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from reportlab.lib.units import inch
from reportlab.platypus import Flowable

from hub.db import Database
from hub.exports import pdf_layout as ui
from hub.exports.formats import local_time, money, note
from hub.exports.records import BatchLine, batches_counted_on

TITLE = "Deposit slip"
AWAITING = ("counted", "variance")  # a supervisor has not signed the count off yet


def deposit_slip_pdf(db: Database, zone: ZoneInfo, day: date) -> bytes:
    lines = [line for line in batches_counted_on(db, zone, day) if line.count is not None]
    values = sorted({d for line in lines for d in _counted(line)})
    total = sum(_counted_cents(line) for line in lines)
    story: list[Flowable] = [
        ui.text(f"{TITLE}: cash counted on {day.isoformat()}", ui.TITLE),
        ui.text(f"Times and the day in {zone.key}", ui.SMALL),
        ui.heading("Bags"),
    ]
    if lines:
        story += [_bags(lines, values), ui.space(2)]
        if any(line.status in AWAITING for line in lines):
            story.append(ui.text("* count not yet signed off by a supervisor", ui.SMALL))
        story += [ui.heading("To deposit"), _summary(lines, values, total)]
    else:
        story.append(ui.text("No batch was counted on this day: there is nothing to deposit."))
    story += [
        ui.space(8),
        ui.facts([("Total to deposit", money(total)), ("Bags", str(len(lines)))]),
        ui.space(14),
        ui.signature_lines(["Prepared by (name, signature)", "Checked by", "Received by the bank"]),
    ]
    footer = f"Figures as of {_as_of(lines, day, zone)}"
    return ui.render(TITLE, day.isoformat(), footer, story)


def _counted(line: BatchLine) -> dict[int, int]:
    assert line.count is not None
    return line.count.counted


def _counted_cents(line: BatchLine) -> int:
    assert line.count is not None
    return line.count.counted_cents


def _bags(lines: list[BatchLine], values: list[int]) -> Flowable:
    rows = [["Kiosk", "Batch", "Bag/seal", *(note(v) for v in values), "Counted"]]
    for line in lines:
        counted = _counted(line)
        mark = " *" if line.status in AWAITING else ""
        rows.append(
            [
                line.batch.kiosk_id,
                line.batch.batch_id + mark,
                line.collection.seal_number or "none",
                *(str(counted.get(v, 0)) for v in values),
                money(_counted_cents(line)),
            ]
        )
    fixed = [1.5 * inch, 0.75 * inch, 0.95 * inch]
    total_width = 0.95 * inch
    each = (ui.WIDTH - sum(fixed) - total_width) / max(len(values), 1)
    widths = [*fixed, *([each] * len(values)), total_width]
    return ui.grid(rows, widths, numeric_from=3, font_size=8.5)


def _summary(lines: list[BatchLine], values: list[int], total: int) -> Flowable:
    rows = [["Note", "Notes", "Amount"]]
    for value in values:
        notes = sum(_counted(line).get(value, 0) for line in lines)
        rows.append([note(value), str(notes), money(notes * value)])
    rows.append(["Total", str(sum(sum(_counted(line).values()) for line in lines)), money(total)])
    return ui.grid(rows, [1.2 * inch, 1.2 * inch, 1.6 * inch], total_row=True)


def _as_of(lines: list[BatchLine], day: date, zone: ZoneInfo) -> str:
    """The newest count or decision among the day's bags; the day itself when there is none."""
    moments: list[datetime] = []
    for line in lines:
        assert line.count is not None
        moments += [m for m in (line.count.counted_at, line.count.decided_at) if m is not None]
    return local_time(max(moments), zone) if moments else day.isoformat()
