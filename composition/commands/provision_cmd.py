"""``kiosk provision --hub URL --code CODE``: enroll this kiosk with the hub.

With ``--config FILE`` the hub is then written into that file's ``[hub]`` section (``url``
and ``enabled = true``; see :mod:`provisioning.config_file`), so the next start syncs.

Exit codes: 0 enrolled, 1 the hub refused or could not be reached (nothing stored), or it
enrolled but the config file could not be updated (the message says what to set by hand),
2 the command could not run (bad configuration).
"""

from __future__ import annotations

import argparse
import sys
import tomllib

from pydantic import ValidationError

from composition.commands.common import add_location_options, config_from
from provisioning.config_file import ConfigWriteError, write_hub
from provisioning.enroll import EnrollError, enroll

OK, FAILED, UNUSABLE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "provision", help="enroll this kiosk with the hub using a one-time code"
    )
    add_location_options(parser)
    parser.add_argument("--hub", metavar="URL", help="the hub's URL (default: [hub] url)")
    parser.add_argument(
        "--code", required=True, help="the code from `kiosk-hub create-kiosk` (K7M2Q-9XRTH)"
    )
    parser.add_argument(
        "--force", action="store_true", help="enroll again although credentials exist"
    )
    parser.set_defaults(handler=run_provision)


def run_provision(args: argparse.Namespace) -> int:
    try:
        config = config_from(args)
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        print(f"kiosk provision: can not read the configuration: {exc}", file=sys.stderr)
        return UNUSABLE
    hub_url = args.hub or config.hub.url
    data_dir = config.storage.resolved_data_dir()
    try:
        result = enroll(hub_url, args.code, data_dir, force=args.force)
    except EnrollError as exc:
        print(f"kiosk provision: {exc}", file=sys.stderr)
        return FAILED
    found = result.credentials
    if result.replaced:
        print(f"replaced the enrollment as {result.replaced}")
    print(f"enrolled as {found.kiosk_id} ({found.location}) with {found.hub_url}")
    print(f"credentials stored in {result.path} (readable by this user only)")
    print(f"clock: {result.skew_s:+.1f} s from the hub's")
    if result.skew_warning:
        print(f"WARNING: {result.skew_warning}", file=sys.stderr)
    if args.config is None:
        print(
            "note: no --config FILE given, so no configuration was changed: the kiosk's own "
            f'file needs [hub] url = "{found.hub_url}" and enabled = true to sync'
        )
        return OK
    try:
        write_hub(args.config, found.hub_url)
    except ConfigWriteError as exc:
        print(f"kiosk provision: enrolled, but {exc}", file=sys.stderr)
        print(
            f'kiosk provision: set [hub] url = "{found.hub_url}" and enabled = true by hand',
            file=sys.stderr,
        )
        return FAILED
    print(f"wrote [hub] url = {found.hub_url}, enabled = true to {args.config}")
    return OK
