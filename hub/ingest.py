"""Receiving a kiosk's journal: check the chain, store idempotently, project, acknowledge.

One push is one transaction that first locks the kiosk's row (``FOR NO KEY UPDATE`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so pushes for one kiosk are serialized however
many hub processes receive them; the primary key (kiosk_id, seq) is the last line of
defence, and a push that still trips it is retried from the start, when it will find the
entries stored and compare them.

What a push may contain, given the hub holds entries up to ``acked``:

- entries at or below ``acked`` (re-sent after a lost answer): each must hash to the hash
  the hub stored for that seq. Identical: nothing to do. Different: a conflict, never an
  overwrite;
- then entries from ``acked + 1`` on, each chained to the one before;
- a push that starts after ``acked + 1`` leaves a gap: a conflict.

Every entry's hash is recomputed over its exact ``at`` text and canonical payload, so an
edited entry is caught here even when its claimed hash looks right. Entries before the
first bad one are stored (they are sound and the kiosk need not send them again); the 409
says where the hub stands, and an alert is recorded in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from contract import entries as E
from contract import payloads
from contract.wire import ACCOUNT_NUMBER_PATTERN, Conflict, WireEntry
from hub import alerts, kiosk_config
from hub.db import Database
from hub.errors import Invalid, NotFound
from hub.models import JournalEntry, Kiosk
from hub.projections import ProjectionError, Projector

_RETRIES = 3
_ACCOUNT_NUMBER = re.compile(ACCOUNT_NUMBER_PATTERN)


@dataclass(frozen=True)
class IngestResult:
    acked_seq: int
    acked_hash: str
    stored: int
    conflict: Conflict | None = None
    new_payments: list[str] = field(default_factory=list)


def ingest(
    db: Database,
    kiosk_id: str,
    entries: Sequence[WireEntry],
    now: datetime,
    zone: ZoneInfo,
    head_seq: int | None = None,
) -> IngestResult:
    """Store what can be stored of ``entries`` and say where the kiosk's chain now ends
    (``head_seq``: where the kiosk's own journal ends, as it reported)."""
    for attempt in range(_RETRIES):
        try:
            return _ingest_once(db, kiosk_id, entries, now, zone, head_seq)
        except IntegrityError:
            # Another process stored some of these entries despite the lock (it can only
            # happen if the lock is bypassed); start again and compare with what is there.
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def check_payments(entries: Sequence[WireEntry]) -> None:
    """Refuse (422) a push holding a payment to something that is not an account number.

    Such a number (outside the pattern lookups and the catalog use) would reach the billing
    system's files as it came; no kiosk's engine makes one, so the push is refused before
    anything of it is stored, naming the entry. A payment over the kiosk's limits is *not*
    refused here: the limits may have been lowered after the kiosk took it, and refusing
    an entry of a chain would stop everything after it for good, so the projections hold
    its posting for a clerk instead.
    """
    for entry in entries:
        if entry.type != E.PAYMENT_COMPLETED:
            continue
        payment = payloads.read(payloads.PaymentCompleted, entry.payload)
        if not _ACCOUNT_NUMBER.fullmatch(payment.account_number):
            raise Invalid(
                f"entry seq {entry.seq}: payment {payment.payment_id} names account "
                f"{payment.account_number!r}, which is not an account number "
                "(1-64 letters, digits or dashes)"
            )


def acknowledged(db: Database, kiosk_id: str) -> tuple[int, str]:
    with db.read() as conn:
        row = conn.execute(
            select(Kiosk.acked_seq, Kiosk.acked_hash).where(Kiosk.id == kiosk_id)
        ).first()
    if row is None:
        raise NotFound(f"no kiosk {kiosk_id!r}")
    return int(row.acked_seq), str(row.acked_hash)


def _ingest_once(
    db: Database,
    kiosk_id: str,
    entries: Sequence[WireEntry],
    now: datetime,
    zone: ZoneInfo,
    head_seq: int | None,
) -> IngestResult:
    with db.write() as conn:
        kiosk = conn.execute(
            select(Kiosk.acked_seq, Kiosk.acked_hash, Kiosk.settings)
            .where(Kiosk.id == kiosk_id)
            .with_for_update(key_share=True)
        ).first()
        if kiosk is None:
            raise NotFound(f"no kiosk {kiosk_id!r}")
        acked, acked_hash = int(kiosk.acked_seq), str(kiosk.acked_hash)
        accepted, conflict = _check(conn, kiosk_id, entries, acked, acked_hash)
        # the limits as they are when the payments arrive, read under the kiosk's lock
        limits = kiosk_config.stored_limits(kiosk.settings)
        ceiling = limits.max_payment_cents + limits.max_overpayment_cents
        projector = Projector(db, conn, kiosk_id, zone, now, payment_ceiling=ceiling)
        if accepted:
            _store(conn, kiosk_id, accepted, now)
            for entry in accepted:
                try:
                    projector.apply(entry.seq, entry.at, entry.type, entry.payload)
                except ProjectionError as exc:
                    alerts.record(
                        conn,
                        kiosk_id,
                        "projection",
                        f"entry {entry.seq} ({entry.type}) is stored but could not be "
                        f"projected: {exc}",
                        now,
                        seq=entry.seq,
                        received_hash=entry.hash,
                    )
            projector.flush()
            acked, acked_hash = accepted[-1].seq, accepted[-1].hash
        values: dict[str, object] = {"last_push_at": now} | projector.report.values
        if head_seq is not None:
            values["reported_head_seq"] = head_seq
        if accepted:
            values |= {
                "acked_seq": acked,
                "acked_hash": acked_hash,
                "last_entry_at": accepted[-1].at,
            }
        conn.execute(update(Kiosk).where(Kiosk.id == kiosk_id).values(values))
        if conflict is not None:
            conflict = conflict.model_copy(update={"expected_seq": acked + 1, "acked_seq": acked})
            alerts.record(
                conn,
                kiosk_id,
                conflict.kind,
                conflict.reason,
                now,
                seq=conflict.seq,
                expected_seq=conflict.expected_seq,
                received_hash=_received_hash(entries, conflict.seq),
                stored_hash=_stored_hash(conn, kiosk_id, conflict),
            )
    return IngestResult(acked, acked_hash, len(accepted), conflict, projector.new_payments)


def _check(
    conn: Connection,
    kiosk_id: str,
    entries: Sequence[WireEntry],
    acked: int,
    acked_hash: str,
) -> tuple[list[WireEntry], Conflict | None]:
    """The entries to store (a sound run from ``acked + 1``) and the first problem, if any."""
    first, last = entries[0].seq, entries[-1].seq
    if first > acked + 1:
        missing = (
            f"entry {acked + 1} is"
            if first == acked + 2
            else (f"entries {acked + 1}-{first - 1} are")
        )
        return [], _conflict(
            "gap",
            f"{missing} missing: the hub holds entries up to {acked} and this push starts at "
            f"{first}; send from {acked + 1}",
            first,
            acked,
        )
    stored: dict[int, str] = {}
    if first <= acked:
        stored = {
            int(seq): str(hash_)
            for seq, hash_ in conn.execute(
                select(JournalEntry.seq, JournalEntry.hash).where(
                    JournalEntry.kiosk_id == kiosk_id,
                    JournalEntry.seq >= first,
                    JournalEntry.seq <= min(last, acked),
                )
            )
        }
    accepted: list[WireEntry] = []
    prev = acked_hash
    for entry in entries:
        if entry.computed_hash() != entry.hash:
            return accepted, _conflict(
                "bad_hash",
                f"entry {entry.seq} was edited: its content does not hash to its hash",
                entry.seq,
                acked,
            )
        if entry.seq <= acked:
            if stored.get(entry.seq) != entry.hash:
                return accepted, _conflict(
                    "hash_mismatch",
                    f"entry {entry.seq} differs from the entry {entry.seq} the hub already "
                    "holds (a restored or forked kiosk, or tampering); the hub keeps its copy",
                    entry.seq,
                    acked,
                )
            continue
        if entry.prev_hash != prev:
            return accepted, _conflict(
                "chain_break",
                f"entry {entry.seq} does not follow entry {entry.seq - 1} "
                "(its prev_hash is not the hash of the entry before it)",
                entry.seq,
                acked,
            )
        accepted.append(entry)
        prev = entry.hash
    return accepted, None


def _conflict(kind: str, reason: str, seq: int, acked: int) -> Conflict:
    return Conflict.model_validate(
        {
            "kind": kind,
            "reason": reason,
            "expected_seq": acked + 1,
            "seq": seq,
            "acked_seq": acked,
        }
    )


def stored_row(kiosk_id: str, entry: WireEntry, now: datetime) -> dict[str, object]:
    """An entry as ``journal_entries`` keeps it: verbatim, with when it arrived."""
    return {
        "kiosk_id": kiosk_id,
        "seq": entry.seq,
        "id": entry.id,
        "at": entry.at,
        "type": entry.type,
        "payload": entry.payload_text(),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
        "received_at": now,
    }


def _store(conn: Connection, kiosk_id: str, entries: Sequence[WireEntry], now: datetime) -> None:
    conn.execute(
        insert(JournalEntry),
        [stored_row(kiosk_id, entry, now) for entry in entries],
    )


def _received_hash(entries: Sequence[WireEntry], seq: int | None) -> str | None:
    return next((entry.hash for entry in entries if entry.seq == seq), None)


def _stored_hash(conn: Connection, kiosk_id: str, conflict: Conflict) -> str | None:
    if conflict.seq is None:
        return None
    value = conn.execute(
        select(JournalEntry.hash).where(
            JournalEntry.kiosk_id == kiosk_id, JournalEntry.seq == conflict.seq
        )
    ).scalar()
    return None if value is None else str(value)
