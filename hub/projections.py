"""The hub's projections of each kiosk's journal: payments, bills, card sales, batches,
device status and what the kiosk last said about itself.

They are applied entry by entry, in seq order, inside the ingest transaction that stores the
entries, so a payment is never visible without the entry that proves it (nor the reverse).
The rules mirror the kiosk's own projections (docs/journal.md): batches open at seq 1 and
after each ``batch.closed``, ids come from where they open, card totals are net of
reversals, a duplicate ``bill.stacked`` or ``payment.completed`` is counted once.

Projections record facts, they do not police them: an entry whose hash is right is stored
whatever its payload says. A payload the projections can not read raises
:class:`ProjectionError` *before* anything is written for it; ingest keeps the entry and
raises an alert instead, so finance sees it and nothing half-applied is left behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select, update

from contract.wire import canonical_json
from hub.db import Database
from hub.models import Base, Batch, CardSale, DeviceStatus, Posting

PAYMENT_COMPLETED = "payment.completed"
BILL_STACKED = "bill.stacked"
BATCH_CLOSED = "batch.closed"
KIOSK_STARTED = "kiosk.started"
OUT_OF_SERVICE = "kiosk.out_of_service"
IN_SERVICE = "kiosk.in_service"
DEVICE_FAULT = "device.fault"
DEVICE_NOTICE = "device.notice"
CARD_STATUS = {
    "card.sale.requested": "requested",
    "card.sale.approved": "approved",
    "card.sale.declined": "declined",
    "card.sale.cancelled": "cancelled",
    "card.sale.in_doubt": "in_doubt",
    "card.reversed": "reversed",
    "card.reversal.failed": "reversal_failed",
}
#: statuses in which the resident's card was charged: these count in a batch's card total
CHARGED = frozenset({"approved", "reversal_failed"})
_MAX_CENTS = 10**12
_PAYMENTS = Base.metadata.tables["payments"]
_BILLS = Base.metadata.tables["bills"]


class ProjectionError(ValueError):
    """A payload field the projections need is missing, mistyped or out of range."""


# ------------------------------------------------------------------------- payload fields


def _text(payload: Mapping[str, Any], key: str, limit: int) -> str:
    value = payload.get(key)
    if not isinstance(value, str):
        raise ProjectionError(f"payload field {key!r} must be text, got {value!r}"[:300])
    return _checked_text(key, value, limit)


def _opt_text(payload: Mapping[str, Any], key: str, limit: int) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProjectionError(f"payload field {key!r} must be text or null, got {value!r}"[:300])
    return _checked_text(key, value, limit)


def _checked_text(key: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise ProjectionError(f"payload field {key!r} is longer than {limit} characters")
    if "\x00" in value:
        raise ProjectionError(f"payload field {key!r} contains a NUL character")
    return value


def _cents(payload: Mapping[str, Any], key: str) -> int:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > _MAX_CENTS:
        raise ProjectionError(f"payload field {key!r} must be integer cents, got {value!r}"[:300])
    return value


def _flag(payload: Mapping[str, Any], key: str) -> bool:
    value = payload.get(key, False)
    if not isinstance(value, bool):
        raise ProjectionError(f"payload field {key!r} must be true or false, got {value!r}"[:300])
    return value


def _paid_at(payload: Mapping[str, Any], zone: ZoneInfo) -> tuple[str, date]:
    text = _text(payload, "paid_at", 40)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ProjectionError(f"paid_at {text!r} is not an ISO-8601 time") from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ProjectionError(f"paid_at {text!r} has no time zone")
    return text, moment.astimezone(zone).date()


def _bills(payload: Mapping[str, Any]) -> str:
    value = payload.get("bills") or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
        for k, v in value.items()
    ):
        raise ProjectionError("payload field 'bills' must map denominations to counts")
    return canonical_json(value)


# ----------------------------------------------------------------------------- context


@dataclass
class KioskReport:
    """What the entries of one push said about the kiosk itself (applied once, at the end)."""

    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Projector:
    """Applies one kiosk's entries inside one ingest transaction.

    Remembers the kiosk's open batch between entries, so a push of 500 entries looks it up
    once rather than 500 times.
    """

    db: Database
    conn: Connection
    kiosk_id: str
    zone: ZoneInfo
    now: datetime
    report: KioskReport = field(default_factory=KioskReport)
    new_payments: list[str] = field(default_factory=list)
    _open_batch: str | None = None
    _batch_known: bool = False

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
        if not any(deltas.values()):
            return
        values = {name: getattr(Batch, name) + delta for name, delta in deltas.items()}
        self.conn.execute(
            update(Batch)
            .where(Batch.kiosk_id == self.kiosk_id, Batch.batch_id == batch_id)
            .values(values)
        )

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
        card = payload.get("card")
        if card is not None and not isinstance(card, dict):
            raise ProjectionError("payload field 'card' must be an object or null")
        card = card or {}
        last4 = _opt_text(card, "last4", 4)
        paid_at, effective = _paid_at(payload, p.zone)
        return {
            "payment_id": _text(payload, "payment_id", 64),
            "session_id": _text(payload, "session_id", 64),
            "confirmation": _text(payload, "confirmation", 64),
            "account_number": _text(payload, "account_number", 64),
            "method": _text(payload, "method", 16),
            "amount_cents": _cents(payload, "amount_cents"),
            "fee_cents": _cents(payload, "fee_cents"),
            "cash_cents": _cents(payload, "cash_cents"),
            "bills": _bills(payload),
            "card_reference": _opt_text(card, "reference", 64),
            "card_brand": _opt_text(card, "brand", 32),
            "card_last4": last4,
            "card_auth_code": _opt_text(card, "auth_code", 32),
            "card_terminal_ref": _opt_text(card, "terminal_ref", 64),
            "paid_at": paid_at,
            "effective_date": effective,
            "review": _flag(payload, "review"),
            "recovered": _flag(payload, "recovered"),
        }

    def write(self, p: Projector, seq: int, at: str, batch_id: str, parsed: Any) -> None:
        row = dict(parsed) | {
            "kiosk_id": p.kiosk_id,
            "batch_id": batch_id,
            "journal_seq": seq,
            "received_at": p.now,
        }
        if not p.conn.execute(p.db.insert_ignore(_PAYMENTS, row)).rowcount:
            return  # the same payment journaled twice: counted once, the first wins
        p.conn.execute(
            insert(Posting).values(
                payment_id=row["payment_id"],
                kiosk_id=p.kiosk_id,
                status="pending",
                attempts=0,
                created_at=p.now,
                updated_at=p.now,
                next_attempt_at=p.now,
            )
        )
        p.new_payments.append(row["payment_id"])
        p.add_to_batch(batch_id, payment_count=1, payment_cents=row["amount_cents"])


class _BillStacked(_Handler):
    def parse(self, payload: Mapping[str, Any], p: Projector) -> dict[str, Any]:
        return {
            "bill_id": _text(payload, "bill_id", 64),
            "denomination_cents": _cents(payload, "denomination_cents"),
            "recovered": _flag(payload, "recovered"),
        }

    def write(self, p: Projector, seq: int, at: str, batch_id: str, parsed: Any) -> None:
        row = dict(parsed) | {
            "kiosk_id": p.kiosk_id,
            "batch_id": batch_id,
            "journal_seq": seq,
            "stacked_at": at,
        }
        if p.conn.execute(p.db.insert_ignore(_BILLS, row)).rowcount:
            p.add_to_batch(batch_id, cash_cents=row["denomination_cents"], bill_count=1)


class _Card(_Handler):
    """Moves a card sale to the status the entry reports; the batch changes by what that
    changes in money actually charged (see :data:`CHARGED`)."""

    def __init__(self, type_: str) -> None:
        self.type = type_
        self.status = CARD_STATUS[type_]

    def parse(self, payload: Mapping[str, Any], p: Projector) -> dict[str, Any]:
        values: dict[str, Any] = {
            "reference": _text(payload, "reference", 64),
            "status": self.status,
        }
        session_id = payload.get("session_id")
        values["session_id"] = (
            _checked_text("session_id", session_id, 64) if isinstance(session_id, str) else ""
        )
        if self.status == "requested":
            values |= {
                "total_cents": _cents(payload, "total_cents"),
                "fee_cents": _cents(payload, "fee_cents"),
            }
        elif self.status == "approved":
            values |= {
                "total_cents": _cents(payload, "total_cents"),
                "auth_code": _opt_text(payload, "auth_code", 32),
                "brand": _opt_text(payload, "brand", 32),
                "last4": _opt_text(payload, "last4", 4),
                "terminal_ref": _opt_text(payload, "terminal_ref", 64),
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
        # Lenient on purpose: a batch boundary must never be lost over its reason's text.
        reason = payload.get("reason")
        return reason[:255].replace("\x00", "") if isinstance(reason, str) else None

    def write(self, p: Projector, seq: int, at: str, batch_id: str, parsed: Any) -> None:
        p.close_batch(batch_id, seq, at, parsed)


class _KioskState(_Handler):
    """``kiosk.started`` / ``kiosk.out_of_service`` / ``kiosk.in_service``: kiosk health."""

    def __init__(self, type_: str) -> None:
        self.type = type_

    def parse(self, payload: Mapping[str, Any], p: Projector) -> dict[str, Any]:
        if self.type == KIOSK_STARTED:
            return {"software_version": _opt_text(payload, "version", 64)}
        if self.type == OUT_OF_SERVICE:
            reason = _opt_text(payload, "reason", 500) or ""
            return {"reported_out_of_service": True, "reported_reason": reason}
        return {"reported_out_of_service": False, "reported_reason": ""}

    def write(self, p: Projector, seq: int, at: str, batch_id: str, parsed: Any) -> None:
        p.report.values.update(parsed)


class _Device(_Handler):
    """``device.fault`` / ``device.notice``: the last of each, per device."""

    def __init__(self, type_: str) -> None:
        self.type = type_

    def parse(self, payload: Mapping[str, Any], p: Projector) -> dict[str, Any]:
        device = _text(payload, "device", 64)
        if self.type == DEVICE_FAULT:
            return {"device": device, "fault_reason": _opt_text(payload, "reason", 500) or ""}
        return {
            "device": device,
            "notice_kind": _opt_text(payload, "kind", 64) or "",
            "notice_detail": _opt_text(payload, "detail", 500) or "",
        }

    def write(self, p: Projector, seq: int, at: str, batch_id: str, parsed: Any) -> None:
        values = dict(parsed)
        device = values.pop("device")
        prefix = "fault" if self.type == DEVICE_FAULT else "notice"
        values |= {f"{prefix}_seq": seq, f"{prefix}_at": at}
        where = (DeviceStatus.kiosk_id == p.kiosk_id, DeviceStatus.device == device)
        if not p.conn.execute(update(DeviceStatus).where(*where).values(values)).rowcount:
            p.conn.execute(
                insert(DeviceStatus).values({"kiosk_id": p.kiosk_id, "device": device} | values)
            )


_HANDLERS: dict[str, _Handler] = {
    PAYMENT_COMPLETED: _PaymentCompleted(),
    BILL_STACKED: _BillStacked(),
    BATCH_CLOSED: _BatchClosed(),
    KIOSK_STARTED: _KioskState(KIOSK_STARTED),
    OUT_OF_SERVICE: _KioskState(OUT_OF_SERVICE),
    IN_SERVICE: _KioskState(IN_SERVICE),
    DEVICE_FAULT: _Device(DEVICE_FAULT),
    DEVICE_NOTICE: _Device(DEVICE_NOTICE),
} | {type_: _Card(type_) for type_ in CARD_STATUS}
