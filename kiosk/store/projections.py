"""Projections: the tables the kiosk reads instead of scanning the journal.

Each journal entry is applied by :func:`apply_entry`, inside the transaction that appends it,
and :meth:`Journal.rebuild_projections` replays every entry through the same function, so a
rebuilt database equals an incrementally built one by construction.

Projections record facts, they do not police them: a journal entry is something that
happened (a bill reached the cash box, the terminal approved a sale) and must never be
refused because a table disagrees. So a second ``bill.stacked`` for the same bill, or a
second ``payment.completed`` for the same payment, is kept in the journal and counted once
(the first wins), and a card outcome for an unknown reference creates the row. Each entry
arrives as its payload's model (``contract.payloads``), read once by the journal when it
checks the payload, so an append validates its payload once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.dialects.sqlite import insert

from contract import entries as e
from contract import payloads
from kiosk.store.models import PROJECTION_TABLES, Base, Batch, Bill, CardAuthorisation, Payment

_CARD_STATUS = {
    e.CARD_SALE_REQUESTED: "requested",
    e.CARD_SALE_APPROVED: "approved",
    e.CARD_SALE_DECLINED: "declined",
    e.CARD_SALE_CANCELLED: "cancelled",
    e.CARD_SALE_IN_DOUBT: "in_doubt",
    e.CARD_REVERSED: "reversed",
    e.CARD_REVERSAL_FAILED: "reversal_failed",
}
#: statuses in which the resident's card has been charged: these count in a batch's card total
CHARGED = frozenset({"approved", "reversal_failed"})


class ProjectionError(ValueError):
    """A payload the projections can not use (a missing or mistyped field)."""


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    payment_id: str
    session_id: str
    confirmation: str
    account_number: str
    method: str
    amount_cents: int
    fee_cents: int
    cash_cents: int
    paid_at: str
    review: bool
    batch_id: str
    journal_seq: int


@dataclass(frozen=True, slots=True)
class BillRecord:
    bill_id: str
    session_id: str
    denomination_cents: int
    stacked_at: str
    journal_seq: int
    batch_id: str
    recovered: bool


@dataclass(frozen=True, slots=True)
class CardAuthorisationRecord:
    reference: str
    session_id: str
    total_cents: int
    fee_cents: int
    status: str
    auth_code: str | None
    brand: str | None
    last4: str | None
    terminal_ref: str | None
    updated_seq: int


@dataclass(frozen=True, slots=True)
class BatchRecord:
    batch_id: str
    opened_at: str
    opened_seq: int
    closed_at: str | None
    closed_seq: int | None
    cash_cents: int
    bill_count: int
    card_cents: int
    card_count: int
    payment_count: int

    @property
    def is_open(self) -> bool:
        return self.closed_seq is None


# ------------------------------------------------------------------------- payload fields

# ---------------------------------------------------------------------------- batches
# Statements are built once and executed with parameters: an append runs several of them,
# and building them afresh each time cost more than SQLite itself.

_batches = Base.metadata.tables["batches"]
_bills = Base.metadata.tables["bills"]
_payments = Base.metadata.tables["payments"]
_cards = Base.metadata.tables["card_authorisations"]
_state = Base.metadata.tables["projection_state"]
_intents = Base.metadata.tables["open_intents"]
_session_entries = Base.metadata.tables["open_session_entries"]

_OPEN_BATCH = select(_batches.c.batch_id).where(_batches.c.closed_seq.is_(None))
_NEW_BATCH = insert(_batches).values(
    closed_at=None, cash_cents=0, bill_count=0, card_cents=0, card_count=0, payment_count=0
)
_ADD_TO_BATCH = (
    update(_batches)
    .where(_batches.c.batch_id == bindparam("b_batch"))
    .values(
        cash_cents=_batches.c.cash_cents + bindparam("d_cash_cents"),
        bill_count=_batches.c.bill_count + bindparam("d_bill_count"),
        card_cents=_batches.c.card_cents + bindparam("d_card_cents"),
        card_count=_batches.c.card_count + bindparam("d_card_count"),
        payment_count=_batches.c.payment_count + bindparam("d_payment_count"),
    )
)
_CLOSE_BATCH = (
    update(_batches)
    .where(_batches.c.batch_id == bindparam("b_batch"))
    .values(closed_at=bindparam("b_at"), closed_seq=bindparam("b_seq"))
)
_NEW_BILL = insert(_bills).on_conflict_do_nothing()
_NEW_PAYMENT = insert(_payments).on_conflict_do_nothing()
_CARD = select(_cards.c.status, _cards.c.total_cents).where(
    _cards.c.reference == bindparam("b_ref")
)
_NEW_INTENT = insert(_intents)
_INTENT_TYPE = select(_intents.c.type).where(_intents.c.seq == bindparam("b_seq"))
_SETTLE = delete(_intents).where(_intents.c.seq == bindparam("b_seq"))
_OUTCOMES = frozenset(t for ts in e.INTENT_OUTCOMES.values() for t in ts) | {e.RECOVERY_RESOLVED}
_NEW_SESSION_ENTRY = insert(_session_entries)
_SESSION_OPEN = (
    select(_session_entries.c.seq)
    .where(_session_entries.c.session_id == bindparam("b_session"))
    .limit(1)
)
_END_SESSION = delete(_session_entries).where(
    _session_entries.c.session_id == bindparam("b_session")
)
_APPLIED = select(_state.c.applied_seq).where(_state.c.id == 1)
_SET_APPLIED = (
    insert(_state)
    .values(id=1, applied_seq=bindparam("seq"))
    .on_conflict_do_update(index_elements=["id"], set_={"applied_seq": bindparam("seq")})
)


def batch_id_for(opened_seq: int) -> str:
    """Batch ids are derived from where the batch starts, so a replay gives the same ids."""
    return f"B{opened_seq:06d}"


def current_batch_id(conn: Connection) -> str | None:
    return conn.execute(_OPEN_BATCH).scalar()


def next_batch_id(conn: Connection, next_seq: int) -> str:
    """The id of the batch the entry at ``next_seq`` will belong to."""
    return current_batch_id(conn) or batch_id_for(next_seq)


def _ensure_batch(conn: Connection, seq: int, at: str) -> str:
    batch_id = current_batch_id(conn)
    if batch_id is None:
        batch_id = batch_id_for(seq)
        conn.execute(_NEW_BATCH, {"batch_id": batch_id, "opened_at": at, "opened_seq": seq})
    return batch_id


def _add_to_batch(
    conn: Connection,
    batch_id: str,
    *,
    cash_cents: int = 0,
    bill_count: int = 0,
    card_cents: int = 0,
    card_count: int = 0,
    payment_count: int = 0,
) -> None:
    deltas = (cash_cents, bill_count, card_cents, card_count, payment_count)
    if any(deltas):
        names = ("cash_cents", "bill_count", "card_cents", "card_count", "payment_count")
        params: dict[str, Any] = {f"d_{n}": d for n, d in zip(names, deltas, strict=True)}
        conn.execute(_ADD_TO_BATCH, params | {"b_batch": batch_id})


# ---------------------------------------------------------------------------- apply


def apply_entry(conn: Connection, seq: int, at: str, payload: payloads.Payload) -> None:
    """Apply one entry, its payload already read as its model (the journal checked it);
    every entry belongs to the batch open when it is written."""
    batch_id = _ensure_batch(conn, seq, at)
    _open_work(conn, seq, payload)
    if isinstance(payload, payloads.BillStacked):
        _bill_stacked(conn, seq, at, batch_id, payload)
    elif isinstance(payload, payloads.PaymentCompleted):
        _payment_completed(conn, seq, batch_id, payload)
    elif payload.TYPE in _CARD_STATUS:
        _card(conn, seq, batch_id, payload)
    elif isinstance(payload, payloads.BatchClosed):
        conn.execute(_CLOSE_BATCH, {"b_batch": batch_id, "b_at": at, "b_seq": seq})


def _open_work(conn: Connection, seq: int, payload: payloads.Payload) -> None:
    """Keep :class:`~kiosk.store.models.OpenIntent` and
    :class:`~kiosk.store.models.OpenSessionEntry` up to date: what recovery must read."""
    kind = payload.TYPE
    settles = getattr(payload, "intent_seq", None)
    if kind in _OUTCOMES and type(settles) is int and settles < seq:
        intent_type = conn.execute(_INTENT_TYPE, {"b_seq": settles}).scalar()
        if intent_type is not None and (
            kind == e.RECOVERY_RESOLVED or kind in e.INTENT_OUTCOMES[intent_type]
        ):
            conn.execute(_SETTLE, {"b_seq": settles})
    if kind in e.INTENT_OUTCOMES:
        conn.execute(_NEW_INTENT, {"seq": seq, "type": kind})
    session_id = getattr(payload, "session_id", None)
    if not isinstance(session_id, str) or not session_id:
        return
    if kind == e.SESSION_ENDED:
        conn.execute(_END_SESSION, {"b_session": session_id})
    elif (
        kind == e.SESSION_STARTED
        or conn.execute(_SESSION_OPEN, {"b_session": session_id}).first() is not None
    ):
        conn.execute(_NEW_SESSION_ENTRY, {"seq": seq, "session_id": session_id})


def _bill_stacked(
    conn: Connection, seq: int, at: str, batch_id: str, m: payloads.BillStacked
) -> None:
    row = {
        "bill_id": m.bill_id,
        "session_id": m.session_id or "",
        "denomination_cents": m.denomination_cents,
        "stacked_at": at,
        "journal_seq": seq,
        "batch_id": batch_id,
        "recovered": m.recovered,
    }
    if conn.execute(_NEW_BILL, row).rowcount:
        _add_to_batch(conn, batch_id, cash_cents=m.denomination_cents, bill_count=1)


def _payment_completed(
    conn: Connection, seq: int, batch_id: str, m: payloads.PaymentCompleted
) -> None:
    row = {
        "payment_id": m.payment_id,
        "session_id": m.session_id,
        "confirmation": m.confirmation,
        "account_number": m.account_number,
        "method": m.method,
        "amount_cents": m.amount_cents,
        "fee_cents": m.fee_cents,
        "cash_cents": m.cash_cents,
        "paid_at": m.paid_at,
        "review": m.review,
        "batch_id": batch_id,
        "journal_seq": seq,
    }
    if conn.execute(_NEW_PAYMENT, row).rowcount:
        _add_to_batch(conn, batch_id, payment_count=1)


def _card(conn: Connection, seq: int, batch_id: str, m: payloads.Payload) -> None:
    """Move a card sale to the status the entry reports; adjust the batch by what that
    changes in the money actually charged (see :data:`CHARGED`)."""
    reference: str = getattr(m, "reference")  # noqa: B009 (every card model has one)
    session_id: str = getattr(m, "session_id", None) or ""
    old = conn.execute(_CARD, {"b_ref": reference}).first()
    values: dict[str, Any] = {"status": _CARD_STATUS[m.TYPE], "updated_seq": seq}
    if isinstance(m, payloads.CardSaleRequested):
        values |= {
            "session_id": m.session_id,
            "total_cents": m.total_cents,
            "fee_cents": m.fee_cents,
            "auth_code": None,
            "brand": None,
            "last4": None,
            "terminal_ref": None,
        }
    elif isinstance(m, payloads.CardSaleApproved):
        values |= {
            "total_cents": m.total_cents,
            "auth_code": m.auth_code,
            "brand": m.brand,
            "last4": m.last4,
            "terminal_ref": m.terminal_ref,
        }
    if old is None:
        row = {
            "reference": reference,
            "session_id": session_id,
            "total_cents": 0,
            "fee_cents": 0,
            "auth_code": None,
            "brand": None,
            "last4": None,
            "terminal_ref": None,
        }
        conn.execute(insert(_cards), row | values)
        old_status, old_total = "", 0
    else:
        conn.execute(update(_cards).where(_cards.c.reference == reference).values(values))
        old_status, old_total = old.status, old.total_cents
    new_total = int(values.get("total_cents", old_total))
    was, now = old_status in CHARGED, values["status"] in CHARGED
    _add_to_batch(
        conn,
        batch_id,
        card_cents=(new_total if now else 0) - (old_total if was else 0),
        card_count=int(now) - int(was),
    )


# ------------------------------------------------------------------------ maintenance


def clear(conn: Connection) -> None:
    for model in PROJECTION_TABLES:
        conn.execute(delete(model))


def applied_seq(conn: Connection) -> int:
    return int(conn.execute(_APPLIED).scalar() or 0)


def set_applied_seq(conn: Connection, seq: int) -> None:
    conn.execute(_SET_APPLIED, {"seq": seq})


# ----------------------------------------------------------------------------- reading


def payments(conn: Connection) -> list[PaymentRecord]:
    rows = conn.execute(select(Payment.__table__).order_by(Payment.journal_seq))
    return [PaymentRecord(**row._mapping) for row in rows]


def bills(conn: Connection) -> list[BillRecord]:
    rows = conn.execute(select(Bill.__table__).order_by(Bill.journal_seq))
    return [BillRecord(**row._mapping) for row in rows]


def card_authorisations(conn: Connection) -> list[CardAuthorisationRecord]:
    rows = conn.execute(
        select(CardAuthorisation.__table__).order_by(
            CardAuthorisation.updated_seq, CardAuthorisation.reference
        )
    )
    return [CardAuthorisationRecord(**row._mapping) for row in rows]


def batches(conn: Connection) -> list[BatchRecord]:
    rows = conn.execute(select(Batch.__table__).order_by(Batch.opened_seq))
    return [BatchRecord(**row._mapping) for row in rows]


def snapshot(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection row, in primary-key order: equal snapshots mean equal projections."""
    dump: dict[str, list[tuple[Any, ...]]] = {}
    for model in PROJECTION_TABLES:
        table = Base.metadata.tables[model.__tablename__]
        rows = conn.execute(select(table).order_by(*table.primary_key.columns))
        dump[table.name] = [tuple(row) for row in rows]
    dump["projection_state"] = [(applied_seq(conn),)]
    return dump
