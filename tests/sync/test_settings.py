"""Settings pulled from the hub reach the kiosk without a restart, and survive one."""

from __future__ import annotations

import dataclasses
import io
import queue
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from composition.wiring import SyncLink, hub_settings_applier
from contract import entries as E
from contract.pins import hash_pin
from contract.wire import KioskSettings
from kiosk.config import KioskConfig, Service, Technician
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


# ------------------------------------------------------------------------- technicians
# The package's hub is shared by every test in it: the technicians added here have names no
# other test uses and are removed again.

LOCAL = Technician(name="Local Fallback", pin_hash=hash_pin("9753"), badge="LOCAL-1")


def _with_fallback() -> KioskConfig:
    return KioskConfig(service=Service(technicians=[LOCAL]))


@pytest.fixture
def hub_technicians(hub: RunningHub, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Two technicians at the hub (PINs 2580 and 90210), taken off again afterwards."""
    added = []
    for name, pin, badge in (("Pull Test Dana", "2580", "PT-1"), ("Pull Test Sam", "90210", "")):
        monkeypatch.setattr("sys.stdin", io.StringIO(pin + "\n"))
        options = ("--badge", badge) if badge else ()
        assert hub.hub_cli("technicians", "add", name, *options, "--pin-stdin") == 0
        added.append(name)
    try:
        yield added
    finally:
        for name in added:
            hub.hub_cli("technicians", "remove", name)


def test_an_empty_hub_list_keeps_the_files_technicians() -> None:
    config = config_with(_with_fallback(), KioskSettings(kiosk_id="k1", version=4))
    assert config.service.technicians == [LOCAL]


def test_the_hubs_technicians_replace_the_files_and_survive_an_offline_restart(
    kiosk: Kiosk, hub: RunningHub, hub_technicians: list[str]
) -> None:
    pull = SettingsPull(kiosk.client(hub.url), kiosk.data_dir)
    settings = pull.pull()
    assert settings is not None
    config = config_with(_with_fallback(), settings)
    staff = {t.name: t for t in config.service.technicians}
    assert set(hub_technicians) <= set(staff) and LOCAL.name not in staff
    assert staff["Pull Test Dana"].badge == "PT-1" and staff["Pull Test Sam"].badge == ""
    assert PasswordHasher().verify(staff["Pull Test Dana"].pin_hash, "2580")
    assert PasswordHasher().verify(staff["Pull Test Sam"].pin_hash, "90210")
    assert config.service.max_pin_attempts == KioskConfig().service.max_pin_attempts

    # a restart with the hub away: the kept settings still name the hub's technicians
    again = SettingsPull(kiosk.client("http://127.0.0.1:9"), kiosk.data_dir)
    replayed: list[Change] = []
    again.subscribe(lambda new, old: replayed.append((new, old)))
    again.replay()
    assert len(replayed) == 1
    offline = config_with(_with_fallback(), replayed[0][0])
    assert offline.service.technicians == config.service.technicians


def test_a_change_of_technicians_reaches_a_running_engine(
    kiosk: Kiosk, hub: RunningHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The composition root's subscriber hands the engine a config with the new PINs."""
    pull = SettingsPull(kiosk.client(hub.url), kiosk.data_dir)
    journal = Journal.open(tmp_path / "engine.sqlite")
    engine = PaymentEngine(_with_fallback(), journal, FakePorts().port_set(), FakeClock())
    pull.subscribe(hub_settings_applier(lambda: engine, _with_fallback()))
    try:
        assert pull.pull() is not None
        monkeypatch.setattr("sys.stdin", io.StringIO("4680\n"))
        assert hub.hub_cli("technicians", "add", "Pull Test Lee", "--pin-stdin") == 0
        assert pull.pull() is not None  # the change raised this kiosk's settings version
        engine.pump()
        lee = [t for t in engine.config.service.technicians if t.name == "Pull Test Lee"]
        assert len(lee) == 1 and PasswordHasher().verify(lee[0].pin_hash, "4680")
        assert LOCAL not in engine.config.service.technicians
    finally:
        hub.hub_cli("technicians", "remove", "Pull Test Lee")
        journal.close()


# ------------------------------------------------------------------------- the service page


def test_the_service_page_sees_the_link_and_push_now_sends_what_waits(
    kiosk: Kiosk, hub: RunningHub
) -> None:
    """Entries written while the worker sleeps show as waiting; "push now" sends them."""
    options = SyncOptions(settings_interval_s=60, accounts_interval_s=60, poll_s=60)
    service = SyncService.open(kiosk.journal, kiosk.data_dir, options)
    link = SyncLink(service, kiosk.journal)
    assert link.status().enrolled
    kiosk.journal.append(E.KIOSK_STARTED, {"version": "test", "kiosk_id": kiosk.name})
    waiting = link.status().waiting
    assert waiting >= 1
    service.start()  # pushes at once, then sleeps for the long poll
    try:
        deadline = time.monotonic() + 10
        while link.status().waiting and time.monotonic() < deadline:
            time.sleep(0.05)
        assert link.status().waiting == 0
        kiosk.journal.append(E.KIOSK_STARTED, {"version": "test", "kiosk_id": kiosk.name})
        assert link.status().waiting == 1
        link.push_now()
        deadline = time.monotonic() + 10
        while link.status().waiting and time.monotonic() < deadline:
            time.sleep(0.05)
        status = link.status()
        assert status.waiting == 0 and status.last_contact is not None and status.online
    finally:
        service.close()
