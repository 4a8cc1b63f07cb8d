from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.store.db import open_database, upgrade_to_head
from kiosk.store.journal import Journal
from tests.store.builders import StepClock


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "journal.sqlite"


@pytest.fixture
def journal(db_path: Path) -> Iterator[Journal]:
    """The journal exactly as the kiosk opens it (synchronous=FULL)."""
    with Journal.open(db_path, now=StepClock()) as opened:
        yield opened


@pytest.fixture
def fast_journal(db_path: Path) -> Iterator[Journal]:
    """Without fsync, for tests about content rather than durability."""
    engine = open_database(db_path, synchronous="OFF")
    upgrade_to_head(engine)
    with Journal(engine, now=StepClock()) as opened:
        yield opened
