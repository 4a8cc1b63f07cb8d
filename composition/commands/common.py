"""Options shared by subcommands: which config file, which data directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from kiosk.config import KioskConfig, load_config

JOURNAL_FILE = "journal.sqlite"


def add_location_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=None, help="kiosk TOML file (default: built-in defaults)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="where the journal lives (overrides the config)"
    )


def config_from(args: argparse.Namespace) -> KioskConfig:
    config = load_config(args.config)
    if args.data_dir is not None:
        storage = config.storage.model_copy(update={"data_dir": args.data_dir})
        config = config.model_copy(update={"storage": storage})
    choice = getattr(args, "devices", None)  # --devices emulated|simulated: all of them
    if choice is not None:
        names = ("bill_acceptor", "receipt_printer", "barcode_scanner", "card_terminal")
        devices = config.devices.model_copy(update=dict.fromkeys(names, choice))
        config = config.model_copy(update={"devices": devices})
    return config


def journal_path(config: KioskConfig) -> Path:
    return config.storage.resolved_data_dir() / JOURNAL_FILE
