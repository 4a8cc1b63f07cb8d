"""Settings pulled from the hub reach the kiosk without a restart, and survive one."""

from __future__ import annotations

import dataclasses
import queue
import time
from pathlib import Path

from contract.wire import KioskSettings
from kiosk.config import KioskConfig
from kiosk.engine import inputs as ui
from kiosk.engine.machine import PaymentEngine
from kiosk.engine.states import State
from kiosk.store.journal import Journal
from sync.service import SyncOptions, SyncService
from sync.settings_pull import SettingsPull, config_with
from tests.fakes import FakeClock, FakePorts
from tests.sync.conftest import Kiosk
from tests.sync.hubproc import RunningHub

Change = tuple[KioskSettings, KioskSettings | None]


def test_out_of_service_at_the_hub_reaches_the_callback_and_is_kept(
    kiosk: Kiosk, hub: RunningHub
) -> None:
    seen: list[Change] = []
    pull = SettingsPull(kiosk.client(hub.url), kiosk.data_dir)
    pull.subscribe(lambda new, old: seen.append((new, old)))
    first = pull.pull()
    assert first is not None and not first.out_of_service and seen == [(first, None)]
    assert pull.pull() is None  # nothing new: nobody is told again

    assert hub.hub_cli("set-kiosk", kiosk.name, "--out-of-service", "cash box full") == 0
    second = pull.pull()
    assert second is not None and second.out_of_service
    assert second.out_of_service_reason == "cash box full"
    assert second.version > first.version
    assert seen[-1] == (second, first)

    # a restart, offline: the last settings come back from the file and are replayed
    again = SettingsPull(kiosk.client("http://127.0.0.1:9"), kiosk.data_dir)
    replayed: list[Change] = []
    again.subscribe(lambda new, old: replayed.append((new, old)))
    again.replay()
    assert replayed == [(second, None)]
    assert (kiosk.data_dir / "hub-settings.json").stat().st_mode & 0o777 == 0o600


def test_limits_from_the_hub_become_the_kiosks_config(kiosk: Kiosk, hub: RunningHub) -> None:
    assert hub.hub_cli("set-kiosk", kiosk.name, "--max-cash-cents", "50000") == 0
    settings = kiosk.client(hub.url).settings()
    config = config_with(KioskConfig(), settings)
    assert config.limits.max_cash_cents == 50000
    assert config.card_fee.percent_bp == settings.card_fee.percent_bp


def test_the_service_applies_out_of_service_to_a_running_engine(
    kiosk: Kiosk, hub: RunningHub, tmp_path: Path
) -> None:
    """The wiring docs/sync.md gives the composition root, end to end."""
    options = SyncOptions(settings_interval_s=0.2, accounts_interval_s=0.2, poll_s=0.05)
    service = SyncService.open(kiosk.journal, kiosk.data_dir, options)
    ports = dataclasses.replace(FakePorts().port_set(), directory=service.directory)
    journal = Journal.open(tmp_path / "engine.sqlite")
    engine = PaymentEngine(KioskConfig(), journal, ports, FakeClock())
    applied: queue.Queue[KioskSettings] = queue.Queue()

    def apply(settings: KioskSettings, previous: KioskSettings | None) -> None:
        if settings.out_of_service:
            engine.submit(ui.SetOutOfService(settings.out_of_service_reason or "hub"))
        elif previous is not None and previous.out_of_service:
            engine.submit(ui.SetInService())
        applied.put(settings)

    service.on_settings(apply)
    service.start()
    try:
        assert not applied.get(timeout=5).out_of_service
        assert hub.hub_cli("set-kiosk", kiosk.name, "--out-of-service", "road works") == 0
        assert applied.get(timeout=5).out_of_service
        engine.pump()
        assert engine.state is State.OUT_OF_SERVICE
        assert hub.hub_cli("set-kiosk", kiosk.name, "--in-service") == 0
        assert not applied.get(timeout=5).out_of_service
        engine.pump()
        state: State = engine.state
        assert state is State.IDLE
        deadline = time.monotonic() + 5
        while service.status.current.accounts_version is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert service.status.current.accounts_version is not None  # the cache was filled
        assert service.cache is not None and service.cache.count() >= 3
    finally:
        service.close()
        journal.close()
