"""Alerts: what the hub refused or could not read, and device faults a kiosk reported, kept
for finance and technicians.

A kiosk retries a refused push with backoff, so the same conflict arrives again and again;
it is recorded once, with a ``count`` and the time it was last seen, rather than flooding
the table.

A device fault is one alert per device while it lasts (kind :data:`DEVICE_FAULT`): a new
fault of a device already faulted updates that alert's reason and count, and the device's
``device.recovered`` resolves it. Its ``first_seen_at`` and ``resolved_at`` are the kiosk's
times of the fault and the recovery (when they happened, however late they reached the hub);
``last_seen_at`` is when the hub last heard of it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Connection, insert, select, update

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
    """Record an alert, or count one more sighting of the same open alert (which then says
    what its latest sighting said)."""
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
            .values(
                count=Alert.count + 1, last_seen_at=now, expected_seq=expected_seq, reason=reason
            )
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


DEVICE_FAULT = "device_fault"


def _open_fault(kiosk_id: str, device: str | None) -> list[ColumnElement[bool]]:
    where = [Alert.kiosk_id == kiosk_id, Alert.kind == DEVICE_FAULT, Alert.resolved_at.is_(None)]
    if device is not None:
        where.append(Alert.device == device)
    return where


def device_fault(
    conn: Connection,
    kiosk_id: str,
    device: str,
    reason: str,
    seq: int,
    since: datetime,
    now: datetime,
) -> None:
    """A device of ``kiosk_id`` is faulted since ``since`` (the kiosk's time of entry ``seq``)."""
    same = conn.execute(select(Alert.id).where(*_open_fault(kiosk_id, device))).scalar()
    if same is not None:
        conn.execute(
            update(Alert)
            .where(Alert.id == same)
            .values(reason=reason, seq=seq, count=Alert.count + 1, last_seen_at=now)
        )
        return
    conn.execute(
        insert(Alert).values(
            kiosk_id=kiosk_id,
            kind=DEVICE_FAULT,
            device=device,
            seq=seq,
            reason=reason,
            first_seen_at=since,
            last_seen_at=now,
            count=1,
        )
    )


def device_recovered(
    conn: Connection, kiosk_id: str, device: str | None, at: datetime, now: datetime
) -> None:
    """Resolve the open fault of ``device`` (of every device when None) as of ``at``."""
    conn.execute(
        update(Alert).where(*_open_fault(kiosk_id, device)).values(resolved_at=at, last_seen_at=now)
    )


CLOCK_OFF = "clock_off"
#: a kiosk clock further than this from the hub's is flagged: its receipts and the times in
#: its journal are off by as much (the signature window, 300 s, refuses it altogether)
CLOCK_OFF_S = 60


def kiosk_clock(conn: Connection, kiosk_id: str, offset_s: int, now: datetime) -> None:
    """Flag a kiosk whose clock is off (one open alert while it lasts, counted at each
    request), and resolve the flag once a request shows it right again."""
    open_alert = [Alert.kiosk_id == kiosk_id, Alert.kind == CLOCK_OFF, Alert.resolved_at.is_(None)]
    if abs(offset_s) <= CLOCK_OFF_S:
        conn.execute(update(Alert).where(*open_alert).values(resolved_at=now, last_seen_at=now))
        return
    ahead = "ahead of" if offset_s > 0 else "behind"
    reason = (
        f"the kiosk's clock is {abs(offset_s)} s {ahead} the hub's (more than {CLOCK_OFF_S} s): "
        "its receipts and journal times are off by as much; check its time sync (NTP)"
    )
    record(conn, kiosk_id, CLOCK_OFF, reason, now)  # one open alert, its latest offset
