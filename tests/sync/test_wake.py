"""The sync worker wakes on every journal append, not only on appends the screens see."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from composition.wiring import wake_on_appends
from contract import entries as E
from kiosk.ports import DeviceNotice
from tests.engine.conftest import Harness


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path / "journal.sqlite")
    yield h
    h.journal.close()


class Wakes:
    def __init__(self) -> None:
        self.count = 0

    def wake(self) -> None:
        self.count += 1


def test_an_append_that_changes_no_snapshot_wakes_the_sync(harness: Harness) -> None:
    wakes = Wakes()
    wake_on_appends(harness.journal, wakes)
    version = harness.engine.snapshot.version
    harness.send(DeviceNotice("printer", "paper_low"))
    assert harness.types()[-1] == E.DEVICE_NOTICE
    assert harness.engine.snapshot.version == version, "nothing on the screen changed"
    assert wakes.count == 1


def test_every_append_wakes_the_sync_once(harness: Harness) -> None:
    wakes = Wakes()
    wake_on_appends(harness.journal, wakes)
    before = harness.journal.last_seq()
    harness.to_cash("20.00")
    harness.acceptor.insert(20)
    harness.pump()
    assert wakes.count == harness.journal.last_seq() - before > 0
