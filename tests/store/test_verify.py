"""verify() names the first entry that was edited, removed or moved, by raw SQL as a
tamperer (or a failing disk) would do it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract import entries as e
from contract.chain import canonical_json, entry_hash
from kiosk.store.journal import Journal

N = 20


@pytest.fixture
def twenty(fast_journal: Journal) -> Journal:
    for n in range(1, N + 1):
        fast_journal.append(e.BILL_ESCROWED, {"session_id": "s", "denomination_cents": 100 * n})
    return fast_journal


@pytest.fixture
def raw(db_path: Path, twenty: Journal) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(db_path, isolation_level=None)
    yield connection
    connection.close()


def test_an_untouched_journal_verifies(twenty: Journal) -> None:
    report = twenty.verify()
    assert report.ok and report.problem == ""
    assert (report.checked, report.last_seq, report.first_bad_seq) == (N, N, None)
    assert report.last_hash == twenty.last().hash  # type: ignore[union-attr]


def test_an_empty_journal_verifies(fast_journal: Journal) -> None:
    report = fast_journal.verify()
    assert report.ok and report.checked == 0


def test_an_edited_payload(twenty: Journal, raw: sqlite3.Connection) -> None:
    edited = '{"denomination_cents":10000,"session_id":"s"}'
    raw.execute("UPDATE journal SET payload = ? WHERE seq = 7", (edited,))
    report = twenty.verify()
    assert not report.ok
    assert report.first_bad_seq == 7
    assert report.checked == 6
    assert report.problem == "entry 7 was edited (hash does not match its content)"


def test_an_edited_type_or_time(twenty: Journal, raw: sqlite3.Connection) -> None:
    raw.execute("UPDATE journal SET at = '2030-01-01T00:00:00.000000Z' WHERE seq = 12")
    assert twenty.verify().problem == "entry 12 was edited (hash does not match its content)"


def test_a_reformatted_payload_with_the_same_content(
    twenty: Journal, raw: sqlite3.Connection
) -> None:
    spaced = '{"session_id": "s", "denomination_cents": 300}'
    raw.execute("UPDATE journal SET payload = ? WHERE seq = 3", (spaced,))
    report = twenty.verify()
    assert report.first_bad_seq == 3
    assert "payload text is not the canonical JSON" in report.problem


def test_a_payload_that_is_no_longer_json(twenty: Journal, raw: sqlite3.Connection) -> None:
    raw.execute("UPDATE journal SET payload = '{oops' WHERE seq = 4")
    report = twenty.verify()
    assert (report.ok, report.first_bad_seq) == (False, 4)
    assert "not valid canonical JSON" in report.problem


@pytest.mark.parametrize(
    ("deleted", "problem"),
    [
        ([1], "entries start at seq 2 (entry 1 is missing)"),
        ([1, 2], "entries start at seq 3 (entries 1-2 are missing)"),
        ([17], "entry 17 is missing (seq jumps from 16 to 18)"),
        ([9, 10, 11], "entries 9-11 are missing (seq jumps from 8 to 12)"),
        ([N - 1], f"entry {N - 1} is missing (seq jumps from {N - 2} to {N})"),
    ],
)
def test_deleted_rows(
    twenty: Journal, raw: sqlite3.Connection, deleted: list[int], problem: str
) -> None:
    raw.executemany("DELETE FROM journal WHERE seq = ?", [(s,) for s in deleted])
    report = twenty.verify()
    assert (report.ok, report.first_bad_seq, report.problem) == (False, deleted[0], problem)


def test_swapped_contents_keep_their_seqs(twenty: Journal, raw: sqlite3.Connection) -> None:
    """Swap the payload, type and id of two rows: each now hashes to something else."""
    rows = {
        s: raw.execute("SELECT id, type, payload FROM journal WHERE seq = ?", (s,)).fetchone()
        for s in (5, 6)
    }
    raw.execute("UPDATE journal SET id = 'tmp' WHERE seq = 5")
    for this, that in ((6, 5), (5, 6)):
        raw.execute(
            "UPDATE journal SET id = ?, type = ?, payload = ? WHERE seq = ?", (*rows[that], this)
        )
    report = twenty.verify()
    assert (report.first_bad_seq, report.problem) == (
        5,
        "entry 5 was edited (hash does not match its content)",
    )


@pytest.mark.parametrize(("a", "b"), [(5, 6), (5, 9), (1, 2)])
def test_swapped_seqs(twenty: Journal, raw: sqlite3.Connection, a: int, b: int) -> None:
    raw.execute("UPDATE journal SET seq = 999999 WHERE seq = ?", (a,))
    raw.execute("UPDATE journal SET seq = ? WHERE seq = ?", (a, b))
    raw.execute("UPDATE journal SET seq = ? WHERE seq = 999999", (b,))
    report = twenty.verify()
    assert report.first_bad_seq == a
    if a == 1:
        assert (
            report.problem
            == "entry 1 does not start the chain (its prev_hash is not the genesis hash)"
        )
    else:
        assert report.problem.startswith(
            f"entry {a} does not follow entry {a - 1} (prev_hash mismatch"
        )


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(
    twenty: Journal, raw: sqlite3.Connection
) -> None:
    seq, id_, at, type_, prev = raw.execute(
        "SELECT seq, id, at, type, prev_hash FROM journal WHERE seq = 17"
    ).fetchone()
    payload = {"denomination_cents": 10000, "session_id": "s"}
    forged = entry_hash(prev, seq, id_, at, type_, payload)
    raw.execute(
        "UPDATE journal SET payload = ?, hash = ? WHERE seq = 17", (canonical_json(payload), forged)
    )
    report = twenty.verify()
    assert (report.first_bad_seq, report.checked) == (18, 17)
    assert report.problem == (
        "entry 18 does not follow entry 17 (prev_hash mismatch: an entry was removed or "
        "reordered, or entry 17 was rewritten)"
    )


def test_the_first_problem_is_the_one_reported(twenty: Journal, raw: sqlite3.Connection) -> None:
    raw.execute("DELETE FROM journal WHERE seq = 15")
    raw.execute("UPDATE journal SET type = 'bill.stacked' WHERE seq = 8")
    assert twenty.verify().first_bad_seq == 8


def test_deleting_the_newest_entries_is_caught_by_the_hubs_ack(
    twenty: Journal, raw: sqlite3.Connection
) -> None:
    twenty.set_acked_seq(18)
    raw.execute("DELETE FROM journal WHERE seq >= 16")
    report = twenty.verify()
    assert (report.ok, report.first_bad_seq) == (False, 16)
    assert report.problem == "entries after 15 are missing: the hub acknowledged 18"


def test_deleting_unacknowledged_newest_entries_is_not_visible(
    twenty: Journal, raw: sqlite3.Connection
) -> None:
    """The documented limit of a hash chain: the tail can be cut cleanly (docs/journal.md)."""
    twenty.set_acked_seq(10)
    raw.execute("DELETE FROM journal WHERE seq > 15")
    assert twenty.verify().ok


def test_an_emptied_journal_the_hub_has_seen(twenty: Journal, raw: sqlite3.Connection) -> None:
    twenty.set_acked_seq(5)
    raw.execute("DELETE FROM journal")
    report = twenty.verify()
    assert (report.first_bad_seq, report.problem) == (
        1,
        "the journal is empty, but the hub acknowledged 5",
    )
