"""Staff accounts as ``kiosk-hub user`` keeps them: add, list, disable, new password, new
TOTP secret. Every change is one transaction with its audit entry; a disabled account, a
new password or a new secret ends the account's open sessions in that transaction too.

A row is never deleted: the name keeps meaning the same person in the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from hub.db import Database
from hub.errors import AlreadyExists, Invalid, NotFound
from hub.models import StaffSession, StaffUser
from hub.staff import audit, passwords, totp
from hub.staff.roles import ROLES

#: what a person types at the sign-in page: letters, digits, dot, dash, underscore, at sign
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True)
class StaffAccount:
    """An account as ``user list`` shows it: never the hash or the secret."""

    name: str
    role: str
    disabled: bool
    locked_until: datetime | None
    created_at: datetime
    updated_at: datetime

    def state(self, now: datetime) -> str:
        """``active``, ``disabled`` or ``locked until …`` (UTC), as the CLI and console say."""
        if self.disabled:
            return "disabled"
        if self.locked_until is not None and self.locked_until > now:
            return f"locked until {self.locked_until:%Y-%m-%d %H:%M} UTC"
        return "active"


@dataclass(frozen=True)
class Enrolled:
    """A new TOTP secret, shown once so the person can put it in an authenticator app."""

    name: str
    secret: str
    uri: str


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise Invalid(
            f"{name!r} can not name a user: 1-64 letters, digits, '.', '_', '-' or '@', "
            "starting with a letter or digit"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise Invalid(f"role {role!r} is not one of {', '.join(ROLES)}")
    return role


def _row(conn: Connection, name: str) -> Row[Any]:
    """The account's row, locked until the transaction ends."""
    found = conn.execute(
        select(StaffUser.__table__).where(StaffUser.name == name).with_for_update()
    ).one_or_none()
    if found is None:
        raise NotFound(f"no user named {name!r} (`kiosk-hub user list`)")
    return found


def _end_sessions(conn: Connection, user_id: int) -> None:
    conn.execute(delete(StaffSession).where(StaffSession.user_id == user_id))


def add(db: Database, name: str, role: str, password: str, now: datetime, actor: str) -> Enrolled:
    """A new account with a fresh TOTP secret (returned, to be shown once)."""
    check_name(name)
    check_role(role)
    passwords.check_new(password, name)
    password_hash = passwords.hash_password(password)
    secret = totp.new_secret()
    with db.write() as conn:
        exists = conn.execute(select(StaffUser.id).where(StaffUser.name == name)).first()
        if exists is not None:
            raise AlreadyExists(f"user {name!r} already exists")
        conn.execute(
            insert(StaffUser).values(
                name=name,
                role=role,
                password_hash=password_hash,
                totp_secret=secret,
                failed_attempts=0,
                disabled=False,
                created_at=now,
                updated_at=now,
            )
        )
        audit.record(conn, now, actor, "user.add", name, after={"role": role})
    return Enrolled(name, secret, totp.uri(secret, name))


def listing(db: Database) -> list[StaffAccount]:
    with db.read() as conn:
        rows = conn.execute(
            select(
                StaffUser.name,
                StaffUser.role,
                StaffUser.disabled,
                StaffUser.locked_until,
                StaffUser.created_at,
                StaffUser.updated_at,
            ).order_by(StaffUser.name)
        ).all()
    return [StaffAccount(*row) for row in rows]


def disable(db: Database, name: str, now: datetime, actor: str) -> None:
    """The account can not sign in any more; its sessions end now."""
    with db.write() as conn:
        user = _row(conn, name)
        if user.disabled:
            raise Invalid(f"user {name!r} is already disabled")
        conn.execute(
            update(StaffUser).where(StaffUser.id == user.id).values(disabled=True, updated_at=now)
        )
        _end_sessions(conn, user.id)
        audit.record(
            conn,
            now,
            actor,
            "user.disable",
            name,
            before={"disabled": False},
            after={"disabled": True},
        )


def reset_password(db: Database, name: str, password: str, now: datetime, actor: str) -> None:
    """A new password; also lifts a lock (the person was identified by whoever ran this)."""
    passwords.check_new(password, name)
    password_hash = passwords.hash_password(password)
    with db.write() as conn:
        user = _row(conn, name)
        conn.execute(
            update(StaffUser)
            .where(StaffUser.id == user.id)
            .values(
                password_hash=password_hash, failed_attempts=0, locked_until=None, updated_at=now
            )
        )
        _end_sessions(conn, user.id)
        audit.record(
            conn,
            now,
            actor,
            "user.reset_password",
            name,
            before={"locked_until": user.locked_until, "failed_attempts": user.failed_attempts},
            after={"locked_until": None, "failed_attempts": 0},
        )


def reset_totp(db: Database, name: str, now: datetime, actor: str) -> Enrolled:
    """A new TOTP secret (a lost phone): the old one stops working at once."""
    secret = totp.new_secret()
    with db.write() as conn:
        user = _row(conn, name)
        conn.execute(
            update(StaffUser)
            .where(StaffUser.id == user.id)
            .values(totp_secret=secret, totp_last_step=None, updated_at=now)
        )
        _end_sessions(conn, user.id)
        audit.record(conn, now, actor, "user.reset_totp", name, detail="new TOTP secret issued")
    return Enrolled(name, secret, totp.uri(secret, name))
