"""``kiosk devices scan`` and ``kiosk devices test NAME``: find the devices, then try each one.

``scan`` is what a technician runs after plugging the adapters in, to learn which port is
which (and whether ``[devices]`` in the config points at the right ones); ``test`` is what
they run to see a device work through the kiosk's own driver. Both are meant to run with the
kiosk service stopped: a port the service holds is reported busy and left alone.

Exit status. ``scan``: 0 when every serial device the config names answered where it says
(or it names none), 1 otherwise, 2 when the config can not be read. ``test``: 0 pass,
1 fail, 2 the device (or the config) could not be opened.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from kiosk.config import KioskConfig
from kiosk.config_check import load_config_or_problems
from kiosk.device_names import UnknownDevice, choices_text, device_name
from provisioning.detect import (
    DEVICE_NAMES,
    PROBE_TIMEOUT,
    Detection,
    candidate_ports,
    check_configured,
    configured_ports,
    scan,
)
from provisioning.device_tests import DEFAULT_WAIT, DEVICES, Verdict, run_device_test
from provisioning.udev import DEFAULT_PATH as UDEV_RULES
from provisioning.udev import STABLE_NAMES, Assignment, rules_text, usb_port
from sync.files import write_atomic

CANNOT_READ_CONFIG = 2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "devices",
        help="find which device is on which serial port, and test each one",
        description="Find the kiosk's serial devices and test them (stop the kiosk first).",
    )
    inner = parser.add_subparsers(dest="devices_command", required=True, metavar="ACTION")

    scan_parser = inner.add_parser(
        "scan",
        help="probe the serial ports and say what answers on each",
        description="Probe every serial port (and each --port) with read-only status requests "
        "and print what answers; then check the ports the config names. Exit 0 when every "
        "configured device answered where the config says, 1 otherwise.",
    )
    _config_option(scan_parser)
    scan_parser.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="PATH",
        help="also probe PATH (repeatable); e.g. an emulator's link",
    )
    scan_parser.add_argument(
        "--only",
        action="store_true",
        help="probe only the --port paths and the ports the config names",
    )
    scan_parser.add_argument(
        "--timeout",
        type=_seconds,
        default=PROBE_TIMEOUT,
        metavar="S",
        help=f"seconds to wait for each reply (default {PROBE_TIMEOUT:g})",
    )
    scan_parser.add_argument(
        "--write-udev",
        nargs="?",
        const=UDEV_RULES,
        type=Path,
        metavar="FILE",
        help="write udev rules naming each device found /dev/kiosk/… by its USB adapter "
        f"(default {UDEV_RULES})",
    )
    scan_parser.set_defaults(handler=run_scan)

    test = inner.add_parser(
        "test",
        help="exercise one device through the kiosk's driver",
        description="bill_acceptor: insert one bill, it is read and given back (never kept). "
        "card_terminal: registers and asks the terminal's status (never a sale). "
        "receipt_printer: prints a test page. barcode_scanner: scan one code. Exit 0 pass, "
        "1 fail, 2 can not open.",
    )
    test.add_argument(
        "device", type=_device, metavar="DEVICE", help=f"which device: {choices_text(DEVICES)}"
    )
    _config_option(test)
    test.add_argument(
        "--port", default=None, metavar="PATH", help="the device's port (default: from config)"
    )
    test.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_WAIT,
        metavar="S",
        help=f"seconds to wait for the bill, the scan or the page (default {DEFAULT_WAIT:g})",
    )
    test.add_argument(
        "--emulate",
        action="store_true",
        help="test against the device's emulator, started here (no hardware needed)",
    )
    test.set_defaults(handler=run_test)


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=None, help="kiosk TOML file (default: built-in defaults)"
    )


def _device(text: str) -> str:
    try:
        return device_name(text, DEVICES)
    except UnknownDevice as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError("seconds must be more than 0 and at most 3600")
    return value


def _config(args: argparse.Namespace) -> KioskConfig | None:
    """The kiosk's configuration, or None after printing every problem in it."""
    result = load_config_or_problems(args.config)
    if result.config is None:
        for line in result.report(str(args.config)):
            print(f"kiosk devices: {line}", file=sys.stderr)
        return None
    return result.config


def run_scan(args: argparse.Namespace) -> int:
    config = _config(args)
    if config is None:
        return CANNOT_READ_CONFIG
    wanted = [*args.port, *configured_ports(config.devices)]
    ports = candidate_ports(wanted, system=not args.only)
    if not ports:
        print("no serial ports found (are the adapters plugged in? see `dmesg | tail`)")
    detections = scan(ports, args.timeout)
    for detection in detections:
        print(detection.line())
    checks = check_configured(config.devices, detections)
    print()
    print(f"configured ({args.config or 'built-in defaults'}):")
    for check in checks:
        print(f"  {check.line()}")
    if args.write_udev is not None and not write_udev(args.write_udev, config, detections):
        return CANNOT_READ_CONFIG
    return 1 if any(check.ok is False for check in checks) else 0


def write_udev(target: Path, config: KioskConfig, detections: Sequence[Detection]) -> bool:
    """Rules for what the scan found (acceptor, printer) and the other serial devices the
    config names where a port is (the card terminal, the scanner: a scan can not tell them)."""
    assignments: dict[str, Assignment] = {}
    for detection in detections:
        key = DEVICE_NAMES.get(detection.kind)
        if key is not None and key not in assignments:
            assignments[key] = Assignment(key, detection.path, usb_port(detection.path))
    for key in STABLE_NAMES:
        where = str(getattr(config.devices, key))
        if key not in assignments and where.startswith("/dev/") and os.path.exists(where):
            assignments[key] = Assignment(key, where, usb_port(where))
    if not assignments:
        print("udev: no device found to name; nothing written", file=sys.stderr)
        return True
    text = rules_text(list(assignments.values()), "kiosk devices scan --write-udev")
    try:
        write_atomic(target, text, mode=0o644)
    except OSError as exc:
        print(f"udev: can not write {target} ({exc}); run it as root for /etc", file=sys.stderr)
        return False
    print()
    print(f"udev rules written to {target}:")
    for assignment in assignments.values():
        named = f"/dev/{STABLE_NAMES[assignment.device]}" if assignment.usb else "no rule (not USB)"
        print(f"  {assignment.device}: {assignment.path} -> {named}")
    print("then: udevadm control --reload && udevadm trigger; and name /dev/kiosk/… in [devices]")
    return True


def run_test(args: argparse.Namespace) -> int:
    config = _config(args)
    if config is None:
        return CANNOT_READ_CONFIG

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        result = run_device_test(
            args.device,
            config,
            port=args.port,
            emulate=args.emulate,
            wait=args.timeout,
            say=say,
        )
    except KeyboardInterrupt:
        note = " (a bill in escrow was given back)" if args.device == "bill_acceptor" else ""
        print(f"{args.device}: interrupted{note}", file=sys.stderr)
        return int(Verdict.FAIL)
    for line in result.lines():
        print(line)
    return int(result.verdict)
