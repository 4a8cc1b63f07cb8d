"""The kiosk's settings as the hub decides them: limits, card fee, messages, out of service,
and the technicians who may enter service mode.

Pulled periodically (``GET /v1/kiosks/{id}/settings``); a version the kiosk has not seen is
saved to ``hub-settings.json`` in the data directory *before* anyone is told, so a kiosk
that restarts while the hub is unreachable still honours what the hub said last (above all
"out of service"). The composition root subscribes a callback that hands the change to the
engine (``ui.SetOutOfService`` / ``ui.SetInService``) without a restart.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from contract.wire import KioskSettings
from kiosk.config import CardFee, KioskConfig, Limits, Technician
from sync.client import HubClient
from sync.files import write_private
from sync.status import StatusFile

SETTINGS_FILE = "hub-settings.json"

#: called with (the new settings, the ones before them or None at start-up)
OnSettings = Callable[[KioskSettings, KioskSettings | None], None]

log = logging.getLogger(__name__)


class SettingsPull:
    """Holds the latest settings, pulls new ones, and tells subscribers about changes."""

    def __init__(
        self, client: HubClient, data_dir: Path | None, status: StatusFile | None = None
    ) -> None:
        self.client = client
        self._path = None if data_dir is None else data_dir / SETTINGS_FILE
        self.status = status
        self._lock = threading.Lock()
        self._callbacks: list[OnSettings] = []
        self._current = self._load()

    @property
    def current(self) -> KioskSettings | None:
        with self._lock:
            return self._current

    def subscribe(self, callback: OnSettings) -> None:
        self._callbacks.append(callback)

    def replay(self) -> None:
        """Tell subscribers the settings kept from before a restart (``previous`` None), so
        a kiosk the hub held out of service comes up out of service, even offline."""
        current = self.current
        if current is not None:
            self._notify(current, None)

    def pull(self) -> KioskSettings | None:
        """Fetch the settings; returns them if they are new (and were applied), else None.
        Raises :class:`sync.client.HubError` when the hub can not answer."""
        fetched = self.client.settings()
        if self.status is not None:
            self.status.update(
                settings_version=fetched.version, settings_pulled_at=datetime.now(UTC)
            )
        with self._lock:
            previous = self._current
            if previous is not None and previous.model_dump() == fetched.model_dump():
                return None
            self._save(fetched)
            self._current = fetched
        self._notify(fetched, previous)
        return fetched

    # ---------------------------------------------------------------- storage

    def _load(self) -> KioskSettings | None:
        if self._path is None or not self._path.exists():
            return None
        try:
            return KioskSettings.model_validate(json.loads(self._path.read_text("utf-8")))
        except (OSError, ValueError, ValidationError) as exc:
            log.warning("ignoring unreadable %s: %s", self._path, exc)
            return None

    def _save(self, settings: KioskSettings) -> None:
        if self._path is not None:
            write_private(self._path, settings.model_dump_json(indent=2) + "\n")

    def _notify(self, settings: KioskSettings, previous: KioskSettings | None) -> None:
        for callback in list(self._callbacks):
            try:
                callback(settings, previous)
            except Exception:  # one broken subscriber must not stop the others
                log.exception("a settings subscriber failed")


def config_with(config: KioskConfig, settings: KioskSettings) -> KioskConfig:
    """``config`` with the hub's limits, card fee and technicians in place of the file's,
    validated by the kiosk's own rules (a hub value the kiosk would refuse raises
    ``ValidationError``).

    The hub's technicians replace the file's ``[service] technicians`` only when the hub
    sent at least one. An empty list from the hub (one where nobody has run
    ``kiosk-hub technicians add`` yet, or one older than technicians) keeps the file's list:
    otherwise enrolling a kiosk with a hub not yet set up would lock every technician out of
    service mode. Removing the hub's last technician therefore brings back the file's.
    """
    limits = Limits.model_validate(settings.limits.model_dump())
    card_fee = CardFee.model_validate(settings.card_fee.model_dump())
    update: dict[str, object] = {"limits": limits, "card_fee": card_fee}
    if settings.technicians:
        staff = [Technician.model_validate(t.model_dump()) for t in settings.technicians]
        update["service"] = config.service.model_copy(update={"technicians": staff})
    return config.model_copy(update=update)
