"""Alerts: what the hub refused or could not read, kept for finance and technicians.

A kiosk retries a refused push with backoff, so the same conflict arrives again and again;
it is recorded once, with a ``count`` and the time it was last seen, rather than flooding
the table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from hub.models import Alert


def record(
    conn: Connection,
    kiosk_id: str,
    kind: str,
    reason: str,
    now: datetime,
    *,
    seq: int | None = None,
    expected_seq: int | None = None,
    received_hash: str | None = None,
    stored_hash: str | None = None,
) -> None:
    """Record an alert, or count one more sighting of the same open alert."""
    same = conn.execute(
        select(Alert.id).where(
            Alert.kiosk_id == kiosk_id,
            Alert.kind == kind,
            Alert.seq == seq if seq is not None else Alert.seq.is_(None),
            Alert.received_hash == received_hash
            if received_hash is not None
            else Alert.received_hash.is_(None),
            Alert.resolved_at.is_(None),
        )
    ).scalar()
    if same is not None:
        conn.execute(
            update(Alert)
            .where(Alert.id == same)
            .values(count=Alert.count + 1, last_seen_at=now, expected_seq=expected_seq)
        )
        return
    conn.execute(
        insert(Alert).values(
            kiosk_id=kiosk_id,
            kind=kind,
            seq=seq,
            expected_seq=expected_seq,
            reason=reason,
            received_hash=received_hash,
            stored_hash=stored_hash,
            first_seen_at=now,
            last_seen_at=now,
            count=1,
        )
    )
