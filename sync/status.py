"""The sync worker's state, kept in a small file so ``kiosk sync status`` can show it.

The running kiosk and the technician's shell are different processes; the worker writes
what only it knows (last contact, last error, a conflict that stopped pushing) to
``sync-status.json`` in the data directory, and the command reads it beside the journal
(queue depth and the oldest unsent entry come from the journal itself, which is the truth).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from sync.files import write_private

STATUS_FILE = "sync-status.json"


class ConflictReport(BaseModel):
    """A 409 the worker stopped at: it needs a person (docs/sync.md, "Conflicts")."""

    model_config = ConfigDict(frozen=True)

    kind: str
    reason: str
    seq: int | None = None
    expected_seq: int
    acked_seq: int
    at: datetime


class SyncStatus(BaseModel):
    """Everything the worker reports; every field may be missing in an older file."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    state: str = "never run"  # running | backing off | halted | stopped
    kiosk_id: str = ""
    hub_url: str = ""
    acked_seq: int | None = None
    hub_acked_seq: int | None = None
    last_contact_at: datetime | None = None
    last_push_at: datetime | None = None
    last_error: str = ""
    last_error_at: datetime | None = None
    conflict: ConflictReport | None = None
    alert: str = ""
    settings_version: int | None = None
    settings_pulled_at: datetime | None = None
    accounts_version: int | None = None
    accounts_pulled_at: datetime | None = None
    updated_at: datetime | None = None


def status_path(data_dir: Path) -> Path:
    return data_dir / STATUS_FILE


def read_status(data_dir: Path) -> SyncStatus:
    """The last status written; an empty one if there is none or it can not be read."""
    try:
        return SyncStatus.model_validate(json.loads(status_path(data_dir).read_text("utf-8")))
    except (OSError, ValueError, ValidationError):
        return SyncStatus()


class StatusFile:
    """Thread-safe holder of the current :class:`SyncStatus`, written through to disk.

    Updates come from the push thread and the pull thread; a failing disk never stops
    syncing (the status only informs), so write errors are kept, not raised.
    """

    def __init__(self, data_dir: Path | None, now: Callable[[], datetime] | None = None) -> None:
        self._path = None if data_dir is None else status_path(data_dir)
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._status = read_status(data_dir) if data_dir is not None else SyncStatus()
        self.write_error = ""

    @property
    def current(self) -> SyncStatus:
        with self._lock:
            return self._status

    def update(self, **changes: Any) -> SyncStatus:
        with self._lock:
            status = self._status.model_copy(update=changes | {"updated_at": self._now()})
            self._status = status
            if self._path is not None:
                try:
                    text = status.model_dump_json(indent=2) + "\n"
                    write_private(self._path, text, durable=False)
                    self.write_error = ""
                except OSError as exc:
                    self.write_error = str(exc)
            return status
