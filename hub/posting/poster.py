"""Delivering pending postings through an adapter, exactly once per payment.

Each posting is worked in three steps, so that nothing is ever held in a process's memory
that the database does not know:

1. *claim*: one ``UPDATE … WHERE status <> 'posted' AND (unclaimed OR claim expired)``
   stamps a claim token and a lease, counts the attempt and fixes the adapter's reference.
   Two processes (or the background loop and ``kiosk-hub post``) can not both win. A
   posting the hub holds for a clerk (``held``) is never claimed, whoever asks for it.
2. *deliver* through the adapter, outside any transaction (an HTTP call may be slow).
3. *finish*: in one transaction, mark it ``posted`` only if the claim is still ours, and
   run the adapter's ``apply`` (the ledger's balance change) in that same transaction. On a
   :class:`PostingError` it is marked ``failed`` with the reason, and becomes due again
   after a backoff that grows with the attempts (30 s, 1 min, 2 min … at most 1 h).

:meth:`Poster.run` works through many postings a few dozen at a time: one claim for them
all, then each delivered, then one transaction that marks them all posted and applies
each. If one of them can not be finished (its claim was lost, the adapter refuses it),
that transaction is rolled back and each is finished in a savepoint of its own, so one
payment's failure leaves the others posted. Deliveries that take half the lease (a billing
system timing out) stop there, and the claims not worked on yet are given up and taken
again, so no claim runs out while it waits its turn. A payment is posted exactly as above, under
its claim, marked once; only the transactions are shared.

Payments a push brought are posted right after it (:meth:`Poster.post_new`), by one thread
of the process at a time: while one posts, the pushes that come meanwhile leave their
payments to it and return, so a fleet pushing at once does not have every request thread
queue for the ledger's lock. Nothing is held only in memory: a payment not posted yet is
``pending`` in the database, where the background retry finds it.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Update, or_, select, update

from hub.clock import Clock
from hub.db import Database
from hub.models import Payment, Posting
from hub.posting.base import (
    PaymentToPost,
    PostingAdapter,
    PostingError,
    UnknownAccount,
    posted_now,
)
from hub.posting.files import FileAdapter

log = logging.getLogger(__name__)

Outcome = Literal["posted", "failed", "skipped"]
_MAX_BACKOFF = timedelta(hours=1)
#: postings the background loop works on by itself
RETRIED = ("pending", "failed")
#: postings claimed, delivered and finished together: on SQLite every transaction is an
#: fsync, so as many as a push brings; on PostgreSQL a few dozen, because the ledger takes a
#: new catalog version for each payment, and a row updated over and over in one transaction
#: gets slower to update each time there
CHUNK = {"sqlite": 100, "postgresql": 25}


@dataclass
class PostReport:
    posted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


class _LostClaim(Exception):
    """Our lease ran out and another process took the posting over."""


class _OneByOne(Exception):
    """Postings finished together could not all be: finish each on its own."""


def backoff(attempts: int) -> timedelta:
    seconds = 30 * 2 ** min(max(attempts - 1, 0), 16)
    return min(timedelta(seconds=seconds), _MAX_BACKOFF)


class Poster:
    def __init__(
        self,
        db: Database,
        adapter: PostingAdapter,
        clock: Clock,
        lease: timedelta = timedelta(minutes=5),
    ) -> None:
        self.db = db
        self.adapter = adapter
        self.clock = clock
        self.lease = lease
        self._new: list[str] = []  # payments pushes brought, waiting for the posting thread
        self._new_lock = threading.Lock()
        self._posting_new = False

    def due(self, *, include_waiting: bool = False, limit: int = 1000) -> list[str]:
        """Postings to work on: pending and failed ones whose backoff has passed (or all of
        them with ``include_waiting``), oldest first."""
        # a payment in suspense waits for a clerk; a staff member's explicit run (the
        # ``post`` command, after an import of accounts, say) tries it again too
        statuses = (*RETRIED, "suspense") if include_waiting else RETRIED
        query = select(Posting.payment_id).where(
            Posting.status.in_(statuses), Posting.held.is_(False)
        )
        if not include_waiting:
            query = query.where(Posting.next_attempt_at <= self.clock())
        with self.db.read() as conn:
            return [
                str(pid)
                for pid in conn.execute(
                    query.order_by(Posting.created_at, Posting.payment_id).limit(limit)
                ).scalars()
            ]

    def run(
        self, payment_ids: Iterable[str] | None = None, *, include_waiting: bool = False
    ) -> PostReport:
        """Post the given payments, or every due one."""
        if isinstance(self.adapter, FileAdapter):
            posted, failed, skipped = self.adapter.transmit(
                self.db, self.clock, payment_ids, include_waiting=include_waiting
            )
            return PostReport(posted, failed, skipped)
        report = PostReport()
        ids = list(
            self.due(include_waiting=include_waiting) if payment_ids is None else payment_ids
        )
        size = CHUNK[self.db.dialect]
        while ids:
            chunk, ids = ids[:size], ids[size:]
            ids = self._post_chunk(chunk, report) + ids
        return report

    def post_new(self, payment_ids: Iterable[str]) -> None:
        """Post payments a push just brought. If another thread of this process is posting
        such payments already, leave them to it and return at once; otherwise post them,
        and what other pushes leave meanwhile, until there is nothing left."""
        with self._new_lock:
            self._new.extend(payment_ids)
            if self._posting_new:
                return
            self._posting_new = True
        try:
            while True:
                with self._new_lock:
                    ids, self._new = self._new, []
                    if not ids:
                        self._posting_new = False
                        return
                try:
                    self.run(ids)
                except Exception:  # they stay pending: the background retry posts them
                    log.exception("posting new payments failed")
        except BaseException:
            with self._new_lock:
                self._posting_new = False
            raise

    def _post_chunk(self, payment_ids: list[str], report: PostReport) -> list[str]:
        """Claim, deliver and finish a :data:`CHUNK` of postings together. Deliveries that
        have taken half the lease stop there (a slow billing system must not outlast the
        claims of the payments still to go): those are released, and returned to be
        claimed again."""
        token, claimed = self._claim_many(payment_ids)
        mine = {payment_id for payment_id, _, _ in claimed}
        report.skipped.extend(pid for pid in payment_ids if pid not in mine)
        delivered: list[tuple[str, PaymentToPost, str | None]] = []
        failures: dict[str, Exception] = {}
        started, budget = time.monotonic(), self.lease.total_seconds() / 2
        released: list[str] = []
        for index, (payment_id, payment, reference) in enumerate(claimed):
            if index and time.monotonic() - started > budget:
                released = [pid for pid, _, _ in claimed[index:]]
                self._release(released, token)
                break
            try:
                theirs = self.adapter.deliver(payment, reference)
            except Exception as exc:  # the adapter's failure, or anything unforeseen in it
                failures[payment_id] = exc
                continue
            delivered.append((payment_id, payment, reference if theirs is None else theirs[:255]))
        posted: list[str] = []
        lost: list[str] = []
        if delivered:
            now = self.clock()
            try:
                posted = self._finish_together(delivered, token, now)
            except _OneByOne:
                posted, lost = self._finish_each(delivered, token, now, failures)
        for payment_id in lost:
            log.warning(
                "posting %s: lease expired while delivering; left to its new owner", payment_id
            )
        report.skipped.extend(lost)
        report.posted.extend(posted)
        for payment_id, why in failures.items():
            report.failed[payment_id] = self._failed(payment_id, token, why)
        return released

    def _release(self, payment_ids: list[str], token: str) -> None:
        """Give up claims not worked on: as if they had never been taken."""
        with self.db.write() as conn:
            conn.execute(
                update(Posting)
                .where(Posting.payment_id.in_(payment_ids), Posting.claim_token == token)
                .values(claim_token=None, claimed_until=None, attempts=Posting.attempts - 1)
            )

    def _finish_together(
        self, delivered: list[tuple[str, PaymentToPost, str | None]], token: str, now: datetime
    ) -> list[str]:
        """Mark them all posted in one statement and apply each, in one transaction; if
        any of them can not be (a claim lost, the adapter refusing one), nothing is, and
        :class:`_OneByOne` says to finish them one by one instead."""
        references = {reference for _, _, reference in delivered}
        if len(references) != 1:
            raise _OneByOne
        ids = [payment_id for payment_id, _, _ in delivered]
        try:
            with self.db.write() as conn:
                marked = conn.execute(
                    _mark_posted(Posting.payment_id.in_(ids), token, references.pop(), now)
                ).rowcount
                if marked != len(ids):
                    raise _OneByOne
                for _, payment, _ in delivered:
                    self.adapter.apply(conn, payment, now)
        except Exception as exc:  # rolled back: each is tried on its own
            raise _OneByOne from exc
        return ids

    def _finish_each(
        self,
        delivered: list[tuple[str, PaymentToPost, str | None]],
        token: str,
        now: datetime,
        failures: dict[str, Exception],
    ) -> tuple[list[str], list[str]]:
        """Finish each in a savepoint of its own: (posted, lost); failures go in
        ``failures``."""
        posted: list[str] = []
        lost: list[str] = []
        try:
            with self.db.write() as conn:
                for payment_id, payment, reference in delivered:
                    try:
                        with conn.begin_nested():
                            self._finish(conn, payment_id, token, payment, reference, now)
                    except _LostClaim:
                        lost.append(payment_id)
                    except Exception as problem:
                        failures[payment_id] = problem
                    else:
                        posted.append(payment_id)
        except Exception as problem:  # the commit failed: none of them is posted
            failures |= dict.fromkeys((pid for pid, _, _ in delivered), problem)
            return [], []
        return posted, lost

    def post_one(self, payment_id: str) -> tuple[Outcome, str]:
        if isinstance(self.adapter, FileAdapter):
            report = self.run([payment_id])
            if payment_id in report.posted:
                return "posted", ""
            if payment_id in report.failed:
                return "failed", report.failed[payment_id]
            return "skipped", ""
        claimed = self._claim(payment_id)
        if claimed is None:
            return "skipped", ""
        token, payment, reference = claimed
        try:
            theirs = self.adapter.deliver(payment, reference)
            now = self.clock()
            with self.db.write() as conn:
                self._finish(
                    conn,
                    payment_id,
                    token,
                    payment,
                    reference if theirs is None else theirs[:255],
                    now,
                )
        except _LostClaim:
            log.warning(
                "posting %s: lease expired while delivering; left to its new owner", payment_id
            )
            return "skipped", ""
        except Exception as exc:  # the adapter's failure, or anything unforeseen in it
            return "failed", self._failed(payment_id, token, exc)
        return "posted", ""

    def _finish(
        self,
        conn: Connection,
        payment_id: str,
        token: str,
        payment: PaymentToPost,
        reference: str | None,
        now: datetime,
    ) -> None:
        """Mark it posted if our claim still holds (else :class:`_LostClaim`), and apply."""
        marked = conn.execute(
            _mark_posted(Posting.payment_id == payment_id, token, reference, now)
        ).rowcount
        if marked != 1:
            raise _LostClaim
        self.adapter.apply(conn, payment, now)

    def _failed(self, payment_id: str, token: str, exc: Exception) -> str:
        """Record a failed delivery or finish; the reason."""
        error = str(exc) if isinstance(exc, PostingError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, PostingError):
            log.error("posting %s failed unexpectedly", payment_id, exc_info=exc)
        self._fail(payment_id, token, error, suspense=isinstance(exc, UnknownAccount))
        return error

    def _claim(self, payment_id: str) -> tuple[str, PaymentToPost, str | None] | None:
        token, claimed = self._claim_many([payment_id])
        if not claimed:
            return None
        _, payment, reference = claimed[0]
        return token, payment, reference

    def _claim_many(
        self, payment_ids: list[str]
    ) -> tuple[str, list[tuple[str, PaymentToPost, str | None]]]:
        """Claim those of ``payment_ids`` nobody holds, in one ``UPDATE``: (the claim's
        token, each claimed payment with the reference to deliver it under), in the order
        given."""
        token = str(uuid.uuid4())
        now = self.clock()
        claimed: dict[str, tuple[str, PaymentToPost, str | None]] = {}
        with self.db.write() as conn:
            won = conn.execute(
                update(Posting)
                .where(
                    Posting.payment_id.in_(payment_ids),
                    Posting.status != "posted",
                    Posting.held.is_(False),  # only a clerk's resolve releases it
                    or_(Posting.claimed_until.is_(None), Posting.claimed_until < now),
                )
                .values(
                    claim_token=token,
                    claimed_until=now + self.lease,
                    attempts=Posting.attempts + 1,
                    adapter=self.adapter.name,
                    updated_at=now,
                )
            ).rowcount
            if not won:
                return token, []
            rows = conn.execute(
                select(Payment.__table__, Posting.reference, Posting.assigned_account)
                .join(Posting, Posting.payment_id == Payment.payment_id)
                .where(Posting.payment_id.in_(payment_ids), Posting.claim_token == token)
            ).all()
            for row in rows:
                payment = _to_post(row._mapping)
                if row.assigned_account is not None:  # a clerk resolved it from suspense
                    payment = replace(payment, account_number=row.assigned_account)
                reference: str | None = row.reference
                if reference is None:
                    reference = self.adapter.reference_for(payment, now)
                    if reference is not None:
                        conn.execute(
                            update(Posting)
                            .where(Posting.payment_id == payment.payment_id)
                            .values(reference=reference)
                        )
                claimed[payment.payment_id] = (payment.payment_id, payment, reference)
        return token, [claimed[pid] for pid in dict.fromkeys(payment_ids) if pid in claimed]

    def _fail(self, payment_id: str, token: str, error: str, suspense: bool = False) -> None:
        """Failed: retried after a backoff; or, for an account the billing system does not
        know, held in suspense until a clerk assigns the right one (never retried alone)."""
        now = self.clock()
        with self.db.write() as conn:
            attempts = conn.execute(
                select(Posting.attempts).where(Posting.payment_id == payment_id)
            ).scalar_one()
            conn.execute(
                update(Posting)
                .where(Posting.payment_id == payment_id, Posting.claim_token == token)
                .values(
                    status="suspense" if suspense else "failed",
                    last_error=error[:2000],
                    updated_at=now,
                    next_attempt_at=now + backoff(int(attempts)),
                    claim_token=None,
                    claimed_until=None,
                )
            )


def _mark_posted(
    which: ColumnElement[bool], token: str, reference: str | None, now: datetime
) -> Update:
    """Mark postings posted, those of ``which`` whose claim is still ``token``'s."""
    return (
        update(Posting)
        .where(which, Posting.claim_token == token, Posting.status != "posted")
        .values(**posted_now(now), reference=reference)
    )


def _to_post(row: Any) -> PaymentToPost:
    names = PaymentToPost.__dataclass_fields__
    return PaymentToPost(**{name: row[name] for name in names})
