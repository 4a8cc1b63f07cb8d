"""Console sessions: a random token in a cookie, its sha256 in ``staff_sessions``.

A session ends when its person signs out, when it has been idle for 15 minutes (PCI DSS
8.2.8), or when the account is disabled or given a new password or TOTP secret. Each
request that finds the session alive moves ``last_seen_at`` on.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update

from hub.db import Database
from hub.models import StaffSession, StaffUser
from hub.staff import audit

IDLE = timedelta(minutes=15)


@dataclass(frozen=True)
class NewSession:
    """What the browser is given: the token (only here, never stored) and the CSRF token."""

    token: str
    csrf_token: str
    name: str
    role: str


@dataclass(frozen=True)
class SignedIn:
    """The person behind a request."""

    user_id: int
    name: str
    role: str
    csrf_token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(conn: Connection, user_id: int, name: str, role: str, now: datetime) -> NewSession:
    # sessions nobody came back to are dead already; clear them out as new ones start
    conn.execute(delete(StaffSession).where(StaffSession.last_seen_at <= now - IDLE))
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    conn.execute(
        insert(StaffSession).values(
            token_hash=token_hash(token),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            csrf_token=csrf_token,
        )
    )
    return NewSession(token, csrf_token, name, role)


def current(db: Database, token: str | None, now: datetime) -> SignedIn | None:
    """Who holds ``token``, if the session is alive; an idle one is ended (and audited)."""
    if not token or len(token) > 128:
        return None
    key = token_hash(token)
    with db.write() as conn:
        row = conn.execute(
            select(
                StaffSession.user_id,
                StaffSession.last_seen_at,
                StaffSession.csrf_token,
                StaffUser.name,
                StaffUser.role,
                StaffUser.disabled,
            )
            .join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(StaffSession.token_hash == key)
        ).one_or_none()
        if row is None:
            return None
        if row.disabled or now - row.last_seen_at >= IDLE:
            conn.execute(delete(StaffSession).where(StaffSession.token_hash == key))
            if not row.disabled:
                audit.record(
                    conn, now, row.name, "signout.idle", row.name, detail="15 minutes idle"
                )
            return None
        conn.execute(
            update(StaffSession).where(StaffSession.token_hash == key).values(last_seen_at=now)
        )
        return SignedIn(int(row.user_id), row.name, row.role, row.csrf_token)


def end(db: Database, token: str, now: datetime) -> None:
    """Sign out: the session row goes, so the cookie is worth nothing even if kept."""
    key = token_hash(token)
    with db.write() as conn:
        name = conn.execute(
            select(StaffUser.name)
            .join(StaffSession, StaffSession.user_id == StaffUser.id)
            .where(StaffSession.token_hash == key)
        ).scalar()
        if name is None:
            return
        conn.execute(delete(StaffSession).where(StaffSession.token_hash == key))
        audit.record(conn, now, name, "signout", name)
