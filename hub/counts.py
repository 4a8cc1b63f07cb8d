"""Blind counts of collected batches, variances and their approval, and the over/short ledger.

The clerk counts the bag without seeing what the kiosk expects (the console shows the
expected figures only once a count is saved), so the count is the clerk's own. A count that
differs from the kiosk's bills is a variance: a supervisor who did not count it approves it
with a reason. Every change carries the version the clerk's page was loaded with; a batch
someone else changed meanwhile is refused with what changed, never overwritten.

When the hub asks for a second count (:mod:`hub.options`), the first count is kept on its
own (``batch_first_counts``) and shows nothing; a second clerk, never the first, counts the
bag again, blind too. Only then are the expected figures shown, beside both counts; counts
that differ from each other are flagged and make the batch a variance, whatever the kiosk
expected, so a supervisor who counted neither looks at it. A first count saved while the
option was on is finished by a second count even if the option is turned off meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, insert, select, update

from contract.wire import canonical_json
from hub import options
from hub.db import Database
from hub.errors import AlreadyExists, HubError, Invalid, NotFound
from hub.models import Batch, BatchCount, Bill, FirstCount

#: the most notes of one value a bag can plausibly hold (a full cash box is ~1,000-2,500)
MAX_NOTES = 10_000
MIN_REASON = 10


#: called inside the transaction that saved a change, with what it is now: the console
#: writes its audit entry there, so the log and the change are kept or lost together
OnChange = Callable[[Connection, "Reconciliation | FirstCounted"], None]


class StaleBatch(HubError):
    """Someone else changed the batch since the page was loaded."""

    status = 409
    code = "stale"


@dataclass(frozen=True)
class FirstCounted:
    """A first count waiting for a second clerk's: its figures are shown to nobody yet."""

    kiosk_id: str
    batch_id: str
    counted: dict[int, int]
    counted_cents: int
    counted_by: str
    counted_at: datetime
    status: str = "counted once"
    version: int = 0


@dataclass(frozen=True)
class Reconciliation:
    kiosk_id: str
    batch_id: str
    status: str  # counted | variance | reconciled | approved
    counted: dict[int, int]
    expected: dict[int, int]
    counted_cents: int
    expected_cents: int
    variance_cents: int
    counted_by: str
    counted_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    version: int
    first: FirstCounted | None = None  # the first of two counts, when two were asked for

    @property
    def counts_differ(self) -> bool:
        """Two counts were made and they do not agree."""
        return self.first is not None and self.first.counted != self.counted

    @property
    def counters(self) -> set[str]:
        """Everyone who counted the batch: none of them may sign it off."""
        return {self.counted_by} | ({self.first.counted_by} if self.first else set())

    def differences(self) -> dict[int, int]:
        """Per denomination: counted - expected (only where they differ)."""
        values = set(self.counted) | set(self.expected)
        diff = {d: self.counted.get(d, 0) - self.expected.get(d, 0) for d in sorted(values)}
        return {d: n for d, n in diff.items() if n}


def parse_counts(form: Mapping[str, str], denominations: list[int]) -> dict[int, int]:
    """Notes per denomination as a clerk typed them: whole, non-negative, plausible numbers.

    Raises :class:`Invalid` naming every bad field; a blank field is zero notes."""
    counts: dict[int, int] = {}
    problems: list[str] = []
    for denomination in denominations:
        text = str(form.get(str(denomination), "")).strip()
        if not text:
            counts[denomination] = 0
            continue
        if not text.isdigit():
            problems.append(f"{denomination / 100:.2f}: {text!r} is not a whole number of notes")
            continue
        number = int(text)
        if number > MAX_NOTES:
            problems.append(f"{denomination / 100:.2f}: {number} notes is more than a bag holds")
            continue
        counts[denomination] = number
    unknown = set(form) - {str(d) for d in denominations}
    if unknown:
        problems.append(f"no such denomination: {', '.join(sorted(unknown))}")
    if problems:
        raise Invalid("; ".join(problems))
    return counts


def expected_bills(conn: Connection, kiosk_id: str, batch_id: str) -> dict[int, int]:
    """What the kiosk says went into the cash box in this batch, per denomination."""
    rows = conn.execute(
        select(Bill.denomination_cents, func.count())
        .where(Bill.kiosk_id == kiosk_id, Bill.batch_id == batch_id)
        .group_by(Bill.denomination_cents)
    )
    return {int(d): int(n) for d, n in rows}


def record_count(
    db: Database,
    kiosk_id: str,
    batch_id: str,
    counted: dict[int, int],
    by: str,
    now: datetime,
    on_change: OnChange | None = None,
    counts_seen: int | None = None,
) -> Reconciliation | FirstCounted:
    """Save a count of a closed batch.

    With one count asked for (or the second of two), the expected figures are taken now and
    the reconciliation returned. With two asked for and none made yet, the count is kept as
    the first and returned as :class:`FirstCounted`. ``counts_seen`` is how many counts
    the counter's page knew of (0 or 1): a count saved by someone else since is refused as
    :class:`StaleBatch` rather than taken for the other one."""
    if any(n < 0 or n > MAX_NOTES for n in counted.values()):
        raise Invalid("a count is a whole number of notes between 0 and 10,000")
    with db.write() as conn:
        batch = conn.execute(
            select(Batch.closed_seq).where(Batch.kiosk_id == kiosk_id, Batch.batch_id == batch_id)
        ).one_or_none()
        if batch is None:
            raise NotFound(f"kiosk {kiosk_id} has no batch {batch_id}")
        if batch.closed_seq is None:
            raise Invalid(f"batch {batch_id} is still open: its cash box has not been collected")
        if _row(conn, kiosk_id, batch_id) is not None:
            raise AlreadyExists(f"batch {batch_id} of {kiosk_id} was counted already")
        counted = {d: n for d, n in counted.items() if n}
        counted_cents = sum(d * n for d, n in counted.items())
        first = _first(conn, kiosk_id, batch_id)
        if counts_seen is not None and counts_seen != (0 if first is None else 1):
            raise StaleBatch(
                f"batch {batch_id} was counted once by {first.counted_by} since the page was "
                "loaded; reload it to count it a second time"
                if first is not None
                else f"batch {batch_id} has no first count to follow; reload it"
            )
        if first is not None and first.counted_by == by:
            raise Invalid("you made this batch's first count: its second count is another clerk's")
        if first is None and options.second_count(conn):
            conn.execute(
                insert(FirstCount).values(
                    kiosk_id=kiosk_id,
                    batch_id=batch_id,
                    counted_bills=_bills_json(counted),
                    counted_cents=counted_cents,
                    counted_by=by,
                    counted_at=now,
                )
            )
            pending = _first(conn, kiosk_id, batch_id)
            assert pending is not None
            if on_change is not None:
                on_change(conn, pending)
            return pending
        expected = expected_bills(conn, kiosk_id, batch_id)
        expected_cents = sum(d * n for d, n in expected.items())
        agreed = first is None or first.counted == counted
        status = "counted" if counted == expected and agreed else "variance"
        conn.execute(
            insert(BatchCount).values(
                kiosk_id=kiosk_id,
                batch_id=batch_id,
                status=status,
                counted_bills=_bills_json(counted),
                expected_bills=_bills_json(expected),
                counted_cents=counted_cents,
                expected_cents=expected_cents,
                variance_cents=counted_cents - expected_cents,
                counted_by=by,
                counted_at=now,
                version=1,
            )
        )
        row = _row(conn, kiosk_id, batch_id)
        assert row is not None
        if on_change is not None:
            on_change(conn, row)
    return row


def approve_variance(
    db: Database,
    kiosk_id: str,
    batch_id: str,
    by: str,
    reason: str,
    version: int,
    now: datetime,
    on_change: OnChange | None = None,
) -> Reconciliation:
    """A supervisor accepts a variance, with why; never the person who counted it."""
    reason = reason.strip()
    if len(reason) < MIN_REASON:
        raise Invalid(f"say why the variance is accepted (at least {MIN_REASON} characters)")
    change = (version, "variance", "approved", reason)
    return _decide(db, kiosk_id, batch_id, by, now, change, on_change)


def mark_reconciled(
    db: Database,
    kiosk_id: str,
    batch_id: str,
    by: str,
    version: int,
    now: datetime,
    on_change: OnChange | None = None,
) -> Reconciliation:
    """A supervisor closes a batch whose count equals the kiosk's."""
    change = (version, "counted", "reconciled", None)
    return _decide(db, kiosk_id, batch_id, by, now, change, on_change)


def _decide(
    db: Database,
    kiosk_id: str,
    batch_id: str,
    by: str,
    now: datetime,
    change: tuple[int, str, str, str | None],
    on_change: OnChange | None,
) -> Reconciliation:
    version, from_status, to_status, reason = change
    with db.write() as conn:
        current = _row(conn, kiosk_id, batch_id)
        if current is None:
            raise NotFound(f"batch {batch_id} of {kiosk_id} has not been counted")
        if current.version != version:
            raise StaleBatch(
                f"batch {batch_id} changed since the page was loaded: it is now "
                f"{current.status} (by {current.decided_by or current.counted_by}); reload it"
            )
        if current.status != from_status:
            raise Invalid(f"batch {batch_id} is {current.status}, not {from_status}")
        if by in current.counters:
            raise Invalid("the person who counted a batch can not also sign it off")
        conn.execute(
            update(BatchCount)
            .where(
                BatchCount.kiosk_id == kiosk_id,
                BatchCount.batch_id == batch_id,
                BatchCount.version == version,
            )
            .values(
                status=to_status,
                decided_by=by,
                decided_at=now,
                reason=reason,
                version=version + 1,
            )
        )
        row = _row(conn, kiosk_id, batch_id)
        assert row is not None
        if on_change is not None:
            on_change(conn, row)
    return row


def reconciliation(db: Database, kiosk_id: str, batch_id: str) -> Reconciliation | None:
    with db.read() as conn:
        return _row(conn, kiosk_id, batch_id)


def first_count(db: Database, kiosk_id: str, batch_id: str) -> FirstCounted | None:
    """The first of two counts, if one was made."""
    with db.read() as conn:
        return _first(conn, kiosk_id, batch_id)


def statuses(db: Database) -> dict[tuple[str, str], str]:
    """(kiosk, batch) -> where its count stands, for every batch counted so far (``counted
    once`` while a second count is awaited)."""
    with db.read() as conn:
        once = conn.execute(select(FirstCount.kiosk_id, FirstCount.batch_id)).all()
        rows = conn.execute(
            select(BatchCount.kiosk_id, BatchCount.batch_id, BatchCount.status)
        ).all()
    return {(k, b): "counted once" for k, b in once} | {(k, b): status for k, b, status in rows}


@dataclass(frozen=True)
class OverShort:
    kiosk_id: str
    day: date  # the day the count was saved, in the hub's zone
    batches: int
    over_cents: int
    short_cents: int  # a positive number of cents missing

    @property
    def net_cents(self) -> int:
        return self.over_cents - self.short_cents


def over_short(db: Database, zone: ZoneInfo) -> list[OverShort]:
    """Per kiosk and day: the variances counted, over and short, oldest first."""
    with db.read() as conn:
        rows = conn.execute(
            select(BatchCount.kiosk_id, BatchCount.counted_at, BatchCount.variance_cents)
        ).all()
    days: dict[tuple[str, date], list[int]] = {}
    for kiosk_id, counted_at, variance in rows:
        days.setdefault((kiosk_id, counted_at.astimezone(zone).date()), []).append(variance)
    return [
        OverShort(
            kiosk_id,
            day,
            len(variances),
            sum(v for v in variances if v > 0),
            -sum(v for v in variances if v < 0),
        )
        for (kiosk_id, day), variances in sorted(days.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]


def _of_batch(
    conn: Connection, table: type[BatchCount] | type[FirstCount], kiosk_id: str, batch_id: str
) -> Any:
    """The batch's row of ``table`` (its count or its first count), or ``None``."""
    return conn.execute(
        select(table.__table__).where(table.kiosk_id == kiosk_id, table.batch_id == batch_id)
    ).one_or_none()


def _row(conn: Connection, kiosk_id: str, batch_id: str) -> Reconciliation | None:
    row = _of_batch(conn, BatchCount, kiosk_id, batch_id)
    if row is None:
        return None
    m: Any = row._mapping
    return Reconciliation(
        kiosk_id=m["kiosk_id"],
        batch_id=m["batch_id"],
        status=m["status"],
        counted=_bills(m["counted_bills"]),
        expected=_bills(m["expected_bills"]),
        counted_cents=m["counted_cents"],
        expected_cents=m["expected_cents"],
        variance_cents=m["variance_cents"],
        counted_by=m["counted_by"],
        counted_at=m["counted_at"],
        decided_by=m["decided_by"],
        decided_at=m["decided_at"],
        reason=m["reason"],
        version=m["version"],
        first=_first(conn, kiosk_id, batch_id),
    )


def _first(conn: Connection, kiosk_id: str, batch_id: str) -> FirstCounted | None:
    row = _of_batch(conn, FirstCount, kiosk_id, batch_id)
    if row is None:
        return None
    return FirstCounted(
        kiosk_id=row.kiosk_id,
        batch_id=row.batch_id,
        counted=_bills(row.counted_bills),
        counted_cents=row.counted_cents,
        counted_by=row.counted_by,
        counted_at=row.counted_at,
    )


def _bills_json(bills: dict[int, int]) -> str:
    return canonical_json({str(d): n for d, n in sorted(bills.items())})


def _bills(text: str) -> dict[int, int]:
    return {int(d): int(n) for d, n in json.loads(text).items()}
