"""The audit log: one row per staff action and sign-in attempt, written in the same
transaction as the change it describes, so the log never claims a change that was rolled
back nor misses one that was kept.

``before`` and ``after`` are JSON of what changed; secrets (password hashes, TOTP secrets,
tokens) never go in.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from hub.db import Database
from hub.models import AuditEntry


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    before: str | None
    after: str | None
    detail: str


def cli_actor() -> str:
    """Who ran a ``kiosk-hub`` command: ``cli:`` and the operating system's login name."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli:unknown"


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def record(
    conn: Connection,
    at: datetime,
    actor: str,
    action: str,
    target: str = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
) -> None:
    conn.execute(
        insert(AuditEntry).values(
            at=at,
            actor=actor[:80],
            action=action,
            target=target[:255],
            before=_json(before),
            after=_json(after),
            detail=detail,
        )
    )


def listing(db: Database, limit: int = 500) -> list[AuditRecord]:
    """The newest entries first."""
    query = select(AuditEntry.__table__).order_by(AuditEntry.id.desc()).limit(limit)
    with db.read() as conn:
        return [AuditRecord(**dict(row._mapping)) for row in conn.execute(query)]
