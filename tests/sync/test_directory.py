"""Account lookups: live at the hub, the cache when the hub is away, manual entry with
review when neither knows the number, and a refusal for a number that can not be right."""

from __future__ import annotations

import dataclasses
import queue
import time
from pathlib import Path

import pytest

from contract.wire import Account, AccountDelta, AccountSnapshot
from hub import accounts
from hub.clock import utc_now
from kiosk.bill_stub import luhn_check_digit
from kiosk.config import KioskConfig
from kiosk.engine import inputs as ui
from kiosk.engine.machine import PaymentEngine
from kiosk.money import Money
from kiosk.ports import AccountFound, AccountNotFound, LookupSource
from kiosk.store.journal import Journal
from sync.account_cache import AccountCache
from sync.directory import HubDirectory
from tests.fakes import FakeClock, FakePorts
from tests.sync.conftest import Kiosk
from tests.sync.hubproc import RunningHub
from tests.sync.proxy import FaultProxy

MARIA = "100200302"  # a demo account at the hub
NOT_AT_HUB = "55500011" + luhn_check_digit("55500011")  # well formed, unknown to everyone
BAD_CHECK = "100200303"


def _directory(kiosk: Kiosk, url: str, cache: AccountCache | None) -> HubDirectory:
    return HubDirectory(kiosk.client(url, timeout=(0.5, 0.5)), cache, timeout_s=0.5)


def test_live_lookup(kiosk: Kiosk, proxy: FaultProxy) -> None:
    directory = _directory(kiosk, proxy.url, None)
    found = directory.find(MARIA)
    assert isinstance(found, AccountFound) and found.source is LookupSource.LIVE
    assert found.request == MARIA
    assert found.account.name == "Maria Gonzalez" and len(found.account.usage) == 12
    assert isinstance(found.account.balance, Money)
    assert directory.online()
    assert directory.find(NOT_AT_HUB) == AccountNotFound(NOT_AT_HUB, "unknown")


def test_hub_down_falls_back_to_the_cache_then_manual(
    kiosk: Kiosk, proxy: FaultProxy, tmp_path: Path
) -> None:
    cache = AccountCache(tmp_path / "cache.sqlite")
    client = kiosk.client(proxy.url)
    version = cache.refresh(client)
    assert cache.version() == version and cache.lookup(MARIA) is not None
    directory = _directory(kiosk, proxy.url, cache)

    for outage in ("pause", "delay", "error500"):
        if outage == "pause":
            proxy.pause()
        else:
            proxy.resume()
            proxy.set_mode(outage)
        directory.skip_live_for_s = 0  # ask the hub each time, to see every kind of failure
        started = time.monotonic()
        found = directory.find(MARIA)
        assert time.monotonic() - started < 2.5  # bounded by the lookup time-out
        assert isinstance(found, AccountFound), outage
        assert found.source is LookupSource.CACHE and found.account.name == "Maria Gonzalez"
        assert not directory.online()
        manual = directory.find(NOT_AT_HUB)
        assert isinstance(manual, AccountFound) and manual.source is LookupSource.MANUAL
        assert manual.account.number == NOT_AT_HUB and manual.account.name == ""
        assert manual.account.balance == Money(0) and manual.account.due_date is None
        assert directory.find(BAD_CHECK) == AccountNotFound(BAD_CHECK, "invalid")


def test_invalid_numbers_are_refused_without_asking_the_hub(
    kiosk: Kiosk, proxy: FaultProxy
) -> None:
    directory = _directory(kiosk, proxy.url, None)
    for number in (BAD_CHECK, "12345", "10020030x", "", "../../v1/health", "1" * 70):
        assert directory.find(number) == AccountNotFound(number, "invalid")
    assert sum(proxy.applied.values()) == 0


def test_a_closed_account_is_not_found_as_closed(kiosk: Kiosk, hub: RunningHub) -> None:
    number = "90010000" + luhn_check_digit("90010000")
    now = utc_now()
    csv = "account_number,name,service_address,balance_cents,due_date,status\n"
    csv += f"{number},Gone Away,1 Closed Rd,0,,closed\n"
    accounts.import_accounts(hub.ctx.db, csv, now, now.date(), partial=True)
    directory = _directory(kiosk, hub.url, None)
    assert directory.find(number) == AccountNotFound(number, "closed")


def test_lookup_answers_on_another_thread_and_never_blocks(kiosk: Kiosk, proxy: FaultProxy) -> None:
    answers: queue.Queue[object] = queue.Queue()
    directory = _directory(kiosk, proxy.url, None)
    directory.attach(answers.put)
    proxy.set_mode("delay")  # the hub hangs past the time-out
    started = time.monotonic()
    directory.lookup(NOT_AT_HUB)
    assert time.monotonic() - started < 0.1  # the engine's thread is free at once
    answer = answers.get(timeout=5)
    assert isinstance(answer, AccountFound) and answer.source is LookupSource.MANUAL
    directory.close()


def test_a_manual_entry_is_flagged_for_review_by_the_engine(
    kiosk: Kiosk, proxy: FaultProxy, tmp_path: Path
) -> None:
    proxy.pause()
    directory = _directory(kiosk, proxy.url, None)
    ports = dataclasses.replace(FakePorts().port_set(), directory=directory)
    journal = Journal.open(tmp_path / "engine.sqlite")
    engine = PaymentEngine(KioskConfig(), journal, ports, FakeClock())
    try:
        engine.submit(ui.Start())
        engine.submit(ui.EnterAccount(NOT_AT_HUB))
        deadline = time.monotonic() + 5
        while engine.snapshot.account is None and time.monotonic() < deadline:
            engine.pump()
            time.sleep(0.01)
        view = engine.snapshot.account
        assert view is not None
        assert view.source == "manual" and view.review
        assert engine.snapshot.offline
    finally:
        directory.close()
        journal.close()


def test_the_cache_applies_deltas_and_removals(tmp_path: Path) -> None:
    cache = AccountCache(tmp_path / "cache.sqlite")

    def account(number: str, balance: int) -> Account:
        return Account(
            number=number, name="N", service_address="A", balance_cents=balance, due_date=None
        )

    cache.replace(AccountSnapshot(version=3, accounts=[account("1", 10), account("2", 20)]))
    cache.apply(AccountDelta(since=3, version=5, accounts=[account("2", 5)], removed=["1"]))
    assert cache.version() == 5 and cache.count() == 1
    assert cache.lookup("1") is None
    found = cache.lookup("2")
    assert found is not None and found.balance_cents == 5
    with pytest.raises(Exception, match="does not apply"):
        cache.apply(AccountDelta(since=3, version=6, accounts=[], removed=[]))
    # a new kiosk process finds the same copy
    cache.close()
    again = AccountCache(tmp_path / "cache.sqlite")
    assert again.version() == 5


def test_the_cache_follows_changes_at_the_hub(
    kiosk: Kiosk, hub: RunningHub, tmp_path: Path
) -> None:
    cache = AccountCache(tmp_path / "cache.sqlite")
    client = kiosk.client(hub.url)
    first = cache.refresh(client)
    number = "90020000" + luhn_check_digit("90020000")
    now = utc_now()
    csv = "account_number,name,service_address,balance_cents,due_date,status\n"
    csv += f"{number},New Resident,2 New St,1234,2026-12-01,active\n"
    accounts.import_accounts(hub.ctx.db, csv, now, now.date(), partial=True)
    second = cache.refresh(client)
    assert second > first
    found = cache.lookup(number)
    assert found is not None and found.balance_cents == 1234
