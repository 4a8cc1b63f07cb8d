"""One name per device on every command line (the ``[devices]`` keys, short words as
aliases), and the card terminal's device test: registered, asked its status, never a sale."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from composition import cli
from devices.emulators.scanner_emulator import ScannerEmulator
from devices.emulators.zvt_emulator import ZvtEmulator
from kiosk.config import Devices
from kiosk.device_names import DEVICE_NAMES, UnknownDevice, device_name
from provisioning.detect import check_configured
from provisioning.device_tests import Verdict, check_card_terminal


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("bill_acceptor", "bill_acceptor"),
        ("acceptor", "bill_acceptor"),
        ("bill-acceptor", "bill_acceptor"),
        ("terminal", "card_terminal"),
        ("card-terminal", "card_terminal"),
        ("printer", "receipt_printer"),
        ("Receipt_Printer", "receipt_printer"),
        ("scanner", "barcode_scanner"),
    ],
)
def test_aliases_become_the_config_key(typed: str, name: str) -> None:
    assert device_name(typed) == name


def test_the_names_are_the_config_keys() -> None:
    assert DEVICE_NAMES == ("bill_acceptor", "card_terminal", "receipt_printer", "barcode_scanner")
    assert set(DEVICE_NAMES) == set(Devices.model_fields) - Devices.OPTIONS
    # how a device speaks, and which model an emulator plays, are no devices
    assert {"bill_acceptor_protocol", "emulated_acceptor_model"} == Devices.OPTIONS


def test_an_unknown_name_lists_the_right_ones() -> None:
    with pytest.raises(UnknownDevice) as refused:
        device_name("coin_hopper")
    assert str(refused.value) == (
        "no device is called 'coin_hopper'; choose one of bill_acceptor, card_terminal, "
        "receipt_printer, barcode_scanner (or acceptor, terminal, printer, scanner)"
    )
    with pytest.raises(UnknownDevice, match=r"^choose one of receipt_printer \(or printer\)$"):
        device_name("scanner", ("receipt_printer",))


@pytest.mark.parametrize("command", ["test", "emulate"])
def test_a_command_refuses_an_unknown_device_by_name(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["devices", "test", "coin"] if command == "test" else ["emulate", "coin"]
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    assert "no device is called 'coin'; choose one of bill_acceptor" in capsys.readouterr().err


def test_devices_test_takes_the_short_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["devices", "test", "printer", "--emulate", "--timeout", "5"]) == 0
    assert "receipt_printer on " in capsys.readouterr().out


def test_the_emulated_card_terminal_passes_without_a_sale(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["devices", "test", "terminal", "--emulate"]) == 0
    out = capsys.readouterr().out
    assert ": PASS: registered and ready (status enquiry); no payment was made" in out
    assert "card_terminal on /dev/pts/" in out
    assert "terminal id: 52500001" in out and "software: KIOSK-EMU ZVT 13.13" in out
    assert "emulator's sales during the test: 0" in out


@pytest.fixture
def terminal_on_tcp(tmp_path: Path) -> Iterator[ZvtEmulator]:
    emulator = ZvtEmulator(tmp_path / "unused", tcp_port=0)
    emulator.start()
    yield emulator
    emulator.stop()


def test_a_terminal_on_the_lan_is_tested_the_same_way(terminal_on_tcp: ZvtEmulator) -> None:
    result = check_card_terminal(f"tcp://127.0.0.1:{terminal_on_tcp.tcp_port}")
    assert result.verdict is Verdict.PASS, result.lines()
    counters = terminal_on_tcp.counters()
    assert counters["status_enquiries"] == 1
    assert counters["registrations"] >= 1
    assert counters["authorisations"] == 0


def test_a_port_with_no_terminal_fails(tmp_path: Path) -> None:
    """The scanner's port: it opens, but nothing answers the registration."""
    scanner = ScannerEmulator(tmp_path / "scanner")
    scanner.start()
    try:
        result = check_card_terminal(scanner.port.path, ready_wait=1.0)
    finally:
        scanner.stop()
    assert result.verdict is Verdict.FAIL
    assert result.summary.startswith("no answer to the ZVT registration within 1 s")


def test_a_scan_says_how_to_check_the_card_terminal(tmp_path: Path) -> None:
    devices = Devices(card_terminal=str(tmp_path / "ttyUSB3"))
    checks = {check.key: check for check in check_configured(devices, [])}
    assert checks["card_terminal"].ok is None
    assert "`kiosk devices test card_terminal` asks it" in checks["card_terminal"].message
