"""``kiosk doctor``: what is wrong with this kiosk, and what to do, in one command.

Read-only (see :mod:`provisioning.doctor`): safe on a running kiosk's data directory, it
needs no lock. Exit codes: 0 no problem, 1 at least one problem (each on its own line with
what to do), 2 the configuration can not be read (its problems are listed).
"""

from __future__ import annotations

import argparse

from composition.commands.common import add_location_options
from kiosk.config_check import load_config_or_problems
from provisioning.detect import PROBE_TIMEOUT
from provisioning.doctor import MIN_FREE_BYTES, MIN_FREE_FRACTION, Finding, Limits, examine, summary

OK, PROBLEMS, CANNOT_READ_CONFIG = 0, 1, 2
MB = 1024 * 1024


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "doctor",
        help="check config, devices, journal, disk, clock, hub and sync queue; exit 1 on a problem",
        description="Check everything a kiosk needs and say what to do about each problem. "
        "Read-only: safe while the kiosk runs.",
    )
    add_location_options(parser)
    parser.add_argument(
        "--min-free-mb",
        type=int,
        default=MIN_FREE_BYTES // MB,
        metavar="MB",
        help=f"free disk below this is a problem (default {MIN_FREE_BYTES // MB})",
    )
    parser.add_argument(
        "--min-free-percent",
        type=float,
        default=MIN_FREE_FRACTION * 100,
        metavar="P",
        help=f"free disk below this share is a problem (default {MIN_FREE_FRACTION:.0%})",
    )
    parser.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    loaded = load_config_or_problems(args.config)
    if loaded.config is None:
        for line in loaded.report(str(args.config)):
            print(Finding("config", False, line, "`kiosk config check FILE`, then fix").line())
        print("doctor: the configuration can not be read; nothing else was checked")
        return CANNOT_READ_CONFIG
    config = loaded.config
    if args.data_dir is not None:
        storage = config.storage.model_copy(update={"data_dir": args.data_dir})
        config = config.model_copy(update={"storage": storage})
    where = str(args.config) if args.config else "built-in defaults"
    findings = [Finding("config", True, f"{where}: valid")]
    limits = Limits(
        min_free_bytes=max(args.min_free_mb, 0) * MB,
        min_free_fraction=max(args.min_free_percent, 0.0) / 100,
    )
    findings += examine(config, limits, PROBE_TIMEOUT)
    for finding in findings:
        print(finding.line(), flush=True)
    print(summary(findings))
    return PROBLEMS if any(not f.ok for f in findings) else OK
