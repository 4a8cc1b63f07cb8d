"""Each kiosk's batches with what finance needs first: open or collected, and by whom.

The batch totals come from the ``batches`` projection; who collected a batch, when, the
bag's seal number and the terminal's end of day come from the replicated
``collection.started``/``collection.completed`` entries, read here from the journal replica
(a projection of their own can come when counting needs one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select

from contract import entries as E
from contract import payloads
from hub import queries
from hub.db import Database
from hub.models import JournalEntry
from hub.schemas import BatchView

Status = Literal["open", "closed", "collecting", "collected"]


@dataclass(frozen=True)
class Collection:
    """A cash-box collection as the kiosk recorded it."""

    started_at: str
    technician: str
    cashbox_id: str
    seal_number: str
    slip_number: int
    completed: payloads.CollectionCompleted | None = None
    completed_at: str | None = None


@dataclass(frozen=True)
class BatchRow:
    batch: BatchView
    status: Status
    collection: Collection | None


def _collections(db: Database, kiosk_id: str | None) -> dict[tuple[str, str], Collection]:
    """(kiosk, batch id) -> its collection; a payload that does not read is left out (the
    projections raised an alert for it when it arrived)."""
    query = (
        select(JournalEntry.kiosk_id, JournalEntry.at, JournalEntry.type, JournalEntry.payload)
        .where(JournalEntry.type.in_((E.COLLECTION_STARTED, E.COLLECTION_COMPLETED)))
        .order_by(JournalEntry.kiosk_id, JournalEntry.seq)
    )
    if kiosk_id is not None:
        query = query.where(JournalEntry.kiosk_id == kiosk_id)
    found: dict[tuple[str, str], Collection] = {}
    by_id: dict[tuple[str, str], tuple[str, str]] = {}
    with db.read() as conn:
        rows = conn.execute(query).all()
    for row in rows:
        data: Any = json.loads(row.payload)
        try:
            if row.type == E.COLLECTION_STARTED:
                started = payloads.read(payloads.CollectionStarted, data)
                key = (row.kiosk_id, started.batch_id)
                by_id[(row.kiosk_id, started.collection_id)] = key
                found[key] = Collection(
                    row.at,
                    started.technician,
                    started.cashbox_id,
                    started.seal_number,
                    started.slip_number,
                )
            else:
                completed = payloads.read(payloads.CollectionCompleted, data)
                key = by_id.get((row.kiosk_id, completed.collection_id), ("", ""))
                if key in found:
                    before = found[key]
                    found[key] = Collection(
                        before.started_at,
                        before.technician,
                        before.cashbox_id,
                        before.seal_number,
                        before.slip_number,
                        completed,
                        row.at,
                    )
        except payloads.PayloadError:
            continue
    return found


def rows(db: Database, kiosk_id: str | None = None) -> list[BatchRow]:
    """Every batch, newest first within each kiosk, with its status."""
    collections = _collections(db, kiosk_id)
    out = []
    for batch in queries.batches(db, kiosk_id, limit=5000):
        collection = collections.get((batch.kiosk_id, batch.batch_id))
        status: Status
        if collection is not None:
            status = "collected" if collection.completed is not None else "collecting"
        else:
            status = "open" if batch.closed_seq is None else "closed"
        out.append(BatchRow(batch, status, collection))
    out.sort(key=lambda r: (r.batch.kiosk_id, -r.batch.opened_seq))
    return out
