"""The hub's projections of each kiosk's journal: payments, bills, card sales, batches,
device status (with an alert per open device fault) and what the kiosk last said about
itself.

They are applied entry by entry, in seq order, inside the ingest transaction that stores the
entries, so a payment is never visible without the entry that proves it (nor the reverse).
What is written most often (payments, bills, postings, batch totals) is held back and
written once for the whole push, at its end (:meth:`Projector.flush`), in seq order and in
the same transaction, with the same outcome as entry by entry.
The rules mirror the kiosk's own projections (docs/journal.md): batches open at seq 1 and
after each ``batch.closed``, ids come from where they open, card totals are net of
reversals, a duplicate ``bill.stacked`` or ``payment.completed`` is counted once.

Every payload is read through its entry type's model in ``contract.payloads``, the same one
the kiosk wrote it with; ingest has already refused a push whose payloads do not match
(422). Should a stored payload still not read (an entry kept from before that check), the
handler raises :class:`ProjectionError` *before* anything is written for it; ingest keeps
the entry and raises an alert instead, so finance sees it and nothing half-applied is left.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, or_, select, update

from contract import entries as E
from contract import payloads
from contract.wire import canonical_json
from hub import alerts
from hub.db import Database
from hub.models import Base, Batch, CardSale, DeviceStatus, Posting

PAYMENT_COMPLETED = E.PAYMENT_COMPLETED
BILL_STACKED = E.BILL_STACKED
BATCH_CLOSED = E.BATCH_CLOSED
KIOSK_STARTED = E.KIOSK_STARTED
OUT_OF_SERVICE = E.OUT_OF_SERVICE
IN_SERVICE = E.IN_SERVICE
DEVICE_FAULT = E.DEVICE_FAULT
DEVICE_NOTICE = E.DEVICE_NOTICE
DEVICE_RECOVERED = E.DEVICE_RECOVERED
CARD_STATUS = {
    E.CARD_SALE_REQUESTED: "requested",
    E.CARD_SALE_APPROVED: "approved",
    E.CARD_SALE_DECLINED: "declined",
    E.CARD_SALE_CANCELLED: "cancelled",
    E.CARD_SALE_IN_DOUBT: "in_doubt",
    E.CARD_REVERSED: "reversed",
    E.CARD_REVERSAL_FAILED: "reversal_failed",
}
#: statuses in which the resident's card was charged: these count in a batch's card total
CHARGED = frozenset({"approved", "reversal_failed"})
_PAYMENTS = Base.metadata.tables["payments"]
_BILLS = Base.metadata.tables["bills"]


class ProjectionError(ValueError):
    """A payload the projections can not read: it does not match its entry type's model."""


M = TypeVar("M", bound=payloads.Payload)


def _read(model: type[M], payload: Mapping[str, Any]) -> M:
    try:
        return payloads.read(model, payload)
    except payloads.PayloadError as exc:
        raise ProjectionError(str(exc)[:500]) from None


# ----------------------------------------------------------------------------- context


@dataclass
class KioskReport:
    """What the entries of one push said about the kiosk itself (applied once, at the end)."""

    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Projector:
    """Applies one kiosk's entries inside one ingest transaction.

    Remembers the kiosk's open batch between entries, so a push of 500 entries looks it up
    once rather than 500 times; holds back the bills, the postings and the batches' totals
    until :meth:`flush`, so a push writes each of them in one statement rather than one per
    entry.
    """

    db: Database
    conn: Connection
    kiosk_id: str
    zone: ZoneInfo
    now: datetime
    #: the most a payment of this kiosk may credit (max payment + max overpayment), as the
    #: hub's settings for it stand; a payment over it is kept and counted, its posting held
    payment_ceiling: int | None = None
    report: KioskReport = field(default_factory=KioskReport)
    new_payments: list[str] = field(default_factory=list)
    _open_batch: str | None = None
    _batch_known: bool = False
    #: what the entries so far add to each batch's totals, written by :meth:`flush`
    _deltas: dict[str, dict[str, int]] = field(default_factory=dict)
    #: bills stacked in the entries so far, in seq order, stored by :meth:`flush`
    _bills: list[dict[str, Any]] = field(default_factory=list)
    #: payments so far (seq, batch, row), stored by :meth:`flush`
    _payments: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    #: postings of the payments stored, written by :meth:`flush`
    _postings: list[dict[str, Any]] = field(default_factory=list)

    def apply(self, seq: int, at: str, type_: str, payload: Mapping[str, Any]) -> None:
        """Apply one entry; every entry belongs to the batch open when it was written."""
        handler = _HANDLERS.get(type_)
        try:
            parsed = handler.parse(payload, self) if handler is not None else None
        except ProjectionError:
            self._ensure_batch(seq, at)  # batch boundaries must stay the kiosk's
            raise
        batch_id = self._ensure_batch(seq, at)
        if handler is not None:
            handler.write(self, seq, at, batch_id, parsed)

    # ---------------------------------------------------------------------- batches

    def _ensure_batch(self, seq: int, at: str) -> str:
        if not self._batch_known:
            self._open_batch = self.conn.execute(
                select(Batch.batch_id).where(
                    Batch.kiosk_id == self.kiosk_id, Batch.closed_seq.is_(None)
                )
            ).scalar()
            self._batch_known = True
        if self._open_batch is None:
            self._open_batch = f"B{seq:06d}"
            self.conn.execute(
                insert(Batch).values(
                    kiosk_id=self.kiosk_id,
                    batch_id=self._open_batch,
                    opened_seq=seq,
                    opened_at=at,
                    cash_cents=0,
                    bill_count=0,
                    card_cents=0,
                    card_count=0,
                    payment_count=0,
                    payment_cents=0,
                )
            )
        return self._open_batch

    def add_to_batch(self, batch_id: str, **deltas: int) -> None:
        """Count ``deltas`` into a batch's totals (written by :meth:`flush`)."""
        totals = self._deltas.setdefault(batch_id, {})
        for name, delta in deltas.items():
            totals[name] = totals.get(name, 0) + delta

    def flush(self) -> None:
        """Write what the entries applied so far hold back for one statement each: the
        payments, the bills (those not stored already, each counted in its batch), the
        postings, and each batch's totals. Ingest calls it once, after the push's last
        entry."""
        _store_payments(self)
        self._store_bills()
        if self._postings:
            self.conn.execute(insert(Posting), self._postings)
            self._postings = []
        for batch_id, deltas in self._deltas.items():
            values = {name: getattr(Batch, name) + delta for name, delta in deltas.items() if delta}
            if values:
                self.conn.execute(
                    update(Batch)
                    .where(Batch.kiosk_id == self.kiosk_id, Batch.batch_id == batch_id)
                    .values(values)
                )
        self._deltas = {}

    def _store_bills(self) -> None:
        """A bill the kiosk journaled twice (here, or in an earlier push) counts once, in
        the batch of its first ``bill.stacked``. The kiosk's row is locked for the push, so
        no other transaction stores this kiosk's bills meanwhile."""
        if not self._bills:
            return
        first: dict[str, dict[str, Any]] = {}
        for row in self._bills:
            first.setdefault(row["bill_id"], row)
        self._bills = []
        ids = list(first)
        stored = set()
        for at in range(0, len(ids), 500):
            stored |= set(
                self.conn.execute(
                    select(_BILLS.c.bill_id).where(
                        _BILLS.c.kiosk_id == self.kiosk_id, _BILLS.c.bill_id.in_(ids[at : at + 500])
                    )
                ).scalars()
            )
        new = [row for bill_id, row in first.items() if bill_id not in stored]
        if not new:
            return
        self.conn.execute(insert(_BILLS), new)
        for row in new:
            self.add_to_batch(row["batch_id"], cash_cents=row["denomination_cents"], bill_count=1)

    def close_batch(self, batch_id: str, seq: int, at: str, reason: str | None) -> None:
        self.conn.execute(
            update(Batch)
            .where(Batch.kiosk_id == self.kiosk_id, Batch.batch_id == batch_id)
            .values(closed_seq=seq, closed_at=at, close_reason=reason)
        )
        self._open_batch = None


# ---------------------------------------------------------------------------- handlers


class _Handler:
    """Reads a payload completely (``parse``) before writing anything (``write``)."""

    def parse(self, payload: Mapping[str, Any], p: Projector) -> Any:
        return payload

    def write(self, p: Projector, seq: int, at: str, batch_id: str, parsed: Any) -> None:
        raise NotImplementedError


class _PaymentCompleted(_Handler):
    def parse(self, payload: Mapping[str, Any], p: Projector) -> dict[str, Any]:
        m = _read(payloads.PaymentCompleted, payload)
        card = m.card
        return {
            "payment_id": m.payment_id,
            "session_id": m.session_id,
            "confirmation": m.confirmation,
            "account_number": m.account_number,
            "method": m.method,
            "amount_cents": m.amount_cents,
            "fee_cents": m.fee_cents,
            "cash_cents": m.cash_cents,
            "bills": canonical_json(m.bills),
            "card_reference": card.reference if card else None,
            "card_brand": card.brand if card else None,
            "card_last4": card.last4 if card else None,
            "card_auth_code": card.auth_code if card else None,
            "card_terminal_ref": card.terminal_ref if card else None,
            "paid_at": m.paid_at,
            "effective_date": datetime.fromisoformat(m.paid_at).astimezone(p.zone).date(),
            "review": m.review,
            "recovered": m.recovered,
        }

    def write(self, p: Projector, seq: int, at: str, batch_id: str, parsed: Any) -> None:
        row = dict(parsed) | {
            "kiosk_id": p.kiosk_id,
            "batch_id": batch_id,
            "journal_seq": seq,
            "received_at": p.now,
        }
        p._payments.append((seq, batch_id, row))


def _store_payments(p: Projector) -> None:
    """Store the payments of a push, in seq order: those whose id is new in one statement,
    then each of the others on its own (:func:`_store_payment`)."""
    pending, p._payments = p._payments, []
    if not pending:
        return
    ids = list(dict.fromkeys(row["payment_id"] for _, _, row in pending))
    known: set[str] = set()
    for at in range(0, len(ids), 500):
        known |= set(
            p.conn.execute(
                select(_PAYMENTS.c.payment_id).where(_PAYMENTS.c.payment_id.in_(ids[at : at + 500]))
            ).scalars()
        )
    fresh: dict[str, dict[str, Any]] = {}
    for _, _, row in pending:
        if row["payment_id"] not in known:
            fresh.setdefault(row["payment_id"], row)
    # another kiosk's push may store one of these ids meanwhile: only what RETURNING names
    # went in, and the rest is decided one by one like a payment stored before
    stored: set[str] = set()
    if fresh:
        statement = p.db.insert_ignore_many(_PAYMENTS).returning(_PAYMENTS.c.payment_id)
        stored = set(p.conn.execute(statement, list(fresh.values())).scalars())
    for seq, batch_id, row in pending:
        if fresh.get(row["payment_id"]) is row and row["payment_id"] in stored:
            _count_payment(p, seq, batch_id, row, "pending", None)
        else:
            _store_payment(p, seq, batch_id, row)


def _store_payment(p: Projector, seq: int, batch_id: str, row: dict[str, Any]) -> None:
    """One payment whose id may be stored already: by this kiosk (the same payment
    journaled twice, counted once), or by another (kept under an id of its own, held)."""
    status, reason = "pending", None
    if not p.conn.execute(p.db.insert_ignore(_PAYMENTS, row)).rowcount:
        holder = p.conn.execute(
            select(_PAYMENTS.c.kiosk_id).where(_PAYMENTS.c.payment_id == row["payment_id"])
        ).scalar()
        if holder == p.kiosk_id:
            return  # the same payment journaled twice: counted once, the first wins
        row, reason = _another_kiosks_id(p, seq, row, str(holder))
        if not p.conn.execute(p.db.insert_ignore(_PAYMENTS, row)).rowcount:
            return  # this duplicate was kept already
        status = "suspense"
    _count_payment(p, seq, batch_id, row, status, reason)


def _count_payment(
    p: Projector, seq: int, batch_id: str, row: dict[str, Any], status: str, reason: str | None
) -> None:
    """A payment just stored: its posting (held if it is over its kiosk's limits), and its
    batch's totals."""
    over = _over_limit(p, seq, batch_id, row)
    if over is not None:
        status, reason = "suspense", over if reason is None else f"{reason}; {over}"
    p._postings.append(
        {
            "payment_id": row["payment_id"],
            "kiosk_id": p.kiosk_id,
            "status": status,
            "held": status == "suspense",  # only a clerk's resolve releases it
            "last_error": reason,
            "attempts": 0,
            "created_at": p.now,
            "updated_at": p.now,
            "next_attempt_at": p.now,
        }
    )
    if status == "pending":
        p.new_payments.append(row["payment_id"])
    p.add_to_batch(batch_id, payment_count=1, payment_cents=row["amount_cents"])


def _another_kiosks_id(
    p: Projector, seq: int, row: dict[str, Any], holder: str
) -> tuple[dict[str, Any], str]:
    """A payment whose id another kiosk's payment already has: kept under an id of its own.

    Two sound kiosks never draw the same uuid, so this is a cloned or broken kiosk, or one
    replaying another's payment. The payment is kept (the money may be in this kiosk's cash
    box) and counts in its batch, under ``dup-`` and a digest of kiosk and payment id, so it
    can never be posted under the other payment's id (the billing system's idempotency key).
    Its posting waits in suspense until a clerk checks it and resolves it; an alert tells
    finance both kiosks and the id.
    """
    original = str(row["payment_id"])
    digest = hashlib.sha256(f"{p.kiosk_id}\n{original}".encode()).hexdigest()[:32]
    reason = (
        f"payment id {original} (entry {seq}) is already kiosk {holder}'s payment: kept as "
        f"dup-{digest}, held in suspense until a clerk checks it and resolves it"
    )
    alerts.record(p.conn, p.kiosk_id, "duplicate_payment", reason, p.now, seq=seq)
    return row | {"payment_id": f"dup-{digest}"}, reason


def _over_limit(p: Projector, seq: int, batch_id: str, row: dict[str, Any]) -> str | None:
    """Why a payment over its kiosk's limits is held, or None when it is within them.

    The kiosk pulls its settings now and then, so a payment taken honestly under the limits
    it had can arrive after staff lowered them; a broken or hostile kiosk may send one too.
    Refusing the entry would stop the kiosk's chain there for good, and the cash is in its
    box either way: the payment is kept and counts in its batch, and its posting waits in
    suspense until a clerk has checked it and resolves it (to its account or another). An
    alert tells finance the entry, the amount and the limit.
    """
    amount, ceiling = int(row["amount_cents"]), p.payment_ceiling
    if ceiling is None or amount <= ceiling:
        return None
    limit = f"the kiosk's limit of {_dollars(ceiling)} at the time it arrived"
    alerts.record(
        p.conn,
        p.kiosk_id,
        "over_limit",
        f"entry {seq}: payment {row['payment_id']} of {_dollars(amount)} is over {limit} "
        f"(max_payment_cents + max_overpayment_cents); kept in batch {batch_id}, its posting "
        "held in suspense until a clerk checks it and resolves it",
        p.now,
        seq=seq,
    )
    return f"over {limit} ({_dollars(amount)}, entry {seq}): held until a clerk checks it"


def _dollars(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


class _BillStacked(_Handler):
    def parse(self, payload: Mapping[str, Any], p: Projector) -> dict[str, Any]:
        m = _read(payloads.BillStacked, payload)
        return {
            "bill_id": m.bill_id,
            "denomination_cents": m.denomination_cents,
            "recovered": m.recovered,
        }

    def write(self, p: Projector, seq: int, at: str, batch_id: str, parsed: Any) -> None:
        p._bills.append(
            dict(parsed)
            | {"kiosk_id": p.kiosk_id, "batch_id": batch_id, "journal_seq": seq, "stacked_at": at}
        )


class _Card(_Handler):
    """Moves a card sale to the status the entry reports; the batch changes by what that
    changes in money actually charged (see :data:`CHARGED`)."""

    def __init__(self, type_: str) -> None:
        self.type = type_
        self.status = CARD_STATUS[type_]

    def parse(self, payload: Mapping[str, Any], p: Projector) -> dict[str, Any]:
        m = _read(payloads.MODELS[self.type], payload)
        values: dict[str, Any] = {
            "reference": getattr(m, "reference"),  # noqa: B009 (every card model has one)
            "status": self.status,
            "session_id": getattr(m, "session_id", None) or "",
        }
        if isinstance(m, payloads.CardSaleRequested):
            values |= {"total_cents": m.total_cents, "fee_cents": m.fee_cents}
        elif isinstance(m, payloads.CardSaleApproved):
            values |= {
                "total_cents": m.total_cents,
                "auth_code": m.auth_code,
                "brand": m.brand,
                "last4": m.last4,
                "terminal_ref": m.terminal_ref,
            }
        return values

    def write(self, p: Projector, seq: int, at: str, batch_id: str, parsed: Any) -> None:
        values = dict(parsed)
        reference = values.pop("reference")
        session_id = values.pop("session_id")
        where = (CardSale.kiosk_id == p.kiosk_id, CardSale.reference == reference)
        old = p.conn.execute(select(CardSale.status, CardSale.total_cents).where(*where)).first()
        values["updated_seq"] = seq
        if old is None:
            p.conn.execute(
                insert(CardSale).values(
                    {
                        "kiosk_id": p.kiosk_id,
                        "reference": reference,
                        "session_id": session_id,
                        "total_cents": 0,
                        "fee_cents": 0,
                    }
                    | values
                )
            )
            old_status, old_total = "", 0
        else:
            if self.status == "requested":
                values["session_id"] = session_id
            p.conn.execute(update(CardSale).where(*where).values(values))
            old_status, old_total = old.status, old.total_cents
        new_total = int(values.get("total_cents", old_total))
        was, now = old_status in CHARGED, self.status in CHARGED
        p.add_to_batch(
            batch_id,
            card_cents=(new_total if now else 0) - (old_total if was else 0),
            card_count=int(now) - int(was),
        )


class _BatchClosed(_Handler):
    def parse(self, payload: Mapping[str, Any], p: Projector) -> str | None:
        # A batch boundary must never be lost over its payload: read leniently.
        try:
            return _read(payloads.BatchClosed, payload).reason
        except ProjectionError:
            return None

    def write(self, p: Projector, seq: int, at: str, batch_id: str, parsed: Any) -> None:
        p.close_batch(batch_id, seq, at, parsed)


class _KioskState(_Handler):
    """``kiosk.started`` / ``kiosk.out_of_service`` / ``kiosk.in_service``: kiosk health."""

    def __init__(self, type_: str) -> None:
        self.type = type_

    def parse(self, payload: Mapping[str, Any], p: Projector) -> dict[str, Any]:
        if self.type == KIOSK_STARTED:
            return {"software_version": _read(payloads.KioskStarted, payload).version}
        if self.type == OUT_OF_SERVICE:
            reason = _read(payloads.OutOfService, payload).reason
            return {"reported_out_of_service": True, "reported_reason": reason}
        _read(payloads.InService, payload)
        return {"reported_out_of_service": False, "reported_reason": ""}

    def write(self, p: Projector, seq: int, at: str, batch_id: str, parsed: Any) -> None:
        p.report.values.update(parsed)
        if self.type == KIOSK_STARTED:
            close_device_faults(p, seq, at)


class _Device(_Handler):
    """``device.fault`` / ``device.notice`` / ``device.recovered``: the last of each, per
    device, and the device's alert, open from a fault until the device recovers.

    A ``device.notice`` of kind ``recovered`` is what kiosks said before ``device.recovered``
    existed: it closes the fault the same way.
    """

    def __init__(self, type_: str) -> None:
        self.type = type_

    def parse(self, payload: Mapping[str, Any], p: Projector) -> dict[str, Any]:
        if self.type == DEVICE_FAULT:
            fault = _read(payloads.DeviceFault, payload)
            return {"device": fault.device, "fault_reason": fault.reason}
        if self.type == DEVICE_RECOVERED:
            return {"device": _read(payloads.DeviceRecovered, payload).device}
        notice = _read(payloads.DeviceNotice, payload)
        return {
            "device": notice.device,
            "notice_kind": notice.kind,
            "notice_detail": notice.detail,
        }

    def write(self, p: Projector, seq: int, at: str, batch_id: str, parsed: Any) -> None:
        values = dict(parsed)
        device = values.pop("device")
        prefix = {DEVICE_FAULT: "fault", DEVICE_RECOVERED: "recovered"}.get(self.type, "notice")
        values |= {f"{prefix}_seq": seq, f"{prefix}_at": at}
        recovered = self.type == DEVICE_RECOVERED or values.get("notice_kind") == "recovered"
        if recovered:
            values |= {"recovered_seq": seq, "recovered_at": at}
        where = (DeviceStatus.kiosk_id == p.kiosk_id, DeviceStatus.device == device)
        if not p.conn.execute(update(DeviceStatus).where(*where).values(values)).rowcount:
            p.conn.execute(
                insert(DeviceStatus).values({"kiosk_id": p.kiosk_id, "device": device} | values)
            )
        moment = datetime.fromisoformat(at)
        if self.type == DEVICE_FAULT:
            alerts.device_fault(
                p.conn, p.kiosk_id, device, values["fault_reason"], seq, moment, p.now
            )
        elif recovered:
            alerts.device_recovered(p.conn, p.kiosk_id, device, moment, p.now)


def close_device_faults(p: Projector, seq: int, at: str) -> None:
    """A kiosk that starts reports again what its devices find at open (each driver's first
    health is compared with OK): faults from before the start are over, or will be reported
    anew in the entries that follow."""
    p.conn.execute(
        update(DeviceStatus)
        .where(
            DeviceStatus.kiosk_id == p.kiosk_id,
            DeviceStatus.fault_seq.is_not(None),
            or_(
                DeviceStatus.recovered_seq.is_(None),
                DeviceStatus.recovered_seq < DeviceStatus.fault_seq,
            ),
        )
        .values(recovered_seq=seq, recovered_at=at)
    )
    alerts.device_recovered(p.conn, p.kiosk_id, None, datetime.fromisoformat(at), p.now)


_HANDLERS: dict[str, _Handler] = {
    PAYMENT_COMPLETED: _PaymentCompleted(),
    BILL_STACKED: _BillStacked(),
    BATCH_CLOSED: _BatchClosed(),
    KIOSK_STARTED: _KioskState(KIOSK_STARTED),
    OUT_OF_SERVICE: _KioskState(OUT_OF_SERVICE),
    IN_SERVICE: _KioskState(IN_SERVICE),
    DEVICE_FAULT: _Device(DEVICE_FAULT),
    DEVICE_NOTICE: _Device(DEVICE_NOTICE),
    DEVICE_RECOVERED: _Device(DEVICE_RECOVERED),
} | {type_: _Card(type_) for type_ in CARD_STATUS}
