"""``kiosk emulate DEVICE [--link PATH] [--protocol P]``: a device on a pseudo-terminal.

For a technician without the hardware, and for trying a driver by hand: the emulator puts
its port behind ``PATH`` (a symlink, printed on start), which goes in the kiosk's
``[devices]`` section, and takes control commands on stdin (``help`` lists them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from devices.emulators.console import (
    ACCEPTOR_PROTOCOLS,
    EMULATORS,
    EmulatorUnavailable,
    default_link,
    run_console,
)
from kiosk.device_names import UnknownDevice, choices_text, device_name


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "emulate",
        help="run a device emulator on a pseudo-terminal",
        description="Run a device emulator; its port path is printed first, then commands "
        "are read from stdin one per line (help, counters, quit, or the device's controls).",
    )
    parser.add_argument(
        "device", type=_emulated, metavar="DEVICE", help=f"which device: {choices_text()}"
    )
    parser.add_argument(
        "--link",
        type=Path,
        default=None,
        help="path of the port symlink to create (default: in the user's runtime directory)",
    )
    parser.add_argument(
        "--protocol",
        choices=tuple(ACCEPTOR_PROTOCOLS),
        default="ebds",
        help="the bill acceptor's protocol, as bill_acceptor_protocol in the config (default ebds)",
    )
    parser.add_argument(
        "--model",
        choices=("mei", "apex"),
        default="mei",
        help="which EBDS acceptor to play, as emulated_acceptor_model in the config: an MEI "
        "(answers the cash box query) or a Pyramid Apex (does not); default mei",
    )
    parser.set_defaults(handler=run_emulate)


def _emulated(text: str) -> str:
    try:
        return device_name(text, tuple(EMULATORS))
    except UnknownDevice as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run_emulate(args: argparse.Namespace) -> int:
    name: str = args.device
    if args.protocol != "ebds" and name != "bill_acceptor":
        return _fail("--protocol is the bill acceptor's: the other devices have one each")
    try:
        link: Path = args.link if args.link is not None else default_link(name)
    except OSError as exc:
        return _fail(f"no place for the port link: {exc}")
    if link.exists() and not link.is_symlink():
        # the emulator replaces the link: never a file someone pointed --link at by mistake
        return _fail(f"{link} exists and is not a symlink; choose another --link")
    if args.model != "mei" and (name != "bill_acceptor" or args.protocol != "ebds"):
        return _fail("--model is the EBDS bill acceptor's")
    factory = ACCEPTOR_PROTOCOLS[args.protocol] if name == "bill_acceptor" else EMULATORS[name]
    options = {"flavour": args.model} if args.model != "mei" else {}
    try:
        emulator = factory(link, **options)
    except EmulatorUnavailable as exc:
        return _fail(str(exc))
    try:
        return run_console(emulator, sys.stdin, sys.stdout)
    except OSError as exc:
        return _fail(f"can not start the {name} emulator at {link}: {exc}")


def _fail(message: str) -> int:
    print(f"kiosk emulate: {message}", file=sys.stderr)
    return 2
