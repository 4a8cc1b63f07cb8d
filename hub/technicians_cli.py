"""``kiosk-hub technicians add|list|remove|pin``: who may enter service mode on the kiosks.

A PIN is typed twice without echo, or read from the first line of standard input with
``--pin-stdin`` (scripts); it never appears on a command line, where other users of the
machine and the shell's history would see it. See docs/hub.md, "Technicians".
"""

from __future__ import annotations

import argparse
import getpass
import sys

from contract.pins import PinRejected, read_new_pin
from hub import technicians
from hub.context import HubContext
from hub.errors import Invalid

OK = 0


def _pin(args: argparse.Namespace) -> str:
    try:
        return read_new_pin(args.pin_stdin, sys.stdin, getpass.getpass)
    except PinRejected as exc:
        raise Invalid(f"PIN refused: {exc}") from None
    except EOFError:
        raise Invalid("no PIN was given (standard input ended)") from None


def cmd_add(args: argparse.Namespace, hub: HubContext) -> int:
    technicians.add(hub.db, args.name, _pin(args), args.badge, hub.clock())
    badge = f" with badge {args.badge}" if args.badge else ""
    print(f"technician {args.name} added{badge}; every kiosk gets it at its next settings pull")
    return OK


def cmd_list(args: argparse.Namespace, hub: HubContext) -> int:
    for person in technicians.listing(hub.db):
        state = "active" if person.active else "removed"
        changed = person.updated_at.strftime("%Y-%m-%d %H:%M UTC")
        print(f"{person.name:<32} {state:<8} badge {person.badge or '-':<20} changed {changed}")
    return OK


def cmd_remove(args: argparse.Namespace, hub: HubContext) -> int:
    technicians.remove(hub.db, args.name, hub.clock())
    print(f"technician {args.name} removed; kiosks drop it at their next settings pull")
    return OK


def cmd_pin(args: argparse.Namespace, hub: HubContext) -> int:
    technicians.set_pin(hub.db, args.name, _pin(args), hub.clock())
    print(f"technician {args.name}: new PIN; kiosks take it at their next settings pull")
    return OK


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    group = sub.add_parser("technicians", help="who may enter service mode on the kiosks")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    pin_stdin = argparse.ArgumentParser(add_help=False)
    pin_stdin.add_argument(
        "--pin-stdin", action="store_true", help="read the PIN from standard input's first line"
    )

    add = actions.add_parser("add", parents=[common, pin_stdin], help="add a technician")
    add.add_argument("name", help='the name kiosks record, e.g. "Dana Lopez"')
    add.add_argument("--badge", metavar="CODE", help="the code of their badge barcode")
    add.set_defaults(handler=cmd_add)

    listing = actions.add_parser("list", parents=[common], help="technicians (never PINs)")
    listing.set_defaults(handler=cmd_list)

    remove = actions.add_parser("remove", parents=[common], help="take one off every kiosk")
    remove.add_argument("name")
    remove.set_defaults(handler=cmd_remove)

    pin = actions.add_parser("pin", parents=[common, pin_stdin], help="change a PIN")
    pin.add_argument("name")
    pin.set_defaults(handler=cmd_pin)
