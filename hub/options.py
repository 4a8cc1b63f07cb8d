"""Options staff change from the console, kept in the database.

The hub's process settings (:mod:`hub.settings`) come from the environment and need a
restart; these are finance's own rules, which an admin changes while the hub runs, so they
live in ``hub_options``, the same for every hub process behind a load balancer. Each change
is written with its audit entry (before and after) in one transaction.

- ``second_count``: every collected batch is counted twice, by two different clerks,
  before anyone sees what the kiosk expects (:func:`hub.counts.record_count`). Off unless
  turned on.
- ``log_level``: how much every hub process logs (``debug`` … ``error``); each running
  process follows it within seconds (:func:`hub.api.app.create_app`), so an operator turns
  on ``debug`` for a fault on all of them and back, with no restart. Unset: ``serve
  --log-level``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, insert, select, update

from hub.db import Database
from hub.errors import Invalid
from hub.models import HubOption
from hub.staff import audit

SECOND_COUNT: Final = "second_count"
LOG_LEVEL: Final = "log_level"
LOG_LEVELS: Final = ("debug", "info", "warning", "error")
#: how often a running process looks for a new log level
LOG_LEVEL_POLL_S: Final = 10.0


@dataclass(frozen=True)
class Options:
    """The options as the console shows them, with who changed the second count last."""

    second_count: bool
    changed_by: str | None
    changed_at: datetime | None


def second_count(conn: Connection) -> bool:
    """Whether batches are counted twice (read inside the transaction that uses it)."""
    value = conn.execute(select(HubOption.value).where(HubOption.name == SECOND_COUNT)).scalar()
    return bool(json.loads(value)) if value is not None else False


def current(db: Database) -> Options:
    with db.read() as conn:
        row = conn.execute(
            select(HubOption.value, HubOption.updated_by, HubOption.updated_at).where(
                HubOption.name == SECOND_COUNT
            )
        ).one_or_none()
    if row is None:
        return Options(False, None, None)
    return Options(bool(json.loads(row.value)), row.updated_by, row.updated_at)


def set_second_count(db: Database, on: bool, actor: str, now: datetime) -> None:
    """Turn the second count on or off; asking for what is already so changes nothing."""
    with db.write() as conn:
        before = second_count(conn)
        if before == on:
            raise Invalid(f"the second count is already {'on' if on else 'off'}")
        _store(conn, SECOND_COUNT, on, before, actor, now)


def log_level(conn: Connection) -> str | None:
    """The log level every hub process follows, or None (each keeps its own)."""
    value = conn.execute(select(HubOption.value).where(HubOption.name == LOG_LEVEL)).scalar()
    return str(json.loads(value)) if value is not None else None


def set_log_level(db: Database, level: str, actor: str, now: datetime) -> None:
    if level not in LOG_LEVELS:
        raise Invalid(f"{level!r} is not a log level: one of {', '.join(LOG_LEVELS)}")
    with db.write() as conn:
        _store(conn, LOG_LEVEL, level, log_level(conn), actor, now)


def _store(
    conn: Connection, name: str, value: object, before: object, actor: str, now: datetime
) -> None:
    """Write option ``name`` and its audit entry (before and after), in ``conn``'s transaction."""
    exists = conn.execute(
        select(HubOption.name).where(HubOption.name == name).with_for_update()
    ).first()
    values = {"value": json.dumps(value), "updated_at": now, "updated_by": actor}
    if exists is None:
        conn.execute(insert(HubOption).values(name=name, **values))
    else:
        conn.execute(update(HubOption).where(HubOption.name == name).values(**values))
    audit.record(
        conn, now, actor, "option.changed", name, before={name: before}, after={name: value}
    )
