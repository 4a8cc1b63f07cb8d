"""Appending and reading: numbering, chaining, durability and what a payload may hold."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest

from contract import entries as e
from contract import payloads as p
from kiosk.store.db import open_database, upgrade_to_head, writer
from kiosk.store.journal import (
    GENESIS,
    Journal,
    JournalError,
    canonical_json,
    entry_hash,
)
from tests.store.builders import StepClock, approval, cash_payment, write

ROOT = Path(__file__).resolve().parents[2]


def test_append_returns_what_is_read_back(journal: Journal) -> None:
    written = journal.record(p.SessionStarted(session_id="s1-año", language="es"))
    assert written.seq == 1
    assert written.prev_hash == GENESIS
    assert written.at.tzinfo is not None
    assert journal.get(1) == written
    assert journal.last() == written
    assert list(journal.entries()) == [written]
    assert journal.get(2) is None


def test_empty_journal(journal: Journal) -> None:
    assert journal.last() is None
    assert list(journal.entries()) == []
    assert journal.last_seq() == 0
    assert journal.open_batch_id() == "B000001"


def test_seqs_are_gap_free_and_chained(fast_journal: Journal) -> None:
    for n in range(1, 601):  # more than one read chunk
        fast_journal.append(e.KIOSK_STARTED, {"version": f"0.{n}"})
    entries = list(fast_journal.entries())
    assert [x.seq for x in entries] == list(range(1, 601))
    previous = GENESIS
    for entry in entries:
        assert entry.prev_hash == previous
        at_text = entry.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert entry.hash == entry_hash(
            previous, entry.seq, entry.id, at_text, entry.type, entry.payload
        )
        previous = entry.hash
    assert len({x.id for x in entries}) == 600


def test_entries_after_and_limit(fast_journal: Journal) -> None:
    for n in range(30):
        fast_journal.append(e.KIOSK_STARTED, {"version": str(n)})
    assert [x.seq for x in fast_journal.entries(after_seq=25)] == [26, 27, 28, 29, 30]
    assert [x.seq for x in fast_journal.entries(after_seq=3, limit=4)] == [4, 5, 6, 7]
    assert list(fast_journal.entries(limit=0)) == []
    assert list(fast_journal.entries(after_seq=30)) == []


def test_hash_is_sha256_of_prev_hash_and_canonical_entry(journal: Journal) -> None:
    entry = journal.append(e.BILL_ESCROWED, {"session_id": "s", "denomination_cents": 500})
    body = (
        '{"at":"2025-03-01T14:00:01.123456Z","id":"' + entry.id + '","payload":'
        '{"denomination_cents":500,"session_id":"s"},"seq":1,"type":"bill.escrowed"}'
    )
    assert entry.hash == hashlib.sha256((GENESIS + body).encode()).hexdigest()


def test_stored_row_holds_canonical_json_and_utc_text(journal: Journal, db_path: Path) -> None:
    # keys written out of order, at the top and nested; text that is not ASCII; a list; null
    journal.append(
        e.CARD_SALE_APPROVED,
        {
            "terminal_ref": "T-1",
            "session_id": "s",
            "receipt_lines": ["AUTORIZACIÓN", "ü"],
            "reference": "R-1",
            "last4": "4242",
            "intent_seq": None,
            "brand": "VISA",
            "total_cents": 2150,
            "auth_code": "A1",
        },
    )
    journal.append(
        e.CONFIG_APPLIED,
        {
            "limits": {
                "min_payment_cents": 100,
                "max_payment_cents": 50000,
                "max_overpayment_cents": 0,
                "max_cash_cents": 30000,
                "accepted_bills_cents": [2000, 100],
            },
            "card_fee": {
                "percent_bp": 250,
                "flat_cents": 0,
                "minimum_cents": 100,
                "maximum_cents": None,
            },
        },
    )
    with sqlite3.connect(db_path) as raw:
        rows = raw.execute("SELECT at, payload FROM journal ORDER BY seq").fetchall()
    assert [at for at, _ in rows] == ["2025-03-01T14:00:01.123456Z", "2025-03-01T14:00:02.123456Z"]
    assert [payload for _, payload in rows] == [
        '{"auth_code":"A1","brand":"VISA","intent_seq":null,"last4":"4242",'
        '"receipt_lines":["AUTORIZACIÓN","ü"],"reference":"R-1","session_id":"s",'
        '"terminal_ref":"T-1","total_cents":2150}',
        '{"card_fee":{"flat_cents":0,"maximum_cents":null,"minimum_cents":100,"percent_bp":250},'
        '"limits":{"accepted_bills_cents":[2000,100],"max_cash_cents":30000,'
        '"max_overpayment_cents":0,"max_payment_cents":50000,"min_payment_cents":100}}',
    ]
    for _, payload in rows:
        assert canonical_json(json.loads(payload)) == payload


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"amount": 0.1}, "payload['amount'] is a float"),
        ({"card": {"fees": [1, 2.5]}}, "payload['card']['fees'][1] is a float"),
        ({"amount": float("nan")}, "is a float"),
        ({"amount": Decimal("1.00")}, "is a Decimal"),
        ({"bills": {2000: 1}}, "JSON object keys must be text"),
        ({"when": datetime(2025, 1, 1)}, "is a datetime"),
        ({"bad": "\ud800"}, "not valid Unicode"),
    ],
)
def test_payloads_json_can_not_hold_exactly_are_refused(
    journal: Journal, payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(JournalError, match=message.replace("[", r"\[").replace("]", r"\]")):
        journal.append(e.KIOSK_STARTED, payload)
    assert journal.last() is None


def test_payload_must_be_a_mapping_and_type_text(journal: Journal) -> None:
    with pytest.raises(JournalError, match="mapping"):
        journal.append(e.KIOSK_STARTED, [1, 2])  # type: ignore[arg-type]
    with pytest.raises(JournalError, match="needs a type"):
        journal.append("", {})


def test_tuples_and_int_enums_become_plain_json(journal: Journal) -> None:
    class Denomination(IntEnum):
        TWENTY = 2000

    entry = journal.append(
        e.BILL_ESCROWED, {"session_id": "s", "denomination_cents": Denomination.TWENTY}
    )
    assert entry.payload == {"session_id": "s", "denomination_cents": 2000}
    assert type(entry.payload["denomination_cents"]) is int
    assert journal.get(1) == entry

    lines = journal.append(
        e.CARD_SALE_APPROVED,
        {"session_id": "s", "intent_seq": None, "reference": "R-1"}
        | approval(2000)
        | {"receipt_lines": ("VISA ****4242", "APPROVED")},
    )
    assert lines.payload["receipt_lines"] == ["VISA ****4242", "APPROVED"]
    assert journal.get(2) == lines

    limits = {
        "min_payment_cents": 100,
        "max_payment_cents": 50000,
        "max_overpayment_cents": 0,
        "max_cash_cents": 30000,
        "accepted_bills_cents": (100, 500, Denomination.TWENTY),
    }
    fee = {"flat_cents": 0, "percent_bp": 250, "minimum_cents": 100, "maximum_cents": None}
    config = journal.append(e.CONFIG_APPLIED, {"limits": limits, "card_fee": fee})
    bills = config.payload["limits"]["accepted_bills_cents"]
    assert bills == [100, 500, 2000] and [type(x) for x in bills] == [int, int, int]
    assert journal.get(3) == config


def test_a_clock_without_time_zone_is_refused(db_path: Path) -> None:
    with Journal.open(db_path, now=lambda: datetime(2025, 1, 1, 12, 0)) as naive:
        with pytest.raises(JournalError, match="time zone"):
            naive.record(p.KioskStarted(version="1"))
        assert naive.last_seq() == 0


def test_entries_survive_reopening(db_path: Path) -> None:
    with Journal.open(db_path, now=StepClock()) as first:
        written = write(first, cash_payment("s1", "1001", [2000, 500]))
    with Journal.open(db_path) as second:
        assert list(second.entries()) == written
        assert second.verify().ok
        assert len(second.bills()) == 2
        assert second.append(e.KIOSK_STARTED, {"version": "2"}).seq == len(written) + 1


_CHILD = """
import os, signal, sys
from pathlib import Path
from kiosk.store.journal import Journal
journal = Journal.open(Path(sys.argv[1]))
for n in range(int(sys.argv[2])):
    journal.append("kiosk.started", {"version": str(n)})
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_appends_survive_the_process_being_killed(db_path: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(db_path), "25"],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    with Journal.open(db_path) as journal:
        assert [x.payload["version"] for x in journal.entries()] == [str(n) for n in range(25)]
        assert journal.verify().ok


def test_every_connection_is_wal_full_sync_with_foreign_keys(journal: Journal) -> None:
    for _ in range(3):  # several pooled connections, not only the first
        with journal.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_writes_begin_immediate_so_a_second_writer_waits_up_front(
    journal: Journal, db_path: Path
) -> None:
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    try:
        # no statement has run yet in the writer's transaction, and still the lock is taken
        with (
            writer(journal.engine).connect() as conn,
            conn.begin(),
            pytest.raises(sqlite3.OperationalError, match="locked"),
        ):
            other.execute("BEGIN IMMEDIATE")
        with journal.engine.connect() as conn, conn.begin():
            conn.exec_driver_sql("SELECT count(*) FROM journal").scalar()
            other.execute("BEGIN IMMEDIATE")  # a reader does not hold the write lock
            other.execute("ROLLBACK")
    finally:
        other.close()


def test_reads_are_transactions_that_see_one_snapshot(journal: Journal) -> None:
    with journal.engine.connect() as conn, conn.begin():
        before = conn.exec_driver_sql("SELECT count(*) FROM journal").scalar()
        journal.record(p.KioskStarted(version="1"))
        assert conn.exec_driver_sql("SELECT count(*) FROM journal").scalar() == before
    assert journal.last_seq() == 1


def test_readers_on_other_threads_while_the_writer_appends(fast_journal: Journal) -> None:
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                seqs = [x.seq for x in fast_journal.entries()]
                assert seqs == list(range(1, len(seqs) + 1))
                assert fast_journal.verify().ok
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    for n in range(150):
        fast_journal.append(e.KIOSK_STARTED, {"version": str(n)})
    done.set()
    for thread in readers:
        thread.join()
    assert errors == []
    assert fast_journal.last_seq() == 150


def test_two_writers_on_separate_engines_never_share_a_seq(db_path: Path) -> None:
    """As if two processes wrote: BEGIN IMMEDIATE serialises them, seqs stay gap-free."""
    journals = []
    for _ in range(2):
        engine = open_database(db_path, synchronous="OFF")
        upgrade_to_head(engine)
        journals.append(Journal(engine))

    def run(journal: Journal, name: str) -> None:
        for n in range(100):
            journal.append(e.KIOSK_STARTED, {"version": str(n), "kiosk_id": name})

    threads = [threading.Thread(target=run, args=(j, str(i))) for i, j in enumerate(journals)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [x.seq for x in journals[0].entries()] == list(range(1, 201))
    assert journals[1].verify().ok
    for journal in journals:
        journal.close()
