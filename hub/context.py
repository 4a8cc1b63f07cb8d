"""Everything a request handler or a command needs, built once from the settings.

Holds no state of its own beyond connections: two hub processes with the same settings are
interchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from hub.clock import Clock, utc_now
from hub.db import Database
from hub.posting import Poster, make_adapter
from hub.settings import HubSettings


@dataclass
class HubContext:
    settings: HubSettings
    db: Database
    clock: Clock
    poster: Poster

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone

    @classmethod
    def open(
        cls, settings: HubSettings, clock: Clock = utc_now, *, migrate: bool = True
    ) -> HubContext:
        """Connect, bring the schema up to date (unless told not to) and set up posting."""
        db = Database(settings.database)
        if migrate:
            db.upgrade_to_head()
        adapter = make_adapter(settings.posting, settings.zone)
        poster = Poster(db, adapter, clock, timedelta(seconds=settings.posting.lease_s))
        return cls(settings, db, clock, poster)

    def close(self) -> None:
        self.db.dispose()
