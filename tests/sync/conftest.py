"""Fixtures for the sync tests: one real hub for the whole package (a subprocess on
127.0.0.1), a fault proxy in front of it per test, and kiosks enrolled through the proxy."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.store.db import open_database, upgrade_to_head
from kiosk.store.journal import Journal
from provisioning.enroll import enroll
from sync.backoff import Backoff
from sync.client import HubClient
from sync.credentials import Credentials
from sync.status import StatusFile
from sync.worker import SyncWorker
from tests.store.builders import StepClock
from tests.sync.hubproc import RunningHub, running_hub
from tests.sync.proxy import FaultProxy

_names = itertools.count(1)
#: the kiosk's payments happened days before they reach the hub (effective dates)
KIOSK_START = datetime.now(UTC).replace(microsecond=123456) - timedelta(days=3)


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    with running_hub(tmp_path_factory.mktemp("hub")) as running:
        yield running


@pytest.fixture
def proxy(hub: RunningHub) -> Iterator[FaultProxy]:
    with FaultProxy(hub.port, delay_s=1.5) as fault_proxy:
        yield fault_proxy


@dataclass
class Kiosk:
    name: str
    data_dir: Path
    journal: Journal
    credentials: Credentials

    def client(self, url: str, timeout: tuple[float, float] = (1.0, 1.0)) -> HubClient:
        return HubClient(url, self.credentials.kiosk_id, self.credentials.secret, timeout=timeout)

    def worker(self, client: HubClient, cap_s: float = 0.2, **options: float) -> SyncWorker:
        return SyncWorker(
            self.journal,
            client,
            StatusFile(self.data_dir),
            backoff=Backoff(0.02, cap_s),
            poll_s=0.05,
            **options,  # type: ignore[arg-type]
        )


def open_journal(path: Path, start: datetime = KIOSK_START) -> Journal:
    """A real journal without fsync (these tests are about the protocol, not the disk)."""
    engine = open_database(path, synchronous="OFF")
    upgrade_to_head(engine)
    return Journal(engine, now=StepClock(start))


@pytest.fixture
def kiosk(hub: RunningHub, tmp_path: Path) -> Iterator[Kiosk]:
    name = f"sync-test-{next(_names):03d}"
    code = hub.create_kiosk(name)
    data_dir = tmp_path / "kiosk"
    result = enroll(hub.url, code, data_dir)
    journal = open_journal(data_dir / "journal.sqlite")
    try:
        yield Kiosk(name, data_dir, journal, result.credentials)
    finally:
        journal.close()
