"""The kiosk's logs: JSON lines for systemd's journal, or text for a terminal; every line
with the kiosk's id and the resident's session it belongs to; the level changed by SIGHUP
without a restart.

One event a line, so journald and a log shipper keep each whole; ``kiosk`` and ``session``
let one resident's payment be followed across the engine, the drivers and sync. What goes in
a line is the message a module logged: the drivers never log card data (tests/
test_no_card_data.py reads the logs at DEBUG), and no secret is ever a log argument.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

from hub import logs as hub_logs
from kiosk.config import KioskConfig, Logging, load_config

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
TEXT = "%(asctime)s %(levelname)s %(name)s [%(session)s]: %(message)s"
JSON_FIELDS = ["asctime", "levelname", "name", "message", "kiosk", "session"]

Session = Callable[[], str | None]


class Correlation(logging.Filter):
    """Adds the kiosk's id and the session under way (from the engine's latest snapshot,
    which any thread may read) to every record."""

    def __init__(self, kiosk_id: str) -> None:
        super().__init__()
        self.kiosk_id = kiosk_id
        self.session: Session = lambda: None

    def filter(self, record: logging.LogRecord) -> bool:
        record.kiosk = self.kiosk_id
        record.session = self.session() or "-"
        return True


def wants_json(settings: Logging, env: dict[str, str] | None = None) -> bool:
    """JSON under systemd's journal for ``auto``, as the hub decides it."""
    return hub_logs.wants_json(settings.format, env)


def configure(config: KioskConfig, stream: TextIO | None = None) -> Correlation:
    """Replace the root logger's handlers with one to ``stream`` (stderr), as the config
    says; returns the filter, whose ``session`` the caller points at its engine."""
    correlation = Correlation(config.identity.kiosk_id)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(correlation)
    if wants_json(config.logging):
        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields=hub_logs.RENAMED))
    else:
        handler.setFormatter(logging.Formatter(TEXT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(LEVELS[config.logging.level])
    return correlation


def reload_level_on_sighup(config_path: Path | None) -> None:
    """``systemctl reload kiosk`` (SIGHUP): the ``[logging] level`` of the config file again.
    A file that no longer loads leaves the level as it was, and says why."""
    log = logging.getLogger("kiosk.logs")

    def reload(_number: int, _frame: FrameType | None) -> None:
        try:
            settings = load_config(config_path).logging
        except Exception as exc:  # a broken file must not stop a running kiosk
            log.error("log level unchanged: %s can not be read (%s)", config_path, exc)
            return
        logging.getLogger().setLevel(LEVELS[settings.level])
        log.warning("log level now %s (from %s)", settings.level, config_path or "defaults")

    signal.signal(signal.SIGHUP, reload)
