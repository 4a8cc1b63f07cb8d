"""The technicians every kiosk lets into service mode, as ``kiosk-hub technicians`` keeps them.

The hub stores the argon2id hash of each PIN (``contract.pins``: the kiosk refuses the same
weak PINs), never the PIN, and sends the active technicians with every kiosk's settings. A
change here is a change to what every kiosk pulls, so it raises every kiosk's settings
version in the same transaction: the kiosks notice at their next settings pull.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from contract.pins import PinRejected, hash_pin
from contract.wire import MAX_TECHNICIANS, WireTechnician
from hub.db import Database
from hub.errors import AlreadyExists, Invalid, NotFound
from hub.models import Kiosk, TechnicianRow

#: printable, no leading or trailing space: what a person can type again to name the same one
NAME = re.compile(r"^\S(?:[^\x00-\x1f\x7f]{0,62}\S)?$")
#: what a badge barcode carries: visible ASCII, no spaces (a scanner line)
BADGE = re.compile(r"^[!-~]{1,64}$")


@dataclass(frozen=True)
class Technician:
    """A technician as ``technicians list`` shows one: everything but the PIN's hash."""

    name: str
    badge: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


def _check_name(name: str) -> str:
    if not NAME.match(name):
        raise Invalid(
            f"{name!r} can not name a technician: 1-64 printable characters, "
            "not starting or ending with a space"
        )
    return name


def _check_badge(badge: str | None) -> str | None:
    if badge is not None and not BADGE.match(badge):
        raise Invalid(
            f"{badge!r} can not be a badge code: 1-64 letters, digits or punctuation, no spaces"
        )
    return badge


def _hash(pin: str) -> str:
    try:
        return hash_pin(pin)
    except PinRejected as exc:
        raise Invalid(f"PIN refused: {exc}") from None


def _bump_every_kiosk(conn: Connection) -> None:
    """Every kiosk's settings change: lock the rows in one order (two changes at once must
    not deadlock), then raise each version by one."""
    conn.execute(select(Kiosk.id).order_by(Kiosk.id).with_for_update(key_share=True)).all()
    conn.execute(update(Kiosk).values(settings_version=Kiosk.settings_version + 1))


def _active(conn: Connection, name: str) -> bool | None:
    """Whether the technician is active; None when the hub never had one of that name."""
    found = conn.execute(select(TechnicianRow.active).where(TechnicianRow.name == name)).first()
    return None if found is None else bool(found.active)


def _badge_free(conn: Connection, badge: str | None, name: str) -> None:
    if badge is None:
        return
    holder = conn.execute(
        select(TechnicianRow.name).where(TechnicianRow.badge == badge, TechnicianRow.name != name)
    ).scalar()
    if holder is not None:
        raise AlreadyExists(f"badge {badge!r} already belongs to {holder}")


def add(db: Database, name: str, pin: str, badge: str | None, now: datetime) -> None:
    """Add a technician, or bring back one who was removed (with this PIN and badge)."""
    _check_name(name)
    _check_badge(badge)
    pin_hash = _hash(pin)
    with db.write() as conn:
        existing = _active(conn, name)
        if existing:
            raise AlreadyExists(
                f"technician {name!r} already exists; `kiosk-hub technicians pin` changes the PIN"
            )
        _badge_free(conn, badge, name)
        count = conn.execute(
            select(func.count()).where(TechnicianRow.active.is_(True))
        ).scalar_one()
        if count >= MAX_TECHNICIANS:
            raise Invalid(f"a kiosk takes at most {MAX_TECHNICIANS} technicians; remove one")
        values = {"pin_hash": pin_hash, "badge": badge, "active": True, "updated_at": now}
        if existing is None:
            conn.execute(insert(TechnicianRow).values(name=name, created_at=now, **values))
        else:
            conn.execute(update(TechnicianRow).where(TechnicianRow.name == name).values(**values))
        _bump_every_kiosk(conn)


def _must_be_active(conn: Connection, name: str) -> None:
    active = _active(conn, name)
    if not active:
        state = "no technician" if active is None else "no active technician"
        raise NotFound(f"{state} named {name!r} (`kiosk-hub technicians list`)")


def remove(db: Database, name: str, now: datetime) -> None:
    """Take a technician off every kiosk; their badge code is free for someone else."""
    with db.write() as conn:
        _must_be_active(conn, name)
        conn.execute(
            update(TechnicianRow)
            .where(TechnicianRow.name == name)
            .values(active=False, badge=None, updated_at=now)
        )
        _bump_every_kiosk(conn)


def set_pin(db: Database, name: str, pin: str, now: datetime) -> None:
    """Give an active technician a new PIN; the old one stops working at each kiosk's next
    settings pull."""
    pin_hash = _hash(pin)
    with db.write() as conn:
        _must_be_active(conn, name)
        conn.execute(
            update(TechnicianRow)
            .where(TechnicianRow.name == name)
            .values(pin_hash=pin_hash, updated_at=now)
        )
        _bump_every_kiosk(conn)


def listing(db: Database) -> list[Technician]:
    """Every technician, removed ones too, by name; without the PIN hashes."""
    with db.read() as conn:
        rows = conn.execute(
            select(
                TechnicianRow.name,
                TechnicianRow.badge,
                TechnicianRow.active,
                TechnicianRow.created_at,
                TechnicianRow.updated_at,
            ).order_by(TechnicianRow.name)
        ).all()
    return [Technician(r.name, r.badge, r.active, r.created_at, r.updated_at) for r in rows]


def for_kiosks(conn: Connection) -> list[WireTechnician]:
    """The active technicians as the settings carry them, in name order (so the same list
    always compares equal on the kiosk)."""
    rows = conn.execute(
        select(TechnicianRow.name, TechnicianRow.pin_hash, TechnicianRow.badge)
        .where(TechnicianRow.active.is_(True))
        .order_by(TechnicianRow.name)
    ).all()
    return [WireTechnician(name=r.name, pin_hash=r.pin_hash, badge=r.badge or "") for r in rows]
