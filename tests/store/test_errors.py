"""Database failures surface as JournalError, with nothing half-written."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from contract import payloads as p
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

    # the longest receipt a card approval may carry: many pages more than the file has
    too_big_for_the_disk = p.CardSaleApproved(
        session_id="s",
        intent_seq=None,
        reference="R-big",
        total_cents=100,
        auth_code="A1B2C3",
        brand="VISA",
        last4="4242",
        terminal_ref="T-big",
        receipt_lines=["x" * 200] * 100,
    )
    journal.engine.dispose()
    event.listen(journal.engine, "connect", no_room)
    try:
        with pytest.raises(JournalError, match="nothing was written: database or disk is full"):
            journal.record(too_big_for_the_disk)
    finally:
        event.remove(journal.engine, "connect", no_room)
        journal.engine.dispose()

    assert list(journal.entries()) == before
    assert journal.verify().ok
    with journal.engine.connect() as conn:
        assert projections.snapshot(conn) == projected
    assert journal.record(p.KioskStarted(version="1")).seq == len(before) + 1  # room again: no gap
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
    journal.record(p.KioskStarted(version="1"))
    with pytest.raises(JournalError, match="acknowledged seq 5, but the journal ends at 1"):
        journal.set_acked_seq(5)
    journal.set_acked_seq(1)
    assert journal.acked_seq() == 1
    journal.set_acked_seq(0)  # a hub restored from backup may go back; it is the authority
    assert journal.acked_seq() == 0


def test_an_unreadable_entry_is_reported_not_crashed_on(journal: Journal, db_path: Path) -> None:
    journal.record(p.KioskStarted(version="1"))
    with sqlite3.connect(db_path) as raw:
        raw.execute("UPDATE journal SET payload = '{broken' WHERE seq = 1")
    with pytest.raises(JournalError, match="entry 1 is unreadable"):
        list(journal.entries())
    with pytest.raises(JournalError, match="entry 1 is unreadable"):
        journal.rebuild_projections()
    assert journal.batches() != []  # the failed rebuild rolled back
