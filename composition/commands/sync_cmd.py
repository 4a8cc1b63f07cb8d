"""``kiosk sync status|push``: what the sync worker is doing, and a push on demand.

``status`` reads the journal (queue depth, oldest unsent entry: the truth) beside the small
status file the running worker keeps (last contact, last error, a conflict), so it works
while the kiosk runs and when it does not. ``push`` pushes once now, from this process: the
hub is idempotent, so it is safe beside a running worker.

Exit codes: 0 fine (status: nothing alarming; push: caught up), 1 a problem to look at
(a conflict, an error, entries left unsent), 2 the command could not run (no journal, not
enrolled, bad configuration).
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from composition.commands.common import add_location_options, config_from, journal_path
from kiosk.store.journal import Journal, JournalError
from sync import credentials as creds
from sync.client import HubClient
from sync.status import StatusFile, SyncStatus, read_status
from sync.worker import SyncWorker

OK, ATTENTION, UNUSABLE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("sync", help="hub replication: status, push now")
    sub = parser.add_subparsers(dest="sync_command", required=True, metavar="ACTION")
    status = sub.add_parser("status", help="queue depth, last contact, last error")
    add_location_options(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=run_status)
    push = sub.add_parser("push", help="push unsent journal entries to the hub now")
    add_location_options(push)
    push.set_defaults(handler=run_push)


def _fail(message: str) -> None:
    print(f"kiosk sync: {message}", file=sys.stderr)


def _locate(args: argparse.Namespace) -> tuple[Path, Path] | None:
    try:
        config = config_from(args)
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        _fail(f"can not read the configuration: {exc}")
        return None
    return config.storage.resolved_data_dir(), journal_path(config)


def _open_journal(path: Path) -> Journal | None:
    if not path.is_file():
        _fail(f"no journal at {path} (check --data-dir or storage.data_dir in the config)")
        return None
    try:
        return Journal.open(path, catch_up=False)
    except JournalError as exc:
        _fail(str(exc))
        return None


# ---------------------------------------------------------------------------- status


def queue_facts(journal: Journal, now: datetime) -> dict[str, Any]:
    """Queue depth and the oldest unsent entry's age, from the journal itself."""
    last, acked = journal.last_seq(), journal.acked_seq()
    oldest = journal.get(acked + 1) if last > acked else None
    return {
        "last_seq": last,
        "acked_seq": acked,
        "queue_depth": last - acked,
        "oldest_unsent_at": oldest.at.isoformat() if oldest else None,
        "oldest_unsent_age_s": round((now - oldest.at).total_seconds(), 1) if oldest else None,
    }


def run_status(args: argparse.Namespace) -> int:
    located = _locate(args)
    if located is None:
        return UNUSABLE
    data_dir, path = located
    now = datetime.now(UTC)
    try:
        enrolled = creds.load_optional(data_dir)
        enrolled_error = ""
    except creds.CredentialsError as exc:
        enrolled, enrolled_error = None, str(exc)
    journal = _open_journal(path)
    if journal is None:
        return UNUSABLE
    with journal:
        try:
            facts = queue_facts(journal, now)
        except JournalError as exc:
            _fail(str(exc))
            return UNUSABLE
    status = read_status(data_dir)
    report = {
        "enrolled": enrolled is not None,
        "kiosk_id": enrolled.kiosk_id if enrolled else None,
        "hub_url": enrolled.hub_url if enrolled else None,
        "credentials_problem": enrolled_error
        or ("readable by others: chmod 600" if creds.too_open(data_dir) else ""),
        **facts,
        "worker": status.model_dump(mode="json"),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_status(report, status, now)
    alarming = status.conflict is not None or status.alert or not report["enrolled"]
    return ATTENTION if alarming else OK


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    age = _duration((now - moment).total_seconds())
    return f"{moment.strftime('%Y-%m-%d %H:%M:%S UTC')} ({age} ago)"


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _print_status(report: dict[str, Any], status: SyncStatus, now: datetime) -> None:
    if report["enrolled"]:
        print(f"kiosk:          {report['kiosk_id']} at {report['hub_url']}")
    else:
        print("kiosk:          NOT ENROLLED (run `kiosk provision --hub URL --code CODE`)")
    if report["credentials_problem"]:
        print(f"credentials:    {report['credentials_problem']}")
    print(f"journal:        last seq {report['last_seq']}, hub acknowledged {report['acked_seq']}")
    if report["queue_depth"]:
        age = _duration(report["oldest_unsent_age_s"] or 0)
        print(
            f"queue:          {report['queue_depth']} entries unsent, the oldest {age} old "
            f"({report['oldest_unsent_at']})"
        )
    else:
        print("queue:          empty (everything is at the hub)")
    print(f"worker:         {status.state}")
    print(f"last contact:   {_ago(status.last_contact_at, now)}")
    print(f"last push:      {_ago(status.last_push_at, now)}")
    if status.last_error:
        print(f"last error:     {status.last_error} ({_ago(status.last_error_at, now)})")
    if status.conflict is not None:
        c = status.conflict
        print(f"CONFLICT:       {c.kind} at seq {c.seq}: {c.reason}")
        print("                pushing stopped; see docs/sync.md, 'Conflicts'")
    if status.alert:
        print(f"ALERT:          {status.alert}")
    if status.settings_version is not None:
        print(
            f"settings:       version {status.settings_version}, pulled "
            f"{_ago(status.settings_pulled_at, now)}"
        )
    if status.accounts_version is not None:
        print(
            f"account cache:  version {status.accounts_version}, refreshed "
            f"{_ago(status.accounts_pulled_at, now)}"
        )


# ------------------------------------------------------------------------------ push


def run_push(args: argparse.Namespace) -> int:
    located = _locate(args)
    if located is None:
        return UNUSABLE
    data_dir, path = located
    try:
        enrolled = creds.load(data_dir)
    except creds.CredentialsError as exc:
        _fail(str(exc))
        return UNUSABLE
    journal = _open_journal(path)
    if journal is None:
        return UNUSABLE
    client = HubClient(enrolled.hub_url, enrolled.kiosk_id, enrolled.secret)
    try:
        with journal:
            worker = SyncWorker(journal, client, StatusFile(data_dir))
            report = worker.push_now()
    finally:
        client.close()
    print(
        f"pushed {report.pushed} entries; the hub acknowledged seq {report.acked_seq} of "
        f"{report.last_seq}"
    )
    if report.halted:
        print(f"STOPPED: {report.halted}", file=sys.stderr)
        return ATTENTION
    if report.error:
        print(f"error: {report.error}", file=sys.stderr)
        return ATTENTION
    return OK if report.caught_up else ATTENTION
