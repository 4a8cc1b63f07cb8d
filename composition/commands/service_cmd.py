"""``kiosk service pin-hash``: the argon2 hash of a new service-mode PIN, for the config file.

Technicians normally come from the hub with the kiosk's settings; ``[service] technicians``
in the config file is the fallback for a kiosk that was never enrolled (docs/technician.md).
The PIN is typed twice without echo, or read from standard input's first line with
``--pin-stdin``; it is never an argument, where the shell's history would keep it. The PIN
rules are the hub's (``contract.pins``), so a PIN the hub would refuse is refused here too.

Exit codes: 0 the hash is printed, 1 the PIN was refused.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from contract.pins import PinRejected, hash_pin, read_new_pin

OK, FAILED = 0, 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    service = sub.add_parser("service", help="service mode: PIN hashes for the config file")
    inner = service.add_subparsers(dest="service_command", required=True, metavar="WHAT")
    pin_hash = inner.add_parser(
        "pin-hash", help="hash a new PIN for [service] technicians in the config file"
    )
    pin_hash.add_argument(
        "--pin-stdin", action="store_true", help="read the PIN from standard input's first line"
    )
    pin_hash.set_defaults(handler=print_pin_hash)


def print_pin_hash(args: argparse.Namespace) -> int:
    try:
        pin = read_new_pin(args.pin_stdin, sys.stdin, getpass.getpass)
    except PinRejected as exc:
        print(f"kiosk service pin-hash: PIN refused: {exc}", file=sys.stderr)
        return FAILED
    except EOFError:
        print("kiosk service pin-hash: no PIN was given", file=sys.stderr)
        return FAILED
    print(hash_pin(pin))
    print(
        'paste it into [service] technicians: { name = "…", pin_hash = "<the line above>" }',
        file=sys.stderr,
    )
    return OK
