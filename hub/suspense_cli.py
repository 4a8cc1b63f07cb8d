"""``kiosk-hub suspense list|resolve``: payments waiting for a clerk to name their account."""

from __future__ import annotations

import argparse
import getpass

from hub import suspense
from hub.context import HubContext

OK = 0
FAILED = 1


def cmd_list(args: argparse.Namespace, hub: HubContext) -> int:
    rows = suspense.listing(hub.db)
    for row in rows:
        print(
            f"{row.payment_id}  {row.kiosk_id}  {row.confirmation}  paid to {row.account_number}"
            f"  {row.amount_cents / 100:.2f}  {row.paid_at}  ({row.reason})"
        )
    print(f"{len(rows)} payment(s) in suspense")
    return OK


def cmd_resolve(args: argparse.Namespace, hub: HubContext) -> int:
    by = args.by or f"cli:{getpass.getuser()}"
    suspense.resolve(hub.db, args.payment_id, args.account, by, hub.clock())
    outcome, error = hub.poster.post_one(args.payment_id)
    if outcome == "failed":
        print(f"payment {args.payment_id} assigned to {args.account}, but posting failed: {error}")
        return FAILED
    print(f"payment {args.payment_id} assigned to {args.account} by {by}: {outcome}")
    return OK


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
    posting: argparse.ArgumentParser,
) -> None:
    group = sub.add_parser(
        "suspense", help="payments waiting for a clerk: an unknown account, or held by the hub"
    )
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", parents=[common], help="payments in suspense").set_defaults(
        handler=cmd_list
    )
    resolve = actions.add_parser(
        "resolve", parents=[common, posting], help="assign the right account, then post it"
    )
    resolve.add_argument("payment_id")
    resolve.add_argument("account", help="the account the payment was meant for")
    resolve.add_argument("--by", default=None, help="who resolved it (default: cli:LOGIN)")
    resolve.set_defaults(handler=cmd_resolve)
