"""``kiosk batch show|close``: the open batch's report, and closing it at collection.

Exit codes of ``close``: 0 closed and the card terminal's end of day agrees with the kiosk,
1 closed but the two card totals differ (or the batch could not be closed), 2 nothing was
done (another kiosk holds the data directory, the journal or devices could not be opened).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from composition.commands.common import add_location_options, config_from, journal_path
from kiosk.batches import open_batch_report
from kiosk.store.journal import Journal, JournalError
from kiosk.store.lock import DataDirBusy, DataDirError

IN_SERVICE_MODE = (
    "collect the cash box from the touchscreen's service mode, or stop the kiosk first"
)
"""What to do when a running kiosk holds the data directory: closing beside it would talk
to its terminal and write its journal behind its back."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    batch = sub.add_parser("batch", help="the open batch: report, close at cash-box collection")
    inner = batch.add_subparsers(dest="batch_command", required=True, metavar="WHAT")
    show = inner.add_parser("show", help="report on the open batch")
    add_location_options(show)
    show.set_defaults(handler=run_show)
    close = inner.add_parser(
        "close",
        help="close the open batch (the kiosk must be stopped); exit 1 if the card terminal's "
        "end of day does not match the kiosk",
    )
    add_location_options(close)
    close.add_argument("--devices", choices=["emulated", "simulated"], default=None)
    close.add_argument("--by", default=None, help="who collected the cash box")
    close.set_defaults(handler=run_close)


def _open(args: argparse.Namespace) -> Journal | None:
    try:
        return Journal.open(journal_path(config_from(args)))
    except JournalError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return None


def run_show(args: argparse.Namespace) -> int:
    journal = _open(args)
    if journal is None:
        return 2
    with journal:
        print("\n".join(open_batch_report(journal).lines()))
    return 0


def run_close(args: argparse.Namespace) -> int:
    """Closing includes the card terminal's end of day, so the devices are opened too."""
    # the whole kiosk is only needed here: other commands start faster without it
    from composition.wiring import build_kiosk
    from kiosk.engine.inputs import CloseBatch
    from sync.credentials import CredentialsError

    try:
        kiosk = build_kiosk(config_from(args))
    except DataDirBusy as exc:
        print(f"kiosk: {exc.advised(IN_SERVICE_MODE)}", file=sys.stderr)
        return 2
    except (DataDirError, JournalError, CredentialsError, ValueError, OSError) as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    try:
        kiosk.engine.handle(CloseBatch(args.by or getpass.getuser()))
        report = kiosk.engine.last_batch
    except JournalError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 1
    finally:
        kiosk.close()
    if report is None:
        print("kiosk: the batch was not closed (a payment is in progress)", file=sys.stderr)
        return 1
    print("batch closed")
    print("\n".join(report.lines()))
    if report.terminal_problem:
        print(
            "kiosk: the card terminal did not give its end of day: run it on the terminal "
            "and keep its receipt for finance",
            file=sys.stderr,
        )
        return 1
    if not report.card_agreed:
        print(
            "kiosk: the card terminal's end of day does not match the kiosk's card approvals: "
            "keep the terminal's end-of-day receipt for finance",
            file=sys.stderr,
        )
        return 1
    return 0
