"""Database failures surface as JournalError, with nothing half-written."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from contract import entries as e
from kiosk.store import projections
from kiosk.store.journal import Journal, JournalError
from tests.store.builders import cash_payment, write


def test_a_full_disk_refuses_the_append_and_leaves_the_journal_whole(journal: Journal) -> None:
    write(journal, cash_payment("s", "1001", [2000, 500]))
    before = list(journal.entries())
    with journal.engine.connect() as conn:
        projected = projections.snapshot(conn)

    def no_room(dbapi_connection: Any, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    journal.engine.dispose()
    event.listen(journal.engine, "connect", no_room)
    try:
        with pytest.raises(JournalError, match="nothing was written: database or disk is full"):
            journal.append(
                e.BILL_STACKED,
                {
                    "session_id": "s",
                    "bill_id": "big",
                    "denomination_cents": 100,
                    "note": "x" * 200_000,
                },
            )
    finally:
        event.remove(journal.engine, "connect", no_room)
        journal.engine.dispose()

    assert list(journal.entries()) == before
    assert journal.verify().ok
    with journal.engine.connect() as conn:
        assert projections.snapshot(conn) == projected
    assert journal.append(e.KIOSK_STARTED, {}).seq == len(before) + 1  # room again: no gap
    assert journal.verify().ok


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(
        JournalError, match=f"can not open the journal at {path}: file is not a database"
    ):
        Journal.open(path)


def test_a_directory_that_can_not_be_made(tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("a file where the data directory should be")
    with pytest.raises(JournalError, match="can not open the journal"):
        Journal.open(tmp_path / "blocked" / "journal.sqlite")


def test_the_hub_can_not_acknowledge_what_was_never_written(journal: Journal) -> None:
    journal.append(e.KIOSK_STARTED, {})
    with pytest.raises(JournalError, match="acknowledged seq 5, but the journal ends at 1"):
        journal.set_acked_seq(5)
    journal.set_acked_seq(1)
    assert journal.acked_seq() == 1
    journal.set_acked_seq(0)  # a hub restored from backup may go back; it is the authority
    assert journal.acked_seq() == 0


def test_an_unreadable_entry_is_reported_not_crashed_on(journal: Journal, db_path: Path) -> None:
    journal.append(e.KIOSK_STARTED, {})
    with sqlite3.connect(db_path) as raw:
        raw.execute("UPDATE journal SET payload = '{broken' WHERE seq = 1")
    with pytest.raises(JournalError, match="entry 1 is unreadable"):
        list(journal.entries())
    with pytest.raises(JournalError, match="entry 1 is unreadable"):
        journal.rebuild_projections()
    assert journal.batches() != []  # the failed rebuild rolled back
