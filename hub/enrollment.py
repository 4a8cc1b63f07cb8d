"""Creating kiosks and exchanging one-time enrollment codes for credentials.

A technician runs ``kiosk-hub create-kiosk NAME`` and gets a short code to type on the
kiosk (``kiosk provision``), which trades it once for the kiosk's id and signing secret.
Codes are 10 characters of an alphabet with nothing to misread (no 0/O, 1/I/L, U), shown as
``XXXXX-XXXXX``: about 49 bits, enough for a code that lives 24 hours and works once. Only
the code's sha256 is stored, so a copy of the database holds no usable code.

Every code that does not work gets the same 401, and failures are limited per client address
and per kiosk, counted in the database (see :func:`enroll`).

An exchange is one atomic ``UPDATE … WHERE used_at IS NULL``, so two kiosks racing with the
same code cannot both win. Exchanging a new code for a kiosk that is already enrolled
rotates its secret: the old one stops working at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from contract.signing import new_secret
from contract.wire import EnrollRequest, EnrollResponse, canonical_json
from hub.db import Database
from hub.errors import AlreadyExists, HubError, Invalid, NotFound, Unauthorized
from hub.models import Base, EnrollmentCode, Kiosk

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
KIOSK_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class IssuedCode:
    kiosk_id: str
    code: str
    expires_at: datetime


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_code(text: str) -> str:
    """What a technician typed, as the code it means: case, spaces and dashes don't matter."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")


def code_hash(text: str) -> str:
    return hashlib.sha256(normalise_code(text).encode("utf-8")).hexdigest()


def check_kiosk_id(name: str) -> str:
    if not KIOSK_ID.match(name):
        raise Invalid(
            f"{name!r} can not name a kiosk: use 1-63 lowercase letters, digits and dashes, "
            "starting with a letter or digit (e.g. city-hall-01)"
        )
    return name


#: called in the transaction that issued a code (the console writes its audit entry there)
OnIssue = Callable[[Connection, "IssuedCode"], None]


def create_kiosk(
    db: Database,
    name: str,
    location: str,
    now: datetime,
    ttl: timedelta,
    on_change: OnIssue | None = None,
) -> IssuedCode:
    """Create a kiosk and its first enrollment code."""
    check_kiosk_id(name)
    if len(location) > 255:
        raise Invalid("the location is longer than 255 characters")
    with db.write() as conn:
        if conn.execute(select(Kiosk.id).where(Kiosk.id == name)).first() is not None:
            raise AlreadyExists(
                f"kiosk {name!r} already exists; `kiosk-hub set-kiosk {name} --new-code` "
                "issues a new enrollment code for it"
            )
        conn.execute(
            insert(Kiosk).values(
                id=name,
                location=location,
                created_at=now,
                acked_seq=0,
                acked_hash="0" * 64,
                reported_out_of_service=False,
                reported_reason="",
                settings="{}",
                out_of_service=False,
                out_of_service_reason="",
                settings_version=1,
            )
        )
        issued = _issue(conn, name, now, ttl)
        if on_change is not None:
            on_change(conn, issued)
        return issued


def issue_code(
    db: Database,
    kiosk_id: str,
    now: datetime,
    ttl: timedelta,
    on_change: OnIssue | None = None,
) -> IssuedCode:
    """A new code for an existing kiosk; any code issued before it stops working.
    ``on_change`` runs in the same transaction (the console audits there)."""
    with db.write() as conn:
        if conn.execute(select(Kiosk.id).where(Kiosk.id == kiosk_id)).first() is None:
            raise NotFound(f"no kiosk named {kiosk_id!r}")
        issued = _issue(conn, kiosk_id, now, ttl)
        if on_change is not None:
            on_change(conn, issued)
        return issued


def _issue(conn: Connection, kiosk_id: str, now: datetime, ttl: timedelta) -> IssuedCode:
    conn.execute(
        update(EnrollmentCode)
        .where(
            EnrollmentCode.kiosk_id == kiosk_id,
            EnrollmentCode.used_at.is_(None),
            EnrollmentCode.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    code = new_code()
    expires_at = now + ttl
    conn.execute(
        insert(EnrollmentCode).values(
            code_hash=code_hash(code), kiosk_id=kiosk_id, created_at=now, expires_at=expires_at
        )
    )
    return IssuedCode(kiosk_id, code, expires_at)


#: failed attempts allowed per client address, and per kiosk, in one window
MAX_FAILURES = 10
#: the window those failures are counted in
FAILURE_WINDOW = timedelta(minutes=15)
_ATTEMPTS = Base.metadata.tables["enrollment_attempts"]
_REFUSED = (
    "this enrollment code does not work: check it for typos. A code works once, for 24 "
    "hours, and a newer code replaces it; ask for a new one (`kiosk-hub set-kiosk NAME "
    "--new-code`)"
)


def enroll(db: Database, request: EnrollRequest, now: datetime, client: str = "") -> EnrollResponse:
    """Trade a code for the kiosk's id and a fresh secret, once.

    Every code that does not work gets the same answer (401 ``invalid_code``): whether a
    code never existed, was used, replaced or expired would tell a guesser which codes and
    kiosks exist. Failures are counted per client address and per kiosk the code belonged
    to; past :data:`MAX_FAILURES` in :data:`FAILURE_WINDOW`, that address or kiosk is
    answered 429 until the window ends, good code or not.
    """
    digest = code_hash(request.code)
    secret = new_secret()
    keys = [f"addr:{client[:100]}"]
    with db.write() as conn:
        limited = _limited(conn, keys[0], now)
        if not limited:
            owner = conn.execute(
                select(EnrollmentCode.kiosk_id).where(EnrollmentCode.code_hash == digest)
            ).scalar()
            if owner is not None:
                keys.append(f"kiosk:{owner}")
                limited = _limited(conn, keys[1], now)
        if not limited:
            won = conn.execute(
                update(EnrollmentCode)
                .where(
                    EnrollmentCode.code_hash == digest,
                    EnrollmentCode.used_at.is_(None),
                    EnrollmentCode.revoked_at.is_(None),
                    EnrollmentCode.expires_at > now,
                )
                .values(used_at=now)
            ).rowcount
            if won and owner is not None:
                conn.execute(
                    update(Kiosk)
                    .where(Kiosk.id == owner)
                    .values(
                        secret=secret,
                        enrolled_at=now,
                        hardware=canonical_json(request.hardware.model_dump()),
                    )
                )
                location = conn.execute(
                    select(Kiosk.location).where(Kiosk.id == owner)
                ).scalar_one()
                return EnrollResponse(
                    kiosk_id=owner, location=location, secret=secret, hub_time=now
                )
            for key in keys:
                _count_failure(db, conn, key, now)
    if limited:
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        raise HubError(
            f"too many enrollment attempts that did not work: try again in {minutes} minutes",
            code="too_many_attempts",
            status=429,
        )
    raise Unauthorized(_REFUSED, code="invalid_code")


def _limited(conn: Connection, key: str, now: datetime) -> bool:
    failures = conn.execute(
        select(_ATTEMPTS.c.failures).where(
            _ATTEMPTS.c.key == key, _ATTEMPTS.c.window_start > now - FAILURE_WINDOW
        )
    ).scalar()
    return failures is not None and int(failures) >= MAX_FAILURES


def _count_failure(db: Database, conn: Connection, key: str, now: datetime) -> None:
    """One more failure for ``key``; a window that has ended starts again at this one."""
    conn.execute(db.insert_ignore(_ATTEMPTS, {"key": key, "window_start": now, "failures": 0}))
    conn.execute(
        update(_ATTEMPTS)
        .where(_ATTEMPTS.c.key == key, _ATTEMPTS.c.window_start <= now - FAILURE_WINDOW)
        .values(window_start=now, failures=0)
    )
    conn.execute(
        update(_ATTEMPTS).where(_ATTEMPTS.c.key == key).values(failures=_ATTEMPTS.c.failures + 1)
    )
