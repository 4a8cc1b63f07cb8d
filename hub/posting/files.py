"""Payment import files in a configured layout: one transmission per run, each payment once.

A run takes every due posting that is in no file yet, records a transmission (a new id, the
layout in full, which payment is at which position) in one transaction, then writes the
file from that record: to a temporary file in the directory, fsync'd, renamed into place,
the directory fsync'd. Only then are the postings marked posted. So:

- a payment is in one file at most: ``transmission_payments`` is keyed by payment id;
- a crash or a full disk between recording and writing leaves a transmission without
  ``written_at``; the next run writes that same file (same id, same payments, same bytes)
  before it starts a new one, and a payment is never moved to another file;
- any past file can be written again byte for byte (:func:`rewrite`), from the recorded
  transmission, even after the city's layout has changed.

A value that does not fit the layout fails that file: it is forgotten (nothing was
written), its postings fail with the reason and are taken again, into a new file, once the
layout is fixed. A payment to an account the billing system does not know (the hub's
account catalog, imported from it, does not have it) goes to suspense instead of a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hub.clock import Clock
from hub.db import Database
from hub.errors import HubError, NotFound
from hub.models import AccountRow, Payment, Posting, Transmission, TransmissionPayment
from hub.posting.base import PaymentToPost, posted_now
from hub.posting.layout import Item, Layout, LayoutOverflow, Rendered, parse, render

RETRIED = ("pending", "failed")


class FileAdapter:
    """Writes payment import files in ``layout`` to ``directory``; the poster hands it whole
    runs (:meth:`transmit`) instead of single payments."""

    name = "file"

    def __init__(self, directory: Path, layout: Layout, zone: ZoneInfo) -> None:
        self.directory = directory
        self.layout = layout
        self.zone = zone

    # the per-payment protocol is not used: a file is made of a run, not a payment
    def reference_for(self, payment: PaymentToPost, now: datetime) -> str | None:
        return None

    def deliver(self, payment: PaymentToPost, reference: str | None) -> str | None:
        raise NotImplementedError("file postings are made by transmit()")

    def apply(self, conn: Connection, payment: PaymentToPost, now: datetime) -> None:
        """Nothing to do in the hub's database."""

    def transmit(
        self,
        db: Database,
        clock: Clock,
        payment_ids: Iterable[str] | None = None,
        *,
        include_waiting: bool = False,
    ) -> tuple[list[str], dict[str, str], list[str]]:
        """Finish files begun before, then put the due postings (or ``payment_ids``) in a
        new file. Returns (posted, failed with the reason, skipped) payment ids."""
        posted: list[str] = []
        failed: dict[str, str] = {}
        skipped: list[str] = []
        with db.read() as conn:
            unwritten = conn.execute(
                select(Transmission.id)
                .where(Transmission.written_at.is_(None))
                .order_by(Transmission.id)
            ).scalars()
            begun = [int(tid) for tid in unwritten]
        for tid in begun:
            before = len(posted)
            self._write(db, clock, tid, posted, failed)
            if len(posted) == before:  # still down: no new file to wait beside it
                return posted, failed, [p for p in payment_ids or () if p not in failed]
        wanted = None if payment_ids is None else list(payment_ids)
        while True:  # more than a file's worth: one file after another
            try:
                begun_now = self._begin(db, clock, wanted, include_waiting, failed)
            except IntegrityError:  # another process put some of them in its file first
                break
            if begun_now is None:
                break
            tid, taken = begun_now
            before = len(posted)
            self._write(db, clock, tid, posted, failed)
            if len(posted) == before:  # not written: the rest would fare no better now
                break
            if self.layout.max_payments is None or taken < self.layout.max_payments:
                break
        if wanted is not None:
            skipped = [p for p in wanted if p not in posted and p not in failed]
        return posted, failed, skipped

    def _begin(
        self,
        db: Database,
        clock: Clock,
        wanted: list[str] | None,
        include_waiting: bool,
        failed: dict[str, str],
    ) -> tuple[int, int] | None:
        now = clock()
        statuses = (*RETRIED, "suspense") if include_waiting or wanted else RETRIED
        query = (
            select(
                Payment.__table__,
                Posting.assigned_account,
            )
            .join(Posting, Posting.payment_id == Payment.payment_id)
            .outerjoin(TransmissionPayment, TransmissionPayment.payment_id == Payment.payment_id)
            .where(
                TransmissionPayment.payment_id.is_(None),
                Posting.status.in_(statuses),
                Posting.held.is_(False),  # only a clerk's resolve releases it
                or_(Posting.claimed_until.is_(None), Posting.claimed_until < now),
            )
            .order_by(Payment.effective_date, Payment.paid_at, Payment.payment_id)
        )
        if self.layout.max_payments is not None:
            query = query.limit(self.layout.max_payments)
        if wanted is not None:
            query = query.where(Payment.payment_id.in_(wanted))
        elif not include_waiting:
            query = query.where(Posting.next_attempt_at <= now)
        with db.write() as conn:
            rows = conn.execute(query).all()
            if not rows:
                return None
            accounts = {row.assigned_account or row.account_number for row in rows}
            catalog = conn.execute(select(AccountRow.number).limit(1)).scalar() is not None
            known = set(
                conn.execute(
                    select(AccountRow.number).where(
                        AccountRow.number.in_(accounts), AccountRow.removed_version.is_(None)
                    )
                ).scalars()
            )
            items: list[tuple[str, str]] = []
            for row in rows:
                account = row.assigned_account or row.account_number
                if catalog and account not in known:
                    reason = (
                        f"account {account} is not in the billing system's accounts "
                        "(assign the right one: `kiosk-hub suspense resolve`)"
                    )
                    conn.execute(
                        update(Posting)
                        .where(Posting.payment_id == row.payment_id)
                        .values(
                            status="suspense",
                            adapter=self.name,
                            attempts=Posting.attempts + 1,
                            last_error=reason,
                            updated_at=now,
                        )
                    )
                    failed[row.payment_id] = reason
                else:
                    items.append((row.payment_id, account))
            if not items:
                return None  # (a full batch all to suspense waits for the next run)
            total = sum(int(row.amount_cents) for row in rows if row.payment_id not in failed)
            tid = conn.execute(
                insert(Transmission)
                .values(
                    layout_name=self.layout.name,
                    layout_version=self.layout.version,
                    layout_hash=self.layout.digest,
                    layout=self.layout.canonical(),
                    time_zone=self.zone.key,
                    created_at=now,
                    detail_count=len(items),
                    total_cents=total,
                )
                .returning(Transmission.id)
            ).scalar_one()
            file_name = self.layout.file_name.format(
                layout=self.layout.name,
                transmission_id=tid,
                created_at=now.astimezone(self.zone),
            )
            conn.execute(
                update(Transmission).where(Transmission.id == tid).values(file_name=file_name)
            )
            conn.execute(
                insert(TransmissionPayment),
                [
                    {
                        "payment_id": pid,
                        "transmission_id": tid,
                        "position": position,
                        "account_number": account,
                    }
                    for position, (pid, account) in enumerate(items)
                ],
            )
            conn.execute(
                update(Posting)
                .where(Posting.payment_id.in_([pid for pid, _ in items]))
                .values(
                    adapter=self.name,
                    attempts=Posting.attempts + 1,
                    reference=file_name,
                    updated_at=now,
                )
            )
        return int(tid), len(rows)

    def _write(
        self, db: Database, clock: Clock, tid: int, posted: list[str], failed: dict[str, str]
    ) -> None:
        with db.read() as conn:
            transmission = conn.execute(
                select(Transmission.__table__).where(Transmission.id == tid)
            ).one()
            ids = _payment_ids(conn, tid)
        try:
            rendered = render_transmission(db, tid)
        except LayoutOverflow as exc:
            error = f"{transmission.file_name} not written: {exc}"
            self._forget(db, clock, tid, ids, error)
            failed.update(dict.fromkeys(ids, error))
            return
        assert transmission.file_name is not None
        target = self.directory / transmission.file_name
        try:
            write_atomically(target, rendered.content)
        except OSError as exc:
            error = f"could not write {target}: {exc}"
            self._fail(db, clock, ids, error)
            failed.update(dict.fromkeys(ids, error))
            return
        now = clock()
        with db.write() as conn:
            conn.execute(
                update(Transmission)
                .where(Transmission.id == tid)
                .values(
                    written_at=now,
                    record_count=rendered.record_count,
                    sha256=hashlib.sha256(rendered.content).hexdigest(),
                )
            )
            conn.execute(
                update(Posting)
                .where(Posting.payment_id.in_(ids), Posting.status != "posted")
                .values(**posted_now(now))
            )
        posted.extend(ids)

    def _fail(self, db: Database, clock: Clock, ids: list[str], error: str) -> None:
        from hub.posting.poster import backoff

        now = clock()
        with db.write() as conn:
            for pid in ids:
                attempts = conn.execute(
                    select(Posting.attempts).where(Posting.payment_id == pid)
                ).scalar_one()
                conn.execute(
                    update(Posting)
                    .where(Posting.payment_id == pid, Posting.status != "posted")
                    .values(
                        status="failed",
                        last_error=error[:2000],
                        updated_at=now,
                        next_attempt_at=now + backoff(int(attempts)),
                    )
                )

    def _forget(self, db: Database, clock: Clock, tid: int, ids: list[str], error: str) -> None:
        """A file that can not be written in its layout is dropped whole (nothing of it
        was written); its payments wait, failed, for a new file."""
        self._fail(db, clock, ids, error)
        with db.write() as conn:
            conn.execute(
                delete(TransmissionPayment).where(TransmissionPayment.transmission_id == tid)
            )
            conn.execute(update(Posting).where(Posting.payment_id.in_(ids)).values(reference=None))
            conn.execute(delete(Transmission).where(Transmission.id == tid))


def _payment_ids(conn: Connection, tid: int) -> list[str]:
    return [
        str(pid)
        for pid in conn.execute(
            select(TransmissionPayment.payment_id)
            .where(TransmissionPayment.transmission_id == tid)
            .order_by(TransmissionPayment.position)
        ).scalars()
    ]


def render_transmission(db: Database, tid: int) -> Rendered:
    """A recorded transmission's file, from the layout, time zone and payments recorded
    with it."""
    with db.read() as conn:
        transmission = conn.execute(
            select(Transmission.__table__).where(Transmission.id == tid)
        ).one_or_none()
        if transmission is None:
            raise NotFound(f"no transmission {tid}")
        rows = conn.execute(
            select(Payment.__table__, TransmissionPayment.account_number.label("written_account"))
            .join(TransmissionPayment, TransmissionPayment.payment_id == Payment.payment_id)
            .where(TransmissionPayment.transmission_id == tid)
            .order_by(TransmissionPayment.position)
        ).all()
    layout = parse(transmission.layout, f"transmission {tid}'s layout", "json")
    zone = ZoneInfo(transmission.time_zone)
    items = [
        Item(
            payment_id=row.payment_id,
            account=row.written_account,
            amount_cents=int(row.amount_cents),
            fee_cents=int(row.fee_cents),
            cash_cents=int(row.cash_cents),
            method=row.method,
            paid_at=_local(datetime.fromisoformat(row.paid_at), zone),
            effective_date=row.effective_date,
            confirmation=row.confirmation,
            kiosk=row.kiosk_id,
            batch=row.batch_id,
            journal_seq=int(row.journal_seq),
            card_brand=row.card_brand,
            card_last4=row.card_last4,
            card_auth_code=row.card_auth_code,
            review=bool(row.review),
        )
        for row in rows
    ]
    return render(layout, tid, _local(transmission.created_at, zone), items)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def rewrite(db: Database, tid: int) -> tuple[str, bytes]:
    """A past file again, byte for byte: (its name, its bytes). Refused if the bytes would
    differ from those written (the hub's records were changed)."""
    with db.read() as conn:
        transmission = conn.execute(
            select(Transmission.__table__).where(Transmission.id == tid)
        ).one_or_none()
    if transmission is None:
        raise NotFound(f"no transmission {tid}")
    if transmission.written_at is None or transmission.file_name is None:
        raise NotFound(f"transmission {tid} has not been written yet")
    rendered = render_transmission(db, tid)
    digest = hashlib.sha256(rendered.content).hexdigest()
    if digest != transmission.sha256:
        raise HubError(
            f"transmission {tid} would not come out as written (sha256 {digest}, "
            f"written {transmission.sha256}): its records were changed"
        )
    return transmission.file_name, rendered.content


def write_atomically(target: Path, content: bytes) -> None:
    """``content`` at ``target``, all or nothing (:func:`replace_atomically`). An existing
    file with other bytes is left alone and refused: a billing system may have imported it
    already."""
    if target.exists():
        if target.read_bytes() == content:
            return
        raise OSError(f"{target} exists with other content; not overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(target, content)


def replace_atomically(target: Path, content: bytes, prefix: str = ".transmission-") -> None:
    """A temporary file beside ``target``, fsync'd, renamed over it, the directory fsync'd:
    a reader, or the machine after a power cut, sees the old file or the new one, never a
    part of it."""
    handle, temp = tempfile.mkstemp(prefix=prefix, dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as tmp:
            tmp.write(content)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
