"""The emulators' stdin console and ``kiosk emulate``: in process and as a real subprocess."""

from __future__ import annotations

import io
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from composition import cli
from devices.ebds.driver import Capability, EbdsAcceptor
from devices.emulators.base import Control, Emulator
from devices.emulators.console import (
    EMULATORS,
    EmulatorUnavailable,
    default_link,
    lazy,
    run_console,
)
from devices.emulators.scanner_emulator import ScannerEmulator
from devices.id003.driver import Id003Acceptor
from devices.scanner import SerialScanner
from kiosk.money import Money
from kiosk.ports import BillEscrowed, BillStacked, Scanned

ROOT = Path(__file__).resolve().parents[2]
WAIT = 5.0
STARTUP = 60.0


def run(link: Path, commands: str) -> list[str]:
    out = io.StringIO()
    assert run_console(ScannerEmulator(link), io.StringIO(commands), out) == 0
    return out.getvalue().splitlines()


def test_console_answers_each_command(tmp_path: Path) -> None:
    link = tmp_path / "scanner"
    lines = run(link, "scan 100200526\n\ncounters\nfly away\nscan\nscan-stub 1 2 3 4\nquit\n")
    assert lines[0] == f"barcode_scanner: port {link}"
    assert lines[1].startswith("commands: scan, scan-stub, garbage, unplug, replug, help,")
    assert lines[2:] == [
        "scanned 100200526",
        '{"bytes_from_host": 0, "codes_sent": 1, "garbage_sent": 0, "plugged": true}',
        "error: unknown command 'fly'; try help",
        "error: usage: scan CODE",
        "error: usage: scan-stub ACCOUNT [AMOUNT], e.g. scan-stub 100200526 28.75",
        "barcode_scanner: stopped",
    ]
    assert not link.exists() and not link.is_symlink()  # the link goes with the emulator


def test_help_lists_every_control(tmp_path: Path) -> None:
    text = "\n".join(run(tmp_path / "scanner", "help\n"))
    for name in ("scan CODE", "scan-stub", "garbage", "unplug", "replug", "counters", "quit"):
        assert name in text


def test_end_of_input_stops_cleanly(tmp_path: Path) -> None:
    lines = run(tmp_path / "scanner", "scan 100200526")  # no newline, no quit
    assert lines[-2:] == ["scanned 100200526", "barcode_scanner: stopped"]


def test_unreadable_command_and_a_failing_control(tmp_path: Path) -> None:
    emulator = ScannerEmulator(tmp_path / "scanner")

    def boom(_args: list[str]) -> str:
        raise RuntimeError("the laser is out")

    controls = emulator.controls()
    controls["scan"] = Control("scan: broken", boom)
    emulator.controls = lambda: controls  # type: ignore[method-assign]
    out = io.StringIO()
    run_console(emulator, io.StringIO('scan "open quote\nscan x\n'), out)
    lines = out.getvalue().splitlines()
    assert lines[2].startswith("error: can not read the command: ")
    assert lines[3] == "error: scan failed: RuntimeError: the laser is out"
    assert "Traceback" not in out.getvalue()


def test_the_scanner_emulator_has_the_emulator_surface() -> None:
    emulator: Emulator = ScannerEmulator(Path("unused"))  # mypy checks it against the protocol
    assert emulator.name == "barcode_scanner"
    assert emulator.port.path == "unused"


def test_registry_names() -> None:
    assert set(EMULATORS) == {
        "bill_acceptor",
        "card_terminal",
        "receipt_printer",
        "barcode_scanner",
    }
    emulator = EMULATORS["barcode_scanner"](Path("/nonexistent/scanner"))
    assert isinstance(emulator, ScannerEmulator)


def test_a_missing_emulator_module_is_not_available_yet() -> None:
    factory = lazy("devices.emulators.no_such_emulator", "Nothing", "widget")
    with pytest.raises(EmulatorUnavailable, match="the widget emulator is not available yet"):
        factory(Path("x"))
    with pytest.raises(EmulatorUnavailable, match="not available yet"):
        lazy("devices.emulators.scanner_emulator", "NotAClass", "widget")(Path("x"))


def test_a_broken_emulator_module_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken_emulator_for_test.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    factory = lazy("broken_emulator_for_test", "Broken", "widget")
    with pytest.raises(EmulatorUnavailable, match="can not be loaded: No module named"):
        factory(Path("x"))


def test_kiosk_emulate_an_unavailable_device(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    unavailable = lazy("devices.emulators.nope", "X", "receipt_printer")
    monkeypatch.setitem(EMULATORS, "receipt_printer", unavailable)
    assert cli.main(["emulate", "printer", "--link", str(tmp_path / "p")]) == 2
    assert (
        capsys.readouterr().err
        == "kiosk emulate: the receipt_printer emulator is not available yet\n"
    )


def test_kiosk_emulate_refuses_to_replace_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    assert cli.main(["emulate", "scanner", "--link", str(precious)]) == 2
    assert "is not a symlink" in capsys.readouterr().err
    assert precious.read_text() == "keep me"


def test_kiosk_emulate_a_link_where_none_can_be_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["emulate", "scanner", "--link", str(tmp_path / "no" / "dir")]) == 2
    assert "can not start the barcode_scanner emulator" in capsys.readouterr().err


def test_default_link_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    link = default_link("scanner")
    assert link == tmp_path / "utility-kiosk" / "scanner"
    assert (link.parent.stat().st_mode & 0o777) == 0o700


class Process:
    """``python -m composition.cli emulate ...``, its output read line by line, with time-outs."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "composition.cli", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def line(self, timeout: float = WAIT) -> str:
        return self.lines.get(timeout=timeout)

    def send(self, command: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.line()


def test_kiosk_emulate_scanner_feeds_a_real_driver(tmp_path: Path) -> None:
    link = tmp_path / "scanner-link"
    emulator = Process("emulate", "scanner", "--link", str(link))
    try:
        first = emulator.line(STARTUP)  # a fresh interpreter imports the whole CLI first
        match = re.fullmatch(r"barcode_scanner: port (.+)", first)
        assert match, first
        assert "scan-stub" in emulator.line()

        events: queue.Queue[object] = queue.Queue()
        driver = SerialScanner(match[1])
        driver.attach(events.put)
        driver.open()
        try:
            assert driver.wait_ready(WAIT)
            assert emulator.send("scan 100200526") == "scanned 100200526"
            assert events.get(timeout=WAIT) == Scanned("100200526")
            assert emulator.send("scan-stub 100200526 28.75") == "scanned 10020052600002875"
            assert events.get(timeout=WAIT) == Scanned("10020052600002875")
            counters = json.loads(emulator.send("counters"))
            assert counters["codes_sent"] == 2
            assert emulator.send("jump") == "error: unknown command 'jump'; try help"
            assert emulator.send("quit") == "barcode_scanner: stopped"
        finally:
            driver.close()
        assert emulator.proc.wait(WAIT) == 0
        assert emulator.proc.stderr is not None
        assert emulator.proc.stderr.read() == ""
        assert not link.is_symlink()
    finally:
        if emulator.proc.poll() is None:
            emulator.proc.kill()
            emulator.proc.wait()


def test_kiosk_emulate_with_piped_input(tmp_path: Path) -> None:
    """``echo scan X | kiosk emulate scanner``: runs the commands, stops at the end of input."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "composition.cli",
            "emulate",
            "scanner",
            "--link",
            str(tmp_path / "s"),
        ],
        cwd=ROOT,
        input="scan 100200526\nbad\n",
        capture_output=True,
        text=True,
        timeout=WAIT * 2,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[2:] == [
        "scanned 100200526",
        "error: unknown command 'bad'; try help",
        "barcode_scanner: stopped",
    ]
    assert done.stderr == ""


def test_kiosk_emulate_an_id003_acceptor_for_a_real_driver(tmp_path: Path) -> None:
    link = tmp_path / "jcm"
    emulator = Process("emulate", "acceptor", "--protocol", "id003", "--link", str(link))
    try:
        # a loaded machine may take a while to start a Python process: only the start waits
        match = re.fullmatch(r"bill_acceptor: port (.+)", emulator.lines.get(timeout=60))
        assert match
        assert emulator.line().startswith("commands: insert")
        events: queue.Queue[object] = queue.Queue()
        driver = Id003Acceptor(match[1])
        driver.attach(events.put)
        driver.open()
        try:
            assert driver.wait_ready(WAIT)
            driver.enable([Money(1000)])
            assert emulator.send("insert 10") == "inserted a 10.00 note"
            while not isinstance(event := events.get(timeout=WAIT), BillEscrowed):
                pass
            driver.stack()
            while not isinstance(event := events.get(timeout=WAIT), BillStacked):
                pass
            assert event == BillStacked(Money(1000))
            counters = json.loads(emulator.send("counters"))
            assert counters["cashbox"] == 1
            assert counters["resets"] == 1  # its power-up was reset by the ID-003 driver
            assert emulator.send("quit") == "bill_acceptor: stopped"
        finally:
            driver.close()
        assert emulator.proc.wait(WAIT) == 0
    finally:
        if emulator.proc.poll() is None:
            emulator.proc.kill()
            emulator.proc.wait()


def test_kiosk_emulate_protocol_is_the_acceptors_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "s"
    assert cli.main(["emulate", "scanner", "--protocol", "id003", "--link", str(link)]) == 2
    assert "--protocol is the bill acceptor's" in capsys.readouterr().err


def test_kiosk_emulate_model_is_the_ebds_acceptors_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "s"
    assert cli.main(["emulate", "scanner", "--model", "apex", "--link", str(link)]) == 2
    assert "--model is the EBDS bill acceptor's" in capsys.readouterr().err
    argv = ["emulate", "acceptor", "--protocol", "id003", "--model", "apex", "--link", str(link)]
    assert cli.main(argv) == 2


def test_kiosk_emulate_an_apex_that_a_real_driver_recognises(tmp_path: Path) -> None:
    link = tmp_path / "apex"
    emulator = Process("emulate", "acceptor", "--model", "apex", "--link", str(link))
    try:
        match = re.fullmatch(r"bill_acceptor: port (.+)", emulator.line(STARTUP))
        assert match
        assert emulator.line().startswith("commands: insert")
        driver = EbdsAcceptor(match[1])
        driver.open()
        try:
            assert driver.wait_ready(WAIT)
            deadline = time.monotonic() + WAIT  # learnt from its answer to the first query
            while driver.capability == Capability.UNKNOWN and time.monotonic() < deadline:
                time.sleep(0.05)
            assert driver.capability == Capability.TELEMETRY
            assert driver.cashbox_count() is None  # an Apex answers no cash box query
        finally:
            driver.close()
        assert emulator.send("quit") == "bill_acceptor: stopped"
        assert emulator.proc.wait(WAIT) == 0
    finally:
        if emulator.proc.poll() is None:
            emulator.proc.kill()
            emulator.proc.wait()
