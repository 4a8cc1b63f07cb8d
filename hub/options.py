"""Options staff change from the console, kept in the database.

The hub's process settings (:mod:`hub.settings`) come from the environment and need a
restart; these are finance's own rules, which an admin changes while the hub runs, so they
live in ``hub_options``, the same for every hub process behind a load balancer. Each change
is written with its audit entry (before and after) in one transaction.

- ``second_count``: every collected batch is counted twice, by two different clerks,
  before anyone sees what the kiosk expects (:func:`hub.counts.record_count`). Off unless
  turned on.
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
        exists = conn.execute(
            select(HubOption.name).where(HubOption.name == SECOND_COUNT).with_for_update()
        ).first()
        values = {"value": json.dumps(on), "updated_at": now, "updated_by": actor}
        if exists is None:
            conn.execute(insert(HubOption).values(name=SECOND_COUNT, **values))
        else:
            conn.execute(update(HubOption).where(HubOption.name == SECOND_COUNT).values(**values))
        audit.record(
            conn,
            now,
            actor,
            "option.changed",
            SECOND_COUNT,
            before={SECOND_COUNT: before},
            after={SECOND_COUNT: on},
        )
