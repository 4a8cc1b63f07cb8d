"""A journal written by an earlier release still loads, verifies, rebuilds and syncs.

``tests/fixtures/field_journal.sqlite`` was written by the engine, recovery and batch close of
an earlier release (see ``tests/fixtures/make_field_journal.py``) and is committed as it came
out; ``field_journal.expected.json`` holds what that release made of it (its projections, and
what a hub showed after the push). Kiosks in the field carry journals like it and are
upgraded in place, so today's code must read it exactly as it was written: every stored hash
recomputes to itself, the rows are untouched, the projections come out the same and a hub
accepts every entry with the same hashes.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from contract.wire import WireEntry
from kiosk.store import projections
from kiosk.store.journal import Journal
from tests.hub.harness import HubHarness

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED: dict[str, Any] = json.loads(
    (FIXTURES / "field_journal.expected.json").read_text(encoding="utf-8")
)
#: what the hub's payment view adds that depends on when posting ran, not on the journal
POSTING_FIELDS = ("posting_status", "received_at")


def _raw_rows(path: Path) -> list[tuple[Any, ...]]:
    """The journal table as SQLite holds it, bypassing every layer of the kiosk's code."""
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT seq, id, at, type, payload, prev_hash, hash FROM journal ORDER BY seq"
        ).fetchall()


def _plain(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    """Projection rows as JSON gives them back (dates and times as their text)."""
    return [
        [v if v is None or isinstance(v, bool | int | str) else str(v) for v in row] for row in rows
    ]


@pytest.fixture
def field_journal(tmp_path: Path) -> Path:
    copy = tmp_path / "journal.sqlite"
    shutil.copyfile(FIXTURES / "field_journal.sqlite", copy)
    return copy


def test_it_opens_and_verifies_without_changing_a_byte(field_journal: Path) -> None:
    before = _raw_rows(field_journal)
    assert len(before) == EXPECTED["entries"]
    journal = Journal.open(field_journal)
    try:
        report = journal.verify()
        assert report.ok, report
        assert journal.last_seq() == EXPECTED["entries"]
        last = journal.last()
        assert last is not None and last.hash == EXPECTED["last_hash"]
        assert journal.open_intents() == []
    finally:
        journal.close()
    assert _raw_rows(field_journal) == before


def test_it_rebuilds_to_the_same_projections(field_journal: Path) -> None:
    journal = Journal.open(field_journal)
    try:
        journal.rebuild_projections()
        with journal.engine.connect() as conn:
            snapshot = projections.snapshot(conn)
    finally:
        journal.close()
    expected = EXPECTED["kiosk_projections"]
    # the indexes of what is open came after that release; nothing was left open in it
    since = {"open_intents": [], "open_session_entries": []}
    assert sorted(snapshot) == sorted([*expected, *since])
    for table, rows in snapshot.items():
        assert _plain(rows) == (expected | since)[table], table


def test_a_hub_takes_it_with_the_same_hashes(field_journal: Path, tmp_path: Path) -> None:
    journal = Journal.open(field_journal)
    try:
        wire = [WireEntry.of(entry) for entry in journal.entries()]
        hashes = [(entry.seq, entry.hash) for entry in journal.entries()]
    finally:
        journal.close()
    hub = HubHarness(str(tmp_path / "hub.sqlite"), tmp_path)
    try:
        creds = hub.enroll("kiosk-01")
        response = hub.push(creds, wire)
        assert response.status_code == 200, response.text
        assert response.json()["acked_seq"] == EXPECTED["entries"]
        assert hub.stored("kiosk-01") == hashes
        payments = hub.admin("/v1/payments")
        for payment in payments:
            for field in POSTING_FIELDS:
                payment.pop(field)
        key = lambda p: p["journal_seq"]  # noqa: E731
        assert sorted(payments, key=key) == sorted(EXPECTED["hub_payments"], key=key)
        assert hub.admin("/v1/batches") == EXPECTED["hub_batches"]
        # posted exactly once: one posting a payment, and the whole journal pushed again (a
        # kiosk that lost the answer) changes nothing
        hub.ctx.poster.run(include_waiting=True)
        postings = {p["payment_id"]: p["status"] for p in hub.admin("/v1/postings")}
        assert sorted(postings) == sorted(p["payment_id"] for p in payments)
        again = hub.push(creds, wire)
        assert again.status_code == 200 and again.json()["acked_seq"] == EXPECTED["entries"]
        hub.ctx.poster.run(include_waiting=True)
        assert {p["payment_id"]: p["status"] for p in hub.admin("/v1/postings")} == postings
        assert len(hub.admin("/v1/payments")) == len(payments)
    finally:
        hub.close()
