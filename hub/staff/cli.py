"""``kiosk-hub user add|list|disable|reset-password|reset-totp``: the console's staff.

A password is typed twice without echo, or read from the first line of standard input with
``--password-stdin``; it is never an argument, where ``ps`` and the shell's history would
show it. ``add`` and ``reset-totp`` print the TOTP secret and an ``otpauth://`` URI once, for
the person's authenticator app. Every change is audited as ``cli:`` + the login name of
whoever ran the command. See docs/hub.md, "Staff and the console".
"""

from __future__ import annotations

import argparse
import getpass
import sys

from hub.context import HubContext
from hub.errors import Invalid
from hub.staff import audit, users
from hub.staff.roles import ROLES

OK = 0


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise Invalid("no password was given (standard input ended)")
        return line.rstrip("\r\n")
    try:
        first = getpass.getpass("new password: ")
        second = getpass.getpass("again: ")
    except EOFError:
        raise Invalid("no password was given (standard input ended)") from None
    if first != second:
        raise Invalid("the two passwords differ; nothing was changed")
    return first


def _print_enrolled(enrolled: users.Enrolled) -> None:
    print(f"TOTP secret for {enrolled.name}: {enrolled.secret}")
    print(f"  authenticator app URI: {enrolled.uri}")
    print("  shown this once: add it to the person's authenticator app now")


def cmd_add(args: argparse.Namespace, hub: HubContext) -> int:
    users.check_name(args.name)
    users.check_role(args.role)
    password = _password(args)
    enrolled = users.add(hub.db, args.name, args.role, password, hub.clock(), audit.cli_actor())
    print(f"user {args.name} added as {args.role}")
    _print_enrolled(enrolled)
    return OK


def cmd_list(args: argparse.Namespace, hub: HubContext) -> int:
    now = hub.clock()
    for account in users.listing(hub.db):
        state = account.state(now)
        changed = account.updated_at.strftime("%Y-%m-%d %H:%M UTC")
        print(f"{account.name:<32} {account.role:<11} {state:<10} changed {changed}")
    return OK


def cmd_disable(args: argparse.Namespace, hub: HubContext) -> int:
    users.disable(hub.db, args.name, hub.clock(), audit.cli_actor())
    print(f"user {args.name} disabled; their sessions have ended")
    return OK


def cmd_reset_password(args: argparse.Namespace, hub: HubContext) -> int:
    password = _password(args)
    users.reset_password(hub.db, args.name, password, hub.clock(), audit.cli_actor())
    print(f"user {args.name}: new password set, any lock lifted, sessions ended")
    return OK


def cmd_reset_totp(args: argparse.Namespace, hub: HubContext) -> int:
    enrolled = users.reset_totp(hub.db, args.name, hub.clock(), audit.cli_actor())
    print(f"user {args.name}: new TOTP secret; the old codes no longer work")
    _print_enrolled(enrolled)
    return OK


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    group = sub.add_parser("user", help="staff who sign in to the console")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    password_stdin = argparse.ArgumentParser(add_help=False)
    password_stdin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input's first line",
    )

    add = actions.add_parser("add", parents=[common, password_stdin], help="add a user")
    add.add_argument("name", help="what they type to sign in, e.g. dana.lopez")
    add.add_argument("--role", required=True, choices=ROLES)
    add.set_defaults(handler=cmd_add)

    listing = actions.add_parser("list", parents=[common], help="users and roles (never secrets)")
    listing.set_defaults(handler=cmd_list)

    disable = actions.add_parser("disable", parents=[common], help="stop a user signing in")
    disable.add_argument("name")
    disable.set_defaults(handler=cmd_disable)

    reset_password = actions.add_parser(
        "reset-password", parents=[common, password_stdin], help="set a new password"
    )
    reset_password.add_argument("name")
    reset_password.set_defaults(handler=cmd_reset_password)

    reset_totp = actions.add_parser(
        "reset-totp", parents=[common], help="issue a new TOTP secret (a lost phone)"
    )
    reset_totp.add_argument("name")
    reset_totp.set_defaults(handler=cmd_reset_totp)
