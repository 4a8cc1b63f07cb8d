"""Signing in: a name, a password and a TOTP code, all three right, or a refusal that does
not say which was wrong.

Each failure (wrong password, wrong or reused code) counts against the account; the tenth
in a row locks it for 30 minutes, during which nothing is even checked. A good sign-in
clears the count and records the code's time step, so the same code can not sign in twice.
Every attempt, good or bad, is an audit entry, written in the same transaction as the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, select, update

from hub.db import Database
from hub.errors import Unauthorized
from hub.models import StaffUser
from hub.staff import audit, passwords, sessions, totp

LOCK_AFTER = 10
LOCK_FOR = timedelta(minutes=30)
WRONG = "the name, password or code is not right"


class SignInRefused(Unauthorized):
    """Why a sign-in was refused, in words that do not tell a guesser what was right."""

    code = "sign_in_refused"


@dataclass(frozen=True)
class _Refusal:
    message: str


def sign_in(
    db: Database, name: str, password: str, code: str, now: datetime
) -> sessions.NewSession:
    """A new session for the account, or :class:`SignInRefused`.

    The attempt is recorded (count, lock, audit) before the refusal is raised, so a refusal
    never rolls back its own trace.
    """
    with db.write() as conn:
        outcome = _attempt(conn, name[:64], password, code, now)
    if isinstance(outcome, _Refusal):
        raise SignInRefused(outcome.message)
    return outcome


def _attempt(
    conn: Connection, name: str, password: str, code: str, now: datetime
) -> sessions.NewSession | _Refusal:
    user = conn.execute(
        select(StaffUser.__table__).where(StaffUser.name == name).with_for_update()
    ).one_or_none()
    if user is None:
        passwords.verify(None, password)  # as slow as a known name: names are not revealed
        audit.record(conn, now, "anonymous", "signin.failed", name, detail="no such user")
        return _Refusal(WRONG)
    if user.disabled:
        audit.record(conn, now, name, "signin.failed", name, detail="account disabled")
        return _Refusal(WRONG)
    if user.locked_until is not None and now < user.locked_until:
        audit.record(conn, now, name, "signin.refused", name, detail="account locked")
        return _Refusal(_locked(user.locked_until))

    problem = None
    step = None
    if not passwords.verify(user.password_hash, password):
        problem = "wrong password"
    else:
        step = totp.accepted_step(user.totp_secret, code, now, user.totp_last_step)
        if step is None:
            reused = totp.accepted_step(user.totp_secret, code, now, None) is not None
            problem = "code already used" if reused else "wrong code"
    if problem is not None:
        return _failed(conn, user, problem, now)

    conn.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id)
        .values(failed_attempts=0, locked_until=None, totp_last_step=step)
    )
    audit.record(conn, now, name, "signin.ok", name, detail=f"role {user.role}")
    return sessions.create(conn, user.id, name, user.role, now)


def _failed(conn: Connection, user: Row[Any], problem: str, now: datetime) -> _Refusal:
    failures = int(user.failed_attempts) + 1
    audit.record(
        conn, now, user.name, "signin.failed", user.name, detail=f"{problem} ({failures} in a row)"
    )
    if failures < LOCK_AFTER:
        conn.execute(
            update(StaffUser).where(StaffUser.id == user.id).values(failed_attempts=failures)
        )
        return _Refusal(WRONG)
    until = now + LOCK_FOR
    conn.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id)
        .values(failed_attempts=0, locked_until=until)
    )
    audit.record(
        conn,
        now,
        user.name,
        "signin.locked",
        user.name,
        before={"locked_until": user.locked_until},
        after={"locked_until": until},
        detail=f"{LOCK_AFTER} failed sign-ins in a row",
    )
    return _Refusal(_locked(until))


def _locked(until: datetime) -> str:
    return (
        f"too many failed sign-ins: this account is locked until {until:%H:%M} UTC "
        "(or until an administrator sets a new password)"
    )
