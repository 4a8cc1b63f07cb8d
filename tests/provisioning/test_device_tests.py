"""``kiosk devices test``: the real drivers against the emulators over real ptys (no mocks).

The emulators' own counters are the hardware's truth: after a bill test the cash box holds
exactly what it held before (the bill was given back), after a printer test the paper shows
the test page, or nothing when the printer could not print.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from composition import cli
from devices.emulators.ebds_emulator import EbdsEmulator, Phase
from devices.emulators.escpos_emulator import EscposEmulator
from devices.emulators.scanner_emulator import ScannerEmulator
from kiosk.config import KioskConfig
from provisioning.detect import BUSY
from provisioning.device_tests import (
    Verdict,
    check_barcode_scanner,
    check_bill_acceptor,
    check_receipt_printer,
    run_device_test,
)

WAIT = 5.0
CONFIG = KioskConfig()


@pytest.fixture
def acceptor(tmp_path: Path) -> Iterator[EbdsEmulator]:
    emulator = EbdsEmulator(tmp_path / "bill-acceptor")
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[EscposEmulator]:
    emulator = EscposEmulator(tmp_path / "printer")
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def scanner(tmp_path: Path) -> Iterator[ScannerEmulator]:
    emulator = ScannerEmulator(tmp_path / "scanner")
    emulator.start()
    yield emulator
    emulator.stop()


def _one_bill_in_the_box(acceptor: EbdsEmulator) -> None:
    """A cash box that is not empty, so "unchanged" means something: a note drawn in,
    jammed, and cleared into the box by hand."""
    acceptor.control("insert", "5")
    acceptor.control("jam")
    acceptor.control("clear", "cashbox")
    assert acceptor.cashbox == 1


# ----------------------------------------------------------------------------- bill acceptor


def test_the_bill_is_read_and_given_back(acceptor: EbdsEmulator) -> None:
    _one_bill_in_the_box(acceptor)
    said: list[str] = []
    result = check_bill_acceptor(
        acceptor.port.path,
        wait=WAIT,
        say=said.append,
        act=lambda: said.append(acceptor.control("insert", "20")),
    )
    assert result.verdict is Verdict.PASS, result.lines()
    assert result.summary == "read a $20.00 bill and gave it back"
    assert result.facts == (
        "model X (0x58), revision 0x21",
        "bill seen: $20.00 (given back)",
        "health: ok",
        "cash box: 1 bills (unchanged)",
    )
    assert said[0].startswith("Insert one bill now; it will be given back")
    assert "Read a $20.00 bill; giving it back." in said
    # the hardware's truth: the bill came back out, the cash box holds what it held
    counters = acceptor.counters()
    assert counters["cashbox"] == 1 and counters["stacked"] == {"5.00": 1}  # only the old one
    assert counters["returned"] == 1
    assert acceptor.phase is Phase.IDLE


def test_an_acceptor_without_a_cash_box_count_passes(tmp_path: Path) -> None:
    """A Pyramid Apex keeps no count: the kiosk takes cash without it, so the test passes
    and says so."""
    apex = EbdsEmulator(tmp_path / "apex", flavour="apex")
    apex.start()
    try:
        result = check_bill_acceptor(
            apex.port.path, wait=WAIT, act=lambda: apex.control("insert", "20")
        )
    finally:
        apex.stop()
    assert result.verdict is Verdict.PASS, result.lines()
    assert result.facts[-1] == (
        "cash box: no count kept by this acceptor (the kiosk settles by its journal)"
    )
    assert apex.counters()["returned"] == 1 and apex.cashbox == 0


def test_no_bill_in_time_fails(acceptor: EbdsEmulator) -> None:
    result = check_bill_acceptor(acceptor.port.path, wait=0.5)
    assert result.verdict is Verdict.FAIL
    assert result.summary == "no bill read within 0.5 s"
    assert "cash box: 0 bills (unchanged)" in result.facts


def test_a_rejected_bill_is_counted(acceptor: EbdsEmulator) -> None:
    said: list[str] = []
    result = check_bill_acceptor(
        acceptor.port.path,
        wait=1.0,
        say=said.append,
        act=lambda: acceptor.control("counterfeit"),
    )
    assert result.verdict is Verdict.FAIL
    assert result.summary == "no bill read within 1 s (1 rejected)"
    assert "Bill rejected (rejected); try another one." in said


def test_a_jammed_acceptor_fails_without_asking_for_a_bill(acceptor: EbdsEmulator) -> None:
    acceptor.control("jam")
    said: list[str] = []
    result = check_bill_acceptor(acceptor.port.path, wait=WAIT, say=said.append)
    assert result.verdict is Verdict.FAIL
    assert result.summary == "the acceptor reports a fault: jam"
    assert "health: fault (jam)" in result.facts
    assert said == []


def test_a_bill_left_in_escrow_at_power_up_is_given_back_too(acceptor: EbdsEmulator) -> None:
    acceptor.control("power-cycle", "with-escrow", "10")
    result = check_bill_acceptor(acceptor.port.path, wait=1.0)
    assert acceptor.phase is Phase.IDLE
    assert acceptor.cashbox == 0 and acceptor.counters()["returned"] == 1
    assert result.verdict is Verdict.FAIL  # no bill from the technician; but none was kept


def test_an_acceptor_that_can_not_be_opened(acceptor: EbdsEmulator, tmp_path: Path) -> None:
    missing = check_bill_acceptor(str(tmp_path / "ttyUSB3"), wait=WAIT)
    assert missing.verdict is Verdict.CANNOT_OPEN
    assert missing.lines() == [
        f"bill_acceptor on {tmp_path / 'ttyUSB3'}: CANNOT OPEN: "
        "no such port (unplugged, or a wrong path)"
    ]
    with serial.Serial(acceptor.port.path, exclusive=True):
        busy = check_bill_acceptor(acceptor.port.path, wait=WAIT)
    assert busy.verdict is Verdict.CANNOT_OPEN and busy.summary == BUSY


# ----------------------------------------------------------------------------- printer


def test_the_printer_prints_a_test_page(printer: EscposEmulator) -> None:
    result = check_receipt_printer(printer.port.path, CONFIG, wait=WAIT, settle_time=0.0)
    assert result.verdict is Verdict.PASS, result.lines()
    assert result.facts == ("status: paper ok", "health: ok")
    assert len(printer.receipts) == 1
    text = printer.receipts[0].text
    assert "PRINTER TEST" in text and "NOT A RECEIPT - NO PAYMENT" in text
    assert f"Kiosk:    {CONFIG.identity.kiosk_id}" in text
    assert f"Port:     {printer.port.path}" in text.replace("\n" + " " * 10, "")
    assert max(len(line) for line in text.splitlines()) <= 42


def test_a_printer_out_of_paper_fails_with_the_reason(printer: EscposEmulator) -> None:
    printer.run_out_of_paper()
    result = check_receipt_printer(printer.port.path, CONFIG, wait=WAIT, settle_time=0.0)
    assert result.verdict is Verdict.FAIL
    assert result.summary == "not printed: paper_out (load a paper roll)"
    assert result.facts == ("status: paper out", "health: fault (paper_out)")
    assert printer.receipts == []


def test_paper_running_out_mid_page_fails(printer: EscposEmulator) -> None:
    printer.paper_out_after(4)
    result = check_receipt_printer(printer.port.path, CONFIG, wait=WAIT, settle_time=0.0)
    assert result.verdict is Verdict.FAIL
    assert result.summary.startswith("not printed: paper_out")
    assert printer.receipts == [] and len(printer.cut_short) == 1


def test_a_silent_printer_fails(printer: EscposEmulator) -> None:
    printer.silent = True
    # the driver asks a missing status again, patiently, before it calls the printer silent
    result = check_receipt_printer(
        printer.port.path, CONFIG, wait=3 * WAIT, settle_time=0.0, ready_wait=0.5
    )
    assert result.verdict is Verdict.FAIL
    assert result.summary.startswith("not printed: no_response (no status answer")


# ----------------------------------------------------------------------------- scanner


def test_a_scanned_stub_is_read_and_parsed(scanner: ScannerEmulator) -> None:
    result = check_barcode_scanner(
        scanner.port.path,
        CONFIG,
        wait=WAIT,
        act=lambda: scanner.controls()["scan-stub"].handler(["100200302", "43.17"]),
    )
    assert result.verdict is Verdict.PASS
    assert result.facts == (
        "code: 10020030200004317",
        "bill stub: account 100200302, amount due $43.17",
    )


def test_a_code_that_is_no_stub_still_passes_and_says_so(scanner: ScannerEmulator) -> None:
    result = check_barcode_scanner(
        scanner.port.path, CONFIG, wait=WAIT, act=lambda: scanner.send("HELLO-42")
    )
    assert result.verdict is Verdict.PASS
    assert result.facts == (
        "code: HELLO-42",
        "not a bill stub for this kiosk: code does not match the stub pattern",
    )


def test_no_scan_in_time_fails_and_counts_unreadable_lines(scanner: ScannerEmulator) -> None:
    result = check_barcode_scanner(
        scanner.port.path, CONFIG, wait=0.5, act=lambda: scanner.controls()["garbage"].handler([])
    )
    assert result.verdict is Verdict.FAIL
    assert result.summary == "no scan within 0.5 s"
    assert result.facts[0].startswith("1 unreadable lines thrown away")


# ----------------------------------------------------------------------------- the command


def test_simulated_devices_have_nothing_to_test() -> None:
    result = run_device_test(
        "bill_acceptor", KioskConfig.model_validate({"devices": {"bill_acceptor": "simulated"}})
    )
    assert result.verdict is Verdict.CANNOT_OPEN
    assert "--emulate" in result.summary


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ("bill_acceptor", "PASS: read a $20.00 bill and gave it back"),
        ("receipt_printer", "PASS: printed a test page"),
        ("barcode_scanner", "PASS: read '10020030200004317'"),
    ],
)
def test_each_emulated_device_passes(
    device: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["devices", "test", device, "--emulate", "--timeout", "5"]) == 0
    out = capsys.readouterr().out
    assert expected in out, out


def test_the_emulated_bill_test_keeps_no_money(capsys: pytest.CaptureFixture[str]) -> None:
    # the default configuration says "emulated": no --emulate needed
    assert cli.main(["devices", "test", "bill_acceptor", "--timeout", "5"]) == 0
    out = capsys.readouterr().out
    assert "(emulator: inserted a 20.00 note)" in out
    assert "emulator's cash box: 0 bills before, 0 after" in out


def test_the_command_exits_1_on_a_failed_test(
    printer: EscposEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    printer.run_out_of_paper()
    code = cli.main(["devices", "test", "receipt_printer", "--port", printer.port.path])
    out = capsys.readouterr().out
    assert code == 1
    assert f"receipt_printer on {printer.port.path}: FAIL: not printed: paper_out" in out


def test_the_command_exits_2_when_the_port_can_not_be_opened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["devices", "test", "barcode_scanner", "--port", str(tmp_path / "nope")])
    assert code == 2
    assert "CANNOT OPEN: no such port" in capsys.readouterr().out


def test_the_command_refuses_a_bad_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["devices", "test", "bill_acceptor", "--timeout", "soon"])
    assert exited.value.code == 2
    assert "not a number of seconds" in capsys.readouterr().err


def test_an_emulated_id003_acceptor_is_tested_by_its_own_driver(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[devices]\nbill_acceptor_protocol = "id003"\n', encoding="utf-8")
    code = cli.main(["devices", "test", "bill_acceptor", "--config", str(config), "--timeout", "5"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "i(USA)100-SS ID003-05V280-42" in out  # the firmware's identification
    assert "PASS: read a $20.00 bill and gave it back" in out
    assert "emulator's cash box: 0 bills before, 0 after" in out
