"""``kiosk-hub posting files|rewrite``: the import files the hub wrote, and any of them again.

A billing system that lost a file, or an auditor who wants to see what was sent, gets the
same bytes again from the hub's records (:func:`hub.posting.files.rewrite`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlalchemy import select

from hub.context import HubContext
from hub.models import Transmission
from hub.posting.files import rewrite, write_atomically

OK = 0


def cmd_files(args: argparse.Namespace, hub: HubContext) -> int:
    with hub.db.read() as conn:
        rows = conn.execute(select(Transmission.__table__).order_by(Transmission.id)).all()
    for row in rows:
        state = "written" if row.written_at is not None else "NOT WRITTEN YET"
        print(
            f"{row.id:>8}  {row.file_name}  {row.layout_name} v{row.layout_version} "
            f"({row.layout_hash[:12]})  {row.detail_count} payment(s), "
            f"{row.total_cents} cents  {state}"
        )
    print(f"{len(rows)} file(s)")
    return OK


def cmd_rewrite(args: argparse.Namespace, hub: HubContext) -> int:
    name, content = rewrite(hub.db, args.transmission_id)
    target: Path = args.out if args.out is not None else Path(name)
    if target.is_dir():
        target = target / name
    write_atomically(target, content)
    print(f"transmission {args.transmission_id} written again to {target} ({len(content)} bytes)")
    return OK


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    group = sub.add_parser("posting", help="payment import files the hub wrote")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "files", parents=[common], help="every transmission, its layout and totals"
    ).set_defaults(handler=cmd_files)
    again = actions.add_parser(
        "rewrite", parents=[common], help="write a past file again, byte for byte"
    )
    again.add_argument("transmission_id", type=int)
    again.add_argument(
        "--out", type=Path, help="file or directory (default: its name, here); never overwritten"
    )
    again.set_defaults(handler=cmd_rewrite)
