"""The composition root: a running kiosk assembled from its configuration.

With :mod:`composition.hardware` and the CLI, the only part of ``kiosk`` allowed to import adapters:
it picks the port implementations, opens the journal, connects the hub when the kiosk is
enrolled, runs recovery before the engine takes a payment, and hands back the pieces.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from composition.hardware import Hardware, build_hardware
from contract import entries as E
from contract.wire import KioskSettings
from kiosk import __version__
from kiosk.clock import SystemClock
from kiosk.config import KioskConfig
from kiosk.engine import inputs as ui
from kiosk.engine.machine import PaymentEngine
from kiosk.ports import Clock, LinkStatus
from kiosk.recovery import RecoveryReport, recover
from kiosk.store.journal import Journal
from kiosk.store.lock import DataDirLock
from sync.service import SyncOptions, SyncService
from sync.settings_pull import OnSettings, config_with

JOURNAL_FILE = "journal.sqlite"
log = logging.getLogger(__name__)


@dataclass
class Kiosk:
    config: KioskConfig
    journal: Journal
    hardware: Hardware
    engine: PaymentEngine
    recovery: RecoveryReport
    sync: SyncService | None = None
    lock: DataDirLock | None = None

    def close(self) -> None:
        self.engine.stop()
        if self.sync is not None:
            self.sync.close()
        self.hardware.close()
        self.journal.close()
        self.release()

    def release(self) -> None:
        """Let the data directory go: another kiosk process may use it from now on."""
        if self.lock is not None:
            self.lock.release()

    def unsent(self) -> int | None:
        """Journal entries the hub has not acknowledged yet; None for a kiosk without one."""
        if self.sync is None:
            return None
        return self.journal.last_seq() - self.journal.acked_seq()

    def fresh_engine(self, clock: Clock | None = None) -> None:
        """Replace a started engine with a new idle one over the same journal and devices."""
        if self.engine.running:
            self.engine.stop()
        self.engine = PaymentEngine(
            self.config, self.journal, self.hardware.ports, clock or SystemClock()
        )


@dataclass
class SyncLink:
    """The hub link for service mode: the sync service's view plus the journal's count."""

    sync: SyncService
    journal: Journal

    def status(self) -> LinkStatus:
        return self.sync.link_status(self.journal.last_seq() - self.journal.acked_seq())

    def push_now(self) -> None:
        self.sync.wake()


class Wakeable(Protocol):
    def wake(self) -> None: ...


def wake_on_appends(journal: Journal, sync: Wakeable) -> None:
    """Every entry appended is pushed within moments, not at the next poll, whoever wrote
    it and whether or not it changed what the screens show."""
    journal.on_append(lambda _entry: sync.wake())


def data_dir(config: KioskConfig) -> Path:
    return config.storage.resolved_data_dir()


def sync_options(config: KioskConfig) -> SyncOptions:
    hub = config.hub
    return SyncOptions(
        lookup_timeout_s=config.timeouts.account_lookup,
        request_timeout=(hub.connect_timeout_s, hub.request_timeout_s),
        backoff_cap_s=hub.backoff_cap_s,
        batch_size=hub.push_batch,
        settings_interval_s=hub.settings_interval_s,
        accounts_interval_s=hub.accounts_interval_s,
        online_window_s=hub.online_window_s,
        account_format=hub.account_format,
        account_check=config.scanner.account_check,
    )


def hub_settings_applier(engine_of: Callable[[], PaymentEngine], config: KioskConfig) -> OnSettings:
    """Fees, limits and technicians as the hub says (taken between residents; see
    :func:`sync.settings_pull.config_with`); out of service as the hub says, and in service
    again only if it was the hub's doing."""

    def apply(settings: KioskSettings, previous: KioskSettings | None) -> None:
        try:
            engine_of().submit(ui.UpdateConfig(config_with(config, settings)))
        except ValidationError as exc:  # a hub value this kiosk's own rules refuse
            log.warning("hub settings %s refused: %s", settings.version, exc)
        if settings.out_of_service:
            reason = settings.out_of_service_reason or "held out of service by the hub"
            engine_of().submit(ui.SetOutOfService(reason))
        elif previous is not None and previous.out_of_service:
            engine_of().submit(ui.SetInService())

    return apply


def build_kiosk(
    config: KioskConfig,
    clock: Clock | None = None,
    hub_url: str | None = None,
    lock: DataDirLock | None = None,
) -> Kiosk:
    """Lock the data directory, open the journal, devices and hub link, recover, and make
    the engine (not started).

    ``hub_url`` replaces the URL stored at enrollment (a demo's hub moves between runs).
    ``lock`` is the data directory's lock when the caller took it already (the demo takes
    it before its hub writes into the directory); the kiosk keeps it until it is closed.

    Raises :class:`kiosk.store.lock.DataDirBusy` when another process runs a kiosk on the
    same data directory (nothing is opened then), and
    :class:`sync.credentials.CredentialsError` when the hub is enabled but the kiosk was
    never enrolled (``kiosk provision``).
    """
    clock = clock or SystemClock()
    taken = lock is None
    lock = (lock or DataDirLock(data_dir(config))).acquire()
    undo: list[Callable[[], None]] = [lock.release] if taken else []
    try:
        journal = Journal.open(data_dir(config) / JOURNAL_FILE, now=clock.now)
        undo.append(journal.close)
        hardware = build_hardware(config, data_dir(config) / "devices")
        undo.append(hardware.close)
        sync = None
        if config.hub.enabled:
            options = dataclasses.replace(sync_options(config), hub_url=hub_url)
            sync = SyncService.open(journal, data_dir(config), options)
            hardware.ports = dataclasses.replace(
                hardware.ports, directory=sync.directory, link=SyncLink(sync, journal)
            )
    except Exception:
        for close in reversed(undo):
            close()
        raise
    journal.append(E.KIOSK_STARTED, {"version": __version__, "kiosk_id": config.identity.kiosk_id})
    report = recover(journal, hardware.ports, config, clock)
    engine = PaymentEngine(config, journal, hardware.ports, clock)
    kiosk = Kiosk(config, journal, hardware, engine, report, sync, lock)
    if sync is not None:
        wake_on_appends(journal, sync)
        sync.on_settings(hub_settings_applier(lambda: kiosk.engine, config))
        sync.start()
    return kiosk
