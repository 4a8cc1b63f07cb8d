"""Archiving: old entries the hub holds leave the database for a compressed file, the
chain stays verifiable across the cut, and nothing recovery or the open batch needs goes."""

from __future__ import annotations

import gzip
import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contract import entries as e
from kiosk.store import projections
from kiosk.store.journal import Journal, JournalError
from tests.store.builders import batch_closed, cash_payment, write

LATER = datetime(2030, 1, 1, tzinfo=UTC)  # every entry the tests write is older


def _payments(journal: Journal, count: int, tag: str = "s") -> None:
    for n in range(count):
        write(journal, cash_payment(f"{tag}{n}", str(1000 + n), [2000, 500]))


def _close_batch(journal: Journal) -> None:
    journal.record(batch_closed(journal.open_batch_id()))


def _snapshot(journal: Journal) -> dict[str, list[tuple[object, ...]]]:
    with journal.engine.connect() as conn:
        return projections.snapshot(conn)


@pytest.fixture
def archived(fast_journal: Journal) -> Journal:
    """Three batches of payments, all acknowledged by the hub, the oldest two archived."""
    for _ in range(3):
        _payments(fast_journal, 3)
        _close_batch(fast_journal)
    _payments(fast_journal, 2)
    fast_journal.set_acked_seq(fast_journal.last_seq())
    record = fast_journal.archive(LATER)
    assert record is not None
    return fast_journal


def test_archiving_moves_acknowledged_entries_and_keeps_the_chain(fast_journal: Journal) -> None:
    for _ in range(3):
        _payments(fast_journal, 3)
        _close_batch(fast_journal)
    _payments(fast_journal, 2)
    last = fast_journal.last_seq()
    fast_journal.set_acked_seq(last)
    every = list(fast_journal.entries())
    before = _snapshot(fast_journal)

    record = fast_journal.archive(LATER)

    assert record is not None and record.first_seq == 1
    batches = fast_journal.batches()
    # the open batch and the one closed before it stay in the database
    assert record.last_seq == batches[-2].opened_seq - 1
    kept = list(fast_journal.entries())
    assert kept == every[record.last_seq :]
    assert kept[0].prev_hash == record.last_hash == every[record.last_seq - 1].hash
    path = fast_journal.archive_dir() / record.file
    assert hashlib.sha256(path.read_bytes()).hexdigest() == record.sha256
    assert len(gzip.decompress(path.read_bytes()).splitlines()) == record.last_seq

    full = fast_journal.verify(full=True)
    assert full.ok and (full.checked, full.last_seq, full.from_seq) == (last, last, 1)
    quick = fast_journal.verify(full=False)
    assert quick.ok and quick.from_seq > record.last_seq
    # the projections are the journal's, archives included: a rebuild gives them back
    fast_journal.rebuild_projections()
    assert _snapshot(fast_journal) == before
    assert fast_journal.archive(LATER) is None  # nothing more may go


def test_nothing_unacknowledged_or_young_is_archived(fast_journal: Journal) -> None:
    for _ in range(3):
        _payments(fast_journal, 2)
        _close_batch(fast_journal)
    _payments(fast_journal, 1)
    assert fast_journal.archive(LATER) is None  # the hub has nothing yet
    fast_journal.set_acked_seq(5)
    assert fast_journal.archivable_seq(LATER) == 4  # entry 5 stays: sync compares it
    first_at = next(fast_journal.entries()).at
    assert fast_journal.archivable_seq(first_at) == 0  # nothing is older than the first


def test_an_open_intent_and_an_open_session_are_never_archived(fast_journal: Journal) -> None:
    write(fast_journal, cash_payment("s0", "1000", [500]))
    intent = fast_journal.append(
        e.RECEIPT_PRINT_REQUESTED, {"session_id": None, "confirmation": "OLD"}
    ).seq
    for _ in range(3):
        _payments(fast_journal, 2)
        _close_batch(fast_journal)
    fast_journal.set_acked_seq(fast_journal.last_seq())
    assert fast_journal.archivable_seq(LATER) == intent - 1

    fast_journal.append(
        e.RECEIPT_FAILED,
        {"session_id": None, "confirmation": "OLD", "reason": "jam", "intent_seq": intent},
    )
    started = fast_journal.append(e.SESSION_STARTED, {"session_id": "open", "language": "en"})
    _payments(fast_journal, 1, tag="later")
    fast_journal.set_acked_seq(fast_journal.last_seq())
    # the settled intent no longer holds anything back; the batches before the last do
    assert fast_journal.archivable_seq(LATER) == fast_journal.batches()[-2].opened_seq - 1
    for tag in ("next", "last"):
        _close_batch(fast_journal)
        _payments(fast_journal, 1, tag=tag)
    _close_batch(fast_journal)
    fast_journal.set_acked_seq(fast_journal.last_seq())
    assert fast_journal.archivable_seq(LATER) == started.seq - 1
    record = fast_journal.archive(LATER)
    assert record is not None and record.last_seq == started.seq - 1
    assert fast_journal.open_session_entries()[0].seq == started.seq


def test_verify_full_catches_a_changed_archive(archived: Journal) -> None:
    [record] = archived.archives()
    path = archived.archive_dir() / record.file
    lines = gzip.decompress(path.read_bytes()).splitlines()
    edited = next(n for n, line in enumerate(lines) if b"denomination_cents" in line)
    lines[edited] = lines[edited].replace(
        b'denomination_cents\\":2000', b'denomination_cents\\":5000'
    )
    assert b"5000" in lines[edited]
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))

    report = archived.verify(full=True)
    assert not report.ok and report.first_bad_seq == 1
    assert report.problem == (
        f"archive {record.file} (entries 1-{record.last_seq}) was changed "
        "(its sha256 is not the one recorded when it was written)"
    )
    assert archived.verify(full=False).ok  # from the checkpoint: the archive is not read

    # a tamperer who records the new sha256 as well is caught by the chain
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with sqlite3.connect(str(archived.engine.url.database)) as raw:
        raw.execute("UPDATE journal_archives SET sha256 = ?", (digest,))
    report = archived.verify(full=True)
    assert (report.ok, report.first_bad_seq) == (False, edited + 1)
    assert report.problem == f"entry {edited + 1} was edited (hash does not match its content)"


def test_verify_full_catches_a_broken_cut_and_a_missing_archive(archived: Journal) -> None:
    [record] = archived.archives()
    first_kept = record.last_seq + 1
    database = str(archived.engine.url.database)
    with sqlite3.connect(database) as raw:
        raw.execute("DELETE FROM journal WHERE seq = ?", (first_kept,))
    report = archived.verify(full=True)
    assert (report.ok, report.first_bad_seq) == (False, first_kept)
    assert report.problem.startswith(f"entry {first_kept} is missing")
    assert report.checked == record.last_seq  # the archive itself was sound

    (archived.archive_dir() / record.file).unlink()
    report = archived.verify(full=True)
    assert (report.ok, report.first_bad_seq) == (False, 1)
    assert report.problem == f"archive {record.file} (entries 1-{record.last_seq}) is missing"
    with pytest.raises(JournalError, match="can not be read"):
        archived.rebuild_projections()


def test_verify_from_the_checkpoint_and_in_full(fast_journal: Journal) -> None:
    _payments(fast_journal, 3)
    assert fast_journal.checkpoint() is None
    first = fast_journal.verify(full=False, remember=True)
    assert first.ok and (first.from_seq, first.checked) == (1, fast_journal.last_seq())
    mark = fast_journal.checkpoint()
    assert mark is not None and mark.seq == first.last_seq and mark.hash == first.last_hash
    _payments(fast_journal, 1, tag="t")
    again = fast_journal.verify(full=False, remember=True)
    assert again.ok and again.from_seq == mark.seq
    assert again.checked == fast_journal.last_seq() - mark.seq + 1

    # an entry before the checkpoint edited: only a full verification reads it again
    with sqlite3.connect(str(fast_journal.engine.url.database)) as raw:
        raw.execute("UPDATE journal SET at = '2030-01-01T00:00:00.000000Z' WHERE seq = 2")
    assert fast_journal.verify(full=False).ok
    assert fast_journal.verify(full=True).first_bad_seq == 2
    # the checkpoint's own entry edited: the quick verification sees it
    newest = fast_journal.checkpoint()
    assert newest is not None
    with sqlite3.connect(str(fast_journal.engine.url.database)) as raw:
        raw.execute("UPDATE journal SET hash = ? WHERE seq = ?", ("0" * 64, newest.seq))
    report = fast_journal.verify(full=False)
    assert (report.ok, report.first_bad_seq) == (False, newest.seq)
    assert (
        report.problem == f"entry {newest.seq} is not the entry verified before (its hash changed)"
    )


def test_archiving_refuses_a_journal_that_does_not_verify(fast_journal: Journal) -> None:
    _payments(fast_journal, 4)
    fast_journal.set_acked_seq(fast_journal.last_seq())
    with sqlite3.connect(str(fast_journal.engine.url.database)) as raw:
        raw.execute("UPDATE journal SET at = '2030-01-01T00:00:00.000000Z' WHERE seq = 2")
    with pytest.raises(JournalError, match="does not verify, nothing archived: entry 2"):
        fast_journal.archive(LATER)
    assert fast_journal.archives() == []
    assert not Path(fast_journal.archive_dir()).exists()


def test_archiving_checks_again_what_it_archives(fast_journal: Journal) -> None:
    """An entry edited after the checkpoint passed it is caught as it is archived."""
    for _ in range(3):
        _payments(fast_journal, 2)
        _close_batch(fast_journal)
    fast_journal.set_acked_seq(fast_journal.last_seq())
    assert fast_journal.verify(full=False, remember=True).ok
    with sqlite3.connect(str(fast_journal.engine.url.database)) as raw:
        raw.execute("UPDATE journal SET at = '2030-01-01T00:00:00.000000Z' WHERE seq = 4")
    with pytest.raises(JournalError, match="does not verify, nothing archived: entry 4 was edited"):
        fast_journal.archive(LATER)
    assert fast_journal.archives() == [] and fast_journal.get(1) is not None
    assert list(fast_journal.archive_dir().iterdir()) == []


def test_the_two_latest_collections_stay(fast_journal: Journal) -> None:
    """A collection slip names the collection before it: the next slip needs the latest
    collection, and a reprint of the latest slip the one before."""
    started = []
    for n in range(2):
        _payments(fast_journal, 1, tag=f"c{n}-")
        payload = {
            "collection_id": f"col-{n}",
            "slip_number": n + 1,
            "batch_id": fast_journal.open_batch_id(),
            "technician": "Dana Lopez",
            "cashbox_id": "1",
            "seal_number": f"BAG-{n}",
        }
        seq = fast_journal.append(e.COLLECTION_STARTED, payload).seq
        fast_journal.append(
            e.RECOVERY_RESOLVED,
            {"intent_seq": seq, "intent_type": e.COLLECTION_STARTED, "resolution": "test"},
        )
        started.append(seq)
        _close_batch(fast_journal)
    for _ in range(2):
        _payments(fast_journal, 1, tag="later")
        _close_batch(fast_journal)
    _payments(fast_journal, 1, tag="open")
    fast_journal.set_acked_seq(fast_journal.last_seq())
    assert fast_journal.batches()[-2].opened_seq > started[1]
    assert fast_journal.archivable_seq(LATER) == started[0] - 1
