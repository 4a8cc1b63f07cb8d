"""The ``kiosk`` command: the technician's entry point and the composition root's front door.

Each group of subcommands lives in its own module under :mod:`composition.commands` and registers
itself here; this module only parses and dispatches.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from composition.commands import (
    batch_cmd,
    config_cmd,
    demo_cmd,
    devices_cmd,
    doctor_cmd,
    emulate_cmd,
    engine_cmd,
    journal_cmd,
    provision_cmd,
    service_cmd,
    sync_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk", description="Utility payment kiosk: run, check and service a unit."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        config_cmd,
        journal_cmd,
        demo_cmd,
        engine_cmd,
        batch_cmd,
        emulate_cmd,
        devices_cmd,
        doctor_cmd,
        provision_cmd,
        sync_cmd,
        service_cmd,
    ):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = args.handler
    code: int = handler(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
