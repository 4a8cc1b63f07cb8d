"""Everything the kiosk needs to talk to the hub, assembled in one call for the
composition root (``composition/wiring.py``): client, push worker, account directory and cache,
settings pull, and the thread that runs the pulls.

Kept out of ``kiosk/`` so the core never imports ``requests`` (DESIGN.md, dependency rule);
the composition root calls :meth:`SyncService.open`, passes :attr:`SyncService.directory`
into the engine's ports, and calls :meth:`SyncService.wake` after journal appends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from kiosk.ports import LinkStatus
from sync import credentials as creds
from sync.account_cache import AccountCache, CacheError
from sync.backoff import Backoff
from sync.client import HubClient, Timeout
from sync.connectivity import Connectivity
from sync.directory import DEFAULT_ACCOUNT_FORMAT, HubDirectory
from sync.periodic import Job, Periodic
from sync.settings_pull import OnSettings, SettingsPull
from sync.status import StatusFile
from sync.worker import JournalSource, SyncWorker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncOptions:
    """Tunables; the defaults are the field values (docs/sync.md, "Configuration")."""

    lookup_timeout_s: float = 3.0  # [timeouts] account_lookup
    request_timeout: Timeout = (3.0, 15.0)  # (connect, read) for pushes and pulls
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    poll_s: float = 1.0
    probe_s: float = 0.5  # how often a kiosk asks an unreachable hub's health
    batch_size: int = 500
    settings_interval_s: float = 60.0
    accounts_interval_s: float = 300.0
    online_window_s: float = 120.0
    account_format: str = DEFAULT_ACCOUNT_FORMAT
    account_check: Literal["luhn", "none"] = "luhn"
    hub_url: str | None = None  # overrides the URL stored at enrollment ([hub] url)


class SyncService:
    """The running sync side of one kiosk."""

    def __init__(
        self,
        credentials: creds.Credentials,
        journal: JournalSource,
        data_dir: Path,
        options: SyncOptions | None = None,
    ) -> None:
        options = options or SyncOptions()
        self.credentials = credentials
        self.options = options
        self.connectivity = Connectivity(window_s=options.online_window_s)
        self.client = HubClient(
            options.hub_url or credentials.hub_url,
            credentials.kiosk_id,
            credentials.secret,
            timeout=options.request_timeout,
            connectivity=self.connectivity,
        )
        self.status = StatusFile(data_dir)
        self.status.update(kiosk_id=credentials.kiosk_id, hub_url=self.client.base_url)
        try:
            self.cache: AccountCache | None = AccountCache.in_dir(data_dir)
        except CacheError as exc:  # lookups still work live, and manually
            log.error("%s", exc)
            self.cache = None
        self.worker = SyncWorker(
            journal,
            self.client,
            self.status,
            batch_size=options.batch_size,
            backoff=Backoff(options.backoff_base_s, options.backoff_cap_s),
            poll_s=options.poll_s,
            probe_s=options.probe_s,
        )
        self.directory = HubDirectory(
            self.client,
            self.cache,
            timeout_s=options.lookup_timeout_s,
            account_format=options.account_format,
            account_check=options.account_check,
        )
        self.settings = SettingsPull(self.client, data_dir, self.status)
        failed = self._failed
        jobs = [Job("settings pull", options.settings_interval_s, self.settings.pull, failed)]
        if self.cache is not None:
            jobs.append(Job("account refresh", options.accounts_interval_s, self._refresh, failed))
        self.pulls = Periodic(jobs)

    @classmethod
    def open(
        cls, journal: JournalSource, data_dir: Path, options: SyncOptions | None = None
    ) -> SyncService:
        """From the credentials ``kiosk provision`` stored; raises
        :class:`sync.credentials.CredentialsError` if the kiosk is not enrolled."""
        return cls(creds.load(data_dir), journal, data_dir, options)

    def on_settings(self, callback: OnSettings) -> None:
        self.settings.subscribe(callback)

    def start(self) -> None:
        """Apply the settings kept from last time, then start pushing and pulling."""
        self.settings.replay()
        self.worker.start()
        self.pulls.start()

    def wake(self) -> None:
        """Call after every journal append (cheap, any thread)."""
        self.worker.wake()

    def link_status(self, waiting: int) -> LinkStatus:
        """The link as the technician's status page shows it (``waiting``: entries the hub
        has not acknowledged, which the journal knows)."""
        status = self.status.current
        problem = status.alert or (status.conflict.reason if status.conflict else "")
        return LinkStatus(
            enrolled=True,
            online=self.connectivity.online(),
            last_contact=status.last_contact_at,
            waiting=waiting,
            problem=problem or status.last_error,
        )

    def close(self) -> None:
        self.pulls.stop()
        self.worker.stop()
        self.directory.close()
        if self.cache is not None:
            self.cache.close()
        self.client.close()

    def _refresh(self) -> None:
        assert self.cache is not None
        version = self.cache.refresh(self.client)
        self.status.update(accounts_version=version, accounts_pulled_at=datetime.now(UTC))

    def _failed(self, job: str, exc: Exception) -> None:
        self.status.update(last_error=f"{job}: {exc}", last_error_at=datetime.now(UTC))
