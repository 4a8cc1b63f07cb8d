"""What a kiosk said about collecting a batch's cash box, read from its replicated journal.

The projections keep a batch's totals but not who emptied the box, the bag's seal or the card
terminal's end of day: those are in the kiosk's ``collection.started``,
``collection.completed`` and ``batch.closed`` entries, which the hub stores verbatim. A kiosk
from before collections (or a batch closed another way) has only ``batch.closed``; every
field here that it can not tell is ``None``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, select

from contract import entries as E
from contract import payloads
from hub.models import JournalEntry


@dataclass(frozen=True)
class Collection:
    """Who collected a batch, when, into which bag, and how the card terminal settled."""

    collected_at: str | None  # the kiosk's UTC time of ``collection.started``
    technician: str | None
    seal_number: str | None
    cashbox_id: str | None
    slip_number: int | None
    rejected_bills: int | None
    closed_by: str | None  # ``batch.closed``'s ``by``
    terminal_ok: bool | None  # None: the close ran no end of day
    terminal_count: int | None
    terminal_cents: int | None
    agreed: bool | None
    # from ``collection.completed``: when the slip was made and the kiosk's own totals
    completed_at: str | None = None
    cash_cents: int | None = None
    card_cents: int | None = None
    card_count: int | None = None


NONE = Collection(None, None, None, None, None, None, None, None, None, None, None)


def collections_of(conn: Connection, kiosk_id: str) -> dict[str, Collection]:
    """Every collected batch of a kiosk, by batch id."""
    started: dict[str, tuple[str, payloads.CollectionStarted]] = {}
    completed: dict[str, tuple[str, payloads.CollectionCompleted]] = {}
    closed: dict[str, payloads.BatchClosed] = {}
    rows = conn.execute(
        select(JournalEntry.type, JournalEntry.at, JournalEntry.payload)
        .where(
            JournalEntry.kiosk_id == kiosk_id,
            JournalEntry.type.in_((E.COLLECTION_STARTED, E.COLLECTION_COMPLETED, E.BATCH_CLOSED)),
        )
        .order_by(JournalEntry.seq)
    )
    for type_, at, text in rows:
        try:
            entry = payloads.parse(type_, json.loads(text))
        except (payloads.PayloadError, ValueError):
            continue  # the projections raised an alert for it when it arrived
        if isinstance(entry, payloads.CollectionStarted):
            started[entry.batch_id] = (at, entry)
        elif isinstance(entry, payloads.CollectionCompleted):
            completed[entry.batch_id] = (at, entry)
        elif isinstance(entry, payloads.BatchClosed):
            closed[entry.batch_id] = entry
    return {
        batch_id: _collection(started.get(batch_id), completed.get(batch_id), closed.get(batch_id))
        for batch_id in set(started) | set(completed) | set(closed)
    }


def _collection(
    start: tuple[str, payloads.CollectionStarted] | None,
    end: tuple[str, payloads.CollectionCompleted] | None,
    closed: payloads.BatchClosed | None,
) -> Collection:
    at, began = start if start is not None else (None, None)
    done_at, done = end if end is not None else (None, None)
    terminal: tuple[bool | None, int | None, int | None, bool | None]
    if done is not None:
        terminal = (done.terminal_ok, done.terminal_count, done.terminal_cents, done.agreed)
    elif closed is not None and closed.terminal_ok is not None:
        terminal = (closed.terminal_ok, None, closed.terminal_card_cents, closed.card_matches)
    else:
        terminal = (None, None, None, None)
    return Collection(
        collected_at=at,
        technician=None if began is None else began.technician,
        seal_number=None if began is None else began.seal_number,
        cashbox_id=None if began is None else began.cashbox_id,
        slip_number=None if began is None else began.slip_number,
        rejected_bills=None if done is None else done.rejected_bills,
        closed_by=None if closed is None else closed.by,
        terminal_ok=terminal[0],
        terminal_count=terminal[1],
        terminal_cents=terminal[2],
        agreed=terminal[3],
        completed_at=done_at,
        cash_cents=None if done is None else done.cash_cents,
        card_cents=None if done is None else done.card_cents,
        card_count=None if done is None else done.card_count,
    )
