"""The kiosk's log lines: JSON objects for systemd's journal (one a line, with the kiosk's
id and the session under way) or text at a terminal, and a level that SIGHUP reads again
from the config file without a restart."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from composition import logs
from kiosk.config import KioskConfig, Logging


@pytest.fixture(autouse=True)
def root_logger() -> Iterator[None]:
    """The root logger as it was: these tests replace its handlers and level."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    hup = signal.getsignal(signal.SIGHUP)
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    signal.signal(signal.SIGHUP, hup)


def config(**logging_: str) -> KioskConfig:
    return KioskConfig.model_validate({"identity": {"kiosk_id": "k-77"}, "logging": logging_})


def test_json_lines_carry_the_kiosk_and_the_session() -> None:
    out = io.StringIO()
    correlation = logs.configure(config(format="json", level="info"), out)
    log = logging.getLogger("kiosk.engine")
    log.info("idle")
    correlation.session = lambda: "s-1234"
    log.warning("bill %s returned", "20.00", extra={"reason": "over the limit"})
    log.debug("not at info")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["level"] == "INFO" and first["logger"] == "kiosk.engine"
    assert (first["kiosk"], first["session"], first["message"]) == ("k-77", "-", "idle")
    assert second["session"] == "s-1234" and second["message"] == "bill 20.00 returned"
    assert second["reason"] == "over the limit" and "time" in second


def test_a_multi_line_message_stays_one_line_in_json() -> None:
    out = io.StringIO()
    logs.configure(config(format="json"), out)
    try:
        raise ValueError("a\nb")
    except ValueError:
        logging.getLogger("x").exception("failed:\nsecond line")
    [line] = out.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "failed:\nsecond line" and "ValueError" in record["exc_info"]


def test_auto_is_json_under_systemd_and_text_at_a_terminal() -> None:
    auto = Logging(format="auto")
    assert logs.wants_json(auto, {"JOURNAL_STREAM": "8:12345"})
    assert not logs.wants_json(auto, {})
    out = io.StringIO()
    logs.configure(config(format="text"), out)
    logging.getLogger("kiosk.sync").warning("hub not reached")
    assert "WARNING kiosk.sync [-]: hub not reached" in out.getvalue()


def test_sighup_reads_the_level_again_and_a_broken_file_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('[logging]\nlevel = "warning"\n', encoding="utf-8")
    out = io.StringIO()
    logs.configure(config(format="text", level="warning"), out)
    logs.reload_level_on_sighup(path)
    root = logging.getLogger()
    assert root.level == logging.WARNING
    path.write_text('[logging]\nlevel = "debug"\n', encoding="utf-8")
    os.kill(os.getpid(), signal.SIGHUP)  # handled in this (the main) thread at once
    assert root.level == logging.DEBUG
    assert "log level now debug" in out.getvalue()
    path.write_text("[logging\nlevel = ", encoding="utf-8")
    os.kill(os.getpid(), signal.SIGHUP)
    assert root.level == logging.DEBUG
    assert "log level unchanged" in out.getvalue()
