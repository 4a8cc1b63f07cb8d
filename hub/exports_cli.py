"""``kiosk-hub export …``: the finance exports written to a file or to standard output.

The same files the console serves (:mod:`hub.exports`), for a script or a clerk at a shell:
``kiosk-hub export payments --day 2025-03-01 -o payments.csv``. Without ``-o`` (or with
``-o -``) the bytes go to standard output as they are, so a PDF can be piped.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from hub import exports
from hub.context import HubContext

OK = 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day: write YYYY-MM-DD") from None


def _write(data: bytes, target: str | None) -> None:
    """To standard output, or to a file replaced whole: a reader never sees half of it."""
    if target is None or target == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    path = Path(target)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)
    print(f"wrote {path} ({len(data):,} bytes)", file=sys.stderr)


def cmd_export(args: argparse.Namespace, hub: HubContext) -> int:
    make: Callable[[argparse.Namespace, HubContext], bytes] = args.make
    _write(make(args, hub), args.output)
    return OK


def _payments(args: argparse.Namespace, hub: HubContext) -> bytes:
    return exports.payments_csv(hub.db, hub.zone, args.day, args.kiosk)


def _batches(args: argparse.Namespace, hub: HubContext) -> bytes:
    return exports.batches_csv(hub.db, hub.zone, args.day, args.kiosk)


def _over_short(args: argparse.Namespace, hub: HubContext) -> bytes:
    return exports.over_short_csv(hub.db, hub.zone, args.since, args.until)


def _batch_report(args: argparse.Namespace, hub: HubContext) -> bytes:
    return exports.batch_report_pdf(hub.db, hub.zone, args.kiosk, args.batch)


def _deposit_slip(args: argparse.Namespace, hub: HubContext) -> bytes:
    return exports.deposit_slip_pdf(hub.db, hub.zone, args.day)


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    group = sub.add_parser("export", help="finance CSV and PDF exports for a day or a batch")
    kinds = group.add_subparsers(dest="export", required=True, metavar="EXPORT")
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE (default, or -: standard output)"
    )
    day = argparse.ArgumentParser(add_help=False)
    day.add_argument("--day", type=_day, required=True, help="YYYY-MM-DD, in the hub's zone")
    kiosk = argparse.ArgumentParser(add_help=False)
    kiosk.add_argument("--kiosk", help="one kiosk only")

    parents = [common, output, day, kiosk]
    payments = kinds.add_parser("payments", parents=parents, help="a day's payments (CSV)")
    payments.set_defaults(handler=cmd_export, make=_payments)
    batches = kinds.add_parser("batches", parents=parents, help="a day's collected batches (CSV)")
    batches.set_defaults(handler=cmd_export, make=_batches)
    ledger = kinds.add_parser(
        "over-short", parents=[common, output], help="the over/short ledger (CSV)"
    )
    ledger.add_argument("--since", type=_day, help="first day, YYYY-MM-DD")
    ledger.add_argument("--until", type=_day, help="last day, YYYY-MM-DD")
    ledger.set_defaults(handler=cmd_export, make=_over_short)
    report = kinds.add_parser(
        "batch-report", parents=[common, output], help="a batch's reconciliation report (PDF)"
    )
    report.add_argument("kiosk")
    report.add_argument("batch", help="the batch id, e.g. B1")
    report.set_defaults(handler=cmd_export, make=_batch_report)
    slip = kinds.add_parser(
        "deposit-slip", parents=[common, output, day], help="a day's deposit slip (PDF)"
    )
    slip.set_defaults(handler=cmd_export, make=_deposit_slip)
