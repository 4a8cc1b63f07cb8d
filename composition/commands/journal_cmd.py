"""``kiosk journal verify|rebuild|show|archive``: the technician's view of the journal.

Exit codes: 0 all good, 1 the journal is damaged (or a rebuild failed), 2 the journal could
not be opened at all (no file, not a database, bad config), so a script can tell a tampered
journal from a missing disk.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from composition.commands.common import add_location_options, config_from, journal_path
from contract.chain import canonical_json
from kiosk.store.journal import Journal, JournalError
from kiosk.store.lock import DataDirError, DataDirLock

OK, DAMAGED, UNAVAILABLE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``journal`` and its subcommands to the ``kiosk`` parser's subparsers."""
    parser = subparsers.add_parser("journal", help="check, replay or list the kiosk's journal")
    sub = parser.add_subparsers(dest="journal_command", required=True, metavar="ACTION")

    verify = sub.add_parser("verify", help="check the hash chain; exit 1 if it is broken")
    add_location_options(verify)
    verify.add_argument(
        "--full",
        action="store_true",
        help="from seq 1, archives included (by default: from the last verified entry)",
    )
    verify.set_defaults(handler=run_verify)

    archive = sub.add_parser(
        "archive", help="move old entries the hub holds into compressed files in archive/"
    )
    add_location_options(archive)
    archive.add_argument(
        "--older-than-days",
        type=int,
        default=None,
        metavar="N",
        help="entries older than N days (default: storage.archive_after_days)",
    )
    archive.set_defaults(handler=run_archive)

    rebuild = sub.add_parser("rebuild", help="rebuild payments, bills, cards and batches")
    add_location_options(rebuild)
    rebuild.set_defaults(handler=run_rebuild)

    show = sub.add_parser("show", help="list the newest entries")
    add_location_options(show)
    show.add_argument("--last", type=int, default=20, metavar="N", help="how many (default 20)")
    show.set_defaults(handler=run_show)


def _fail(message: str) -> None:
    print(f"kiosk journal: {message}", file=sys.stderr)


def _open(args: argparse.Namespace) -> Journal | None:
    """The journal named by the options, or ``None`` after saying why it can't be opened.

    It is never created here: a missing file is a finding, not something to paper over.
    """
    try:
        path: Path = journal_path(config_from(args))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        _fail(f"can not read the configuration: {exc}")
        return None
    if not path.is_file():
        _fail(f"no journal at {path} (check --data-dir or storage.data_dir in the config)")
        return None
    try:
        return Journal.open(path, catch_up=False)
    except JournalError as exc:
        _fail(str(exc))
        return None


def run_verify(args: argparse.Namespace) -> int:
    journal = _open(args)
    if journal is None:
        return UNAVAILABLE
    with journal:
        try:
            report = journal.verify(full=args.full, remember=True)
        except JournalError as exc:
            _fail(str(exc))
            return UNAVAILABLE
    if not report.ok:
        print(f"journal DAMAGED: {report.problem}")
        print(f"({report.checked} entries checked sound before it)")
        return DAMAGED
    if report.last_seq == 0:
        print("journal OK: 0 entries (empty)")
    else:
        since = "" if report.from_seq <= 1 else f" from seq {report.from_seq} (verified before)"
        print(
            f"journal OK: {report.checked} entries checked{since}, last seq {report.last_seq}, "
            f"hash {report.last_hash}"
        )
    return OK


def run_archive(args: argparse.Namespace) -> int:
    days = args.older_than_days
    if days is None:
        try:
            days = config_from(args).storage.archive_after_days
        except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
            _fail(f"can not read the configuration: {exc}")
            return UNAVAILABLE
    if days < 1:
        _fail("--older-than-days must be 1 or more")
        return UNAVAILABLE
    journal = _open(args)
    if journal is None:
        return UNAVAILABLE
    with journal:
        try:
            record = journal.archive(datetime.now(UTC) - timedelta(days=days))
        except JournalError as exc:
            _fail(str(exc))
            return DAMAGED
        if record is None:
            print(f"nothing to archive (older than {days} days and acknowledged by the hub)")
            return OK
        print(
            f"archived entries {record.first_seq}-{record.last_seq} to "
            f"{journal.archive_dir() / record.file} (sha256 {record.sha256})"
        )
    return OK


def run_rebuild(args: argparse.Namespace) -> int:
    """Rewrites every projection table, so never beside a running kiosk (it takes the lock)."""
    journal = _open(args)
    if journal is None:
        return UNAVAILABLE
    with journal:
        try:
            with DataDirLock(journal_path(config_from(args)).parent):
                replayed = journal.rebuild_projections()
        except DataDirError as exc:
            _fail(str(exc))
            return UNAVAILABLE
        except JournalError as exc:
            _fail(f"rebuild failed, the projections are unchanged: {exc}")
            return DAMAGED
    print(f"projections rebuilt: {replayed} entries replayed")
    return OK


def run_show(args: argparse.Namespace) -> int:
    if args.last < 0:
        _fail("--last must be 0 or more")
        return UNAVAILABLE
    journal = _open(args)
    if journal is None:
        return UNAVAILABLE
    with journal:
        try:
            first = max(journal.last_seq() - args.last, 0)
            for entry in journal.entries(after_seq=first):
                at = entry.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                print(f"{entry.seq:>7}  {at}  {entry.type:<24} {canonical_json(entry.payload)}")
        except JournalError as exc:
            _fail(str(exc))
            return DAMAGED
    return OK
