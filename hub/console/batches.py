"""Each kiosk's batches with what finance needs first: open or collected, and by whom.

The batch totals come from the ``batches`` projection; who collected a batch, when, the
bag's seal number and the terminal's end of day from :func:`hub.collections.collections_of`,
the one reader of the kiosks' collection entries (finance and the exports use it too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub import queries
from hub.collections import Collection, collections_of
from hub.db import Database
from hub.schemas import BatchView

Status = Literal["open", "closed", "collecting", "collected"]


@dataclass(frozen=True)
class BatchRow:
    batch: BatchView
    status: Status
    collection: Collection | None  # None: no technician's collection (yet)


def rows(db: Database, kiosk_id: str | None = None) -> list[BatchRow]:
    """Every batch, newest first within each kiosk, with its status."""
    batches = queries.batches(db, kiosk_id, limit=5000)
    with db.read() as conn:
        collected = {k: collections_of(conn, k) for k in {b.kiosk_id for b in batches}}
    out = []
    for batch in batches:
        collection = collected[batch.kiosk_id].get(batch.batch_id)
        status: Status
        if collection is not None and collection.collected_at is not None:
            status = "collected" if collection.completed_at is not None else "collecting"
        else:
            collection = None
            status = "open" if batch.closed_seq is None else "closed"
        out.append(BatchRow(batch, status, collection))
    out.sort(key=lambda r: (r.batch.kiosk_id, -r.batch.opened_seq))
    return out
