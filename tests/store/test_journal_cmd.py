"""``kiosk journal verify|rebuild|show`` against real journal files."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import pytest

from composition.commands import journal_cmd
from composition.commands.common import JOURNAL_FILE
from contract import entries as e
from kiosk.store.journal import Journal
from tests.store.builders import StepClock, batch_closed, cash_payment, write


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="kiosk")
    journal_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code: int = args.handler(args)
    return code


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    with Journal.open(directory / JOURNAL_FILE, now=StepClock()) as journal:
        write(journal, cash_payment("s1", "1001", [2000, 500]))
    return directory


def test_verify_a_sound_journal(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Journal.open(data_dir / JOURNAL_FILE) as journal:
        last = journal.last()
    assert last is not None
    assert run("journal", "verify", "--data-dir", str(data_dir)) == 0
    assert (
        capsys.readouterr().out
        == f"journal OK: {last.seq} entries checked, last seq {last.seq}, hash {last.hash}\n"
    )
    with Journal.open(data_dir / JOURNAL_FILE) as journal:
        journal.append(e.KIOSK_STARTED, {"version": "1"})
        newest = journal.last()
    assert newest is not None
    # the next time from the entry it verified: that one again, then what came after
    assert run("journal", "verify", "--data-dir", str(data_dir)) == 0
    assert capsys.readouterr().out == (
        f"journal OK: 2 entries checked from seq {last.seq} (verified before), "
        f"last seq {newest.seq}, hash {newest.hash}\n"
    )
    assert run("journal", "verify", "--full", "--data-dir", str(data_dir)) == 0
    assert capsys.readouterr().out.startswith(f"journal OK: {newest.seq} entries checked, ")


def test_verify_full_finds_what_a_verification_from_the_checkpoint_can_not(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("journal", "verify", "--data-dir", str(data_dir)) == 0
    with sqlite3.connect(data_dir / JOURNAL_FILE) as raw:
        raw.execute("UPDATE journal SET at = '2030-01-01T00:00:00.000000Z' WHERE seq = 3")
    assert run("journal", "verify", "--data-dir", str(data_dir)) == 0
    assert run("journal", "verify", "--full", "--data-dir", str(data_dir)) == 1
    out = capsys.readouterr().out
    assert "journal DAMAGED: entry 3 was edited (hash does not match its content)" in out


def test_archive_then_verify_in_full(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "data"
    with Journal.open(directory / JOURNAL_FILE, now=StepClock()) as journal:
        for n in range(3):
            write(journal, cash_payment(f"s{n}", "1001", [2000]))
            journal.record(batch_closed(journal.open_batch_id()))
        write(journal, cash_payment("s9", "1009", [500]))
        assert run("journal", "archive", "--data-dir", str(directory)) == 0
        assert capsys.readouterr().out.startswith("nothing to archive (older than 90 days")
        journal.set_acked_seq(journal.last_seq())
        last = journal.last_seq()
        cut = journal.batches()[-2].opened_seq - 1
    assert run("journal", "archive", "--data-dir", str(directory)) == 0
    out = capsys.readouterr().out
    name = f"journal-{1:010d}-{cut:010d}.jsonl.gz"
    assert out.startswith(f"archived entries 1-{cut} to {directory / 'archive' / name} (sha256 ")
    assert run("journal", "verify", "--full", "--data-dir", str(directory)) == 0
    assert capsys.readouterr().out.startswith(f"journal OK: {last} entries checked, ")
    (directory / "archive" / name).write_bytes(b"not the archive")
    assert run("journal", "verify", "--data-dir", str(directory)) == 0  # from the checkpoint
    assert run("journal", "verify", "--full", "--data-dir", str(directory)) == 1
    assert f"archive {name} (entries 1-{cut}) was changed" in capsys.readouterr().out


def test_verify_an_empty_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Journal.open(tmp_path / JOURNAL_FILE).close()
    assert run("journal", "verify", "--data-dir", str(tmp_path)) == 0
    assert capsys.readouterr().out == "journal OK: 0 entries (empty)\n"


def test_verify_a_tampered_journal(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with sqlite3.connect(data_dir / JOURNAL_FILE) as raw:
        raw.execute(
            """UPDATE journal SET payload = '{"session_id":"s1","language":"fr"}' WHERE seq = 1"""
        )
        raw.execute("DELETE FROM journal WHERE seq = 9")
    assert run("journal", "verify", "--data-dir", str(data_dir)) == 1
    out = capsys.readouterr().out
    assert out.startswith("journal DAMAGED: entry 1 was edited (hash does not match its content)\n")


def test_verify_a_journal_with_a_gap(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with sqlite3.connect(data_dir / JOURNAL_FILE) as raw:
        raw.execute("DELETE FROM journal WHERE seq = 9")
    assert run("journal", "verify", "--data-dir", str(data_dir)) == 1
    assert "entry 9 is missing (seq jumps from 8 to 10)" in capsys.readouterr().out


def test_verify_with_no_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("journal", "verify", "--data-dir", str(tmp_path / "nowhere")) == 2
    assert "no journal at" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()  # verify never creates one


def test_verify_a_file_that_is_not_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / JOURNAL_FILE).write_bytes(b"garbage" * 200)
    assert run("journal", "verify", "--data-dir", str(tmp_path)) == 2
    assert "file is not a database" in capsys.readouterr().err


def test_verify_with_a_broken_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text("[limits\n")
    assert run("journal", "verify", "--config", str(config)) == 2
    assert "can not read the configuration" in capsys.readouterr().err


def test_the_config_names_the_data_dir(data_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[storage]\ndata_dir = "{data_dir}"\n')
    assert run("journal", "verify", "--config", str(config)) == 0


def test_rebuild(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with sqlite3.connect(data_dir / JOURNAL_FILE) as raw:
        raw.execute("DELETE FROM bills")
        count = raw.execute("SELECT count(*) FROM journal").fetchone()[0]
    assert run("journal", "rebuild", "--data-dir", str(data_dir)) == 0
    assert capsys.readouterr().out == f"projections rebuilt: {count} entries replayed\n"
    with Journal.open(data_dir / JOURNAL_FILE) as journal:
        assert len(journal.bills()) == 2


def test_rebuild_of_an_unreadable_journal(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(data_dir / JOURNAL_FILE) as raw:
        raw.execute("UPDATE journal SET payload = 'nope' WHERE seq = 2")
    assert run("journal", "rebuild", "--data-dir", str(data_dir)) == 1
    assert (
        "rebuild failed, the projections are unchanged: entry 2 is unreadable"
        in capsys.readouterr().err
    )


def test_show_the_last_entries(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Journal.open(data_dir / JOURNAL_FILE) as journal:
        journal.append(e.KIOSK_STARTED, {"version": "1.0", "kiosk_id": "K-Peñasco"})
        last = journal.last_seq()
    assert run("journal", "show", "--last", "2", "--data-dir", str(data_dir)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    seq, at, type_, payload = lines[1].split(maxsplit=3)
    assert (int(seq), type_, payload) == (
        last,
        "kiosk.started",
        '{"kiosk_id":"K-Peñasco","version":"1.0"}',
    )
    assert at.endswith("Z") and "T" in at
    assert lines[0].split()[2] == e.SESSION_ENDED


def test_through_the_kiosk_command(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from composition.cli import main

    assert main(["journal", "verify", "--data-dir", str(data_dir)]) == 0
    assert capsys.readouterr().out.startswith("journal OK: ")
