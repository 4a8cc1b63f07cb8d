"""``kiosk config check FILE`` and ``kiosk config show``.

``check`` is what a technician runs after editing a kiosk's file and before restarting the
service: every problem at once, as ``FILE:LINE: key: message`` so editors can jump to it, and
exit status 1 so scripts and provisioning can refuse a bad file. ``show`` answers "what is
this kiosk actually using?", defaults included, in a form that can be pasted back into a file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import BaseModel

from composition.commands.common import add_location_options
from kiosk.config import KioskConfig, Storage
from kiosk.config_check import check_file, load_config_or_problems


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "config",
        help="check or show the kiosk configuration",
        description="Check a kiosk TOML file, or show the configuration in effect.",
    )
    actions = parser.add_subparsers(dest="config_action", required=True, metavar="ACTION")

    check = actions.add_parser(
        "check",
        help="report every problem in a configuration file",
        description="Print FILE: OK and exit 0, or print FILE:LINE: key: message for every "
        "problem and exit 1.",
    )
    check.add_argument("file", type=Path, metavar="FILE", help="the kiosk TOML file")
    check.set_defaults(handler=run_check)

    show = actions.add_parser(
        "show",
        help="print the configuration in effect, defaults filled in",
        description="Print the effective configuration as TOML (or JSON with --json).",
    )
    add_location_options(show)
    show.add_argument("--json", action="store_true", help="print JSON instead of TOML")
    show.set_defaults(handler=run_show)


def run_check(args: argparse.Namespace) -> int:
    path: Path = args.file
    result = check_file(path)
    if result.ok:
        print(f"{path}: OK")
        return 0
    for line in result.report(str(path)):
        print(line)
    return 1


def run_show(args: argparse.Namespace) -> int:
    result = load_config_or_problems(args.config)
    if result.config is None:
        # stdout is for the configuration itself, so a pipe into a file never gets the errors
        for line in result.report(str(args.config)):
            print(line, file=sys.stderr)
        return 1
    config = result.config
    if args.data_dir is not None:
        storage = config.storage.model_copy(update={"data_dir": args.data_dir})
        config = config.model_copy(update={"storage": storage})
    print(config.model_dump_json(indent=2) if args.json else render_toml(config))
    return 0


def render_toml(config: KioskConfig) -> str:
    """The whole configuration as TOML that ``kiosk config check`` accepts as it is.

    TOML has no null, so an unset optional value becomes a comment that says what it means.
    """
    out: list[str] = []
    for section_name, section in config:
        if out:
            out.append("")
        out.append(f"[{section_name}]")
        assert isinstance(section, BaseModel)
        for name, value in section:
            if value is not None:
                out.append(f"{name} = {_toml_value(value)}")
            elif isinstance(section, Storage):
                out.append(f"# {name} is not set: using {section.resolved_data_dir()}")
            else:
                out.append(f"# {name} is not set")
    return "\n".join(out)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):  # an inline table (the keys are bare words: languages)
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    # JSON's string escapes are all valid in a TOML basic string
    return json.dumps(str(value), ensure_ascii=False)
