"""Port detection against the device emulators over real pseudo-terminals (no mocks).

The probes speak the real protocols to the emulators, to ports that are missing, busy or not
serial ports at all, and to peers that answer noise; every probe must come back with a
reason, in bounded time, and leave the device as it found it.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from composition import cli
from devices.ebds.driver import EbdsAcceptor
from devices.ebds.messages import AuxCommand, aux_command
from devices.emulators.ebds_emulator import EbdsEmulator, Phase
from devices.emulators.escpos_emulator import EscposEmulator
from devices.emulators.id003_emulator import Id003Emulator
from devices.emulators.pty_port import EmulatorLoop, PtyPort
from devices.emulators.scanner_emulator import ScannerEmulator
from kiosk.config import Devices
from kiosk.money import Money
from kiosk.ports import Health
from provisioning.detect import (
    BUSY,
    SILENT_TEXT,
    Detection,
    Kind,
    candidate_ports,
    check_configured,
    open_error,
    probe,
    probe_bound,
    scan,
)

FAST = 0.2
"""Reply time-out for these probes: emulators answer within milliseconds."""


class Rig:
    """One emulator of each kind, each behind a link in the test's directory."""

    def __init__(self, folder: Path) -> None:
        self.acceptor = EbdsEmulator(folder / "bill-acceptor")
        self.printer = EscposEmulator(folder / "printer")
        self.scanner = ScannerEmulator(folder / "scanner")

    def start(self) -> None:
        for emulator in (self.acceptor, self.printer, self.scanner):
            emulator.start()

    def stop(self) -> None:
        for emulator in (self.acceptor, self.printer, self.scanner):
            emulator.stop()

    @property
    def paths(self) -> list[str]:
        return [self.acceptor.port.path, self.printer.port.path, self.scanner.port.path]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    devices = Rig(tmp_path)
    devices.start()
    yield devices
    devices.stop()


class Chatterbox:
    """A peer on a pty that answers every request with the same bytes of no known protocol;
    with ``flood`` it also sends them non-stop, asked or not."""

    def __init__(self, answer: bytes, *, flood: bool = False) -> None:
        self.port = PtyPort()
        self.answer = answer
        self._loop = EmulatorLoop(self.port, lambda _data: self.port.write(answer), "chatterbox")
        self._flooding = threading.Event()
        self._flood = threading.Thread(target=self._spew, daemon=True) if flood else None

    def start(self) -> None:
        self._loop.start()
        if self._flood is not None:
            self._flooding.set()
            self._flood.start()

    def stop(self) -> None:
        self._flooding.clear()
        if self._flood is not None:
            self._flood.join(2.0)
        self._loop.stop()

    def _spew(self) -> None:
        while self._flooding.is_set():
            self.port.write(self.answer)
            time.sleep(0.002)


# ----------------------------------------------------------------------------- finding devices


def test_scan_tells_acceptor_printer_and_silent_scanner_apart(rig: Rig) -> None:
    started = time.monotonic()
    acceptor, printer, scanner = scan(rig.paths, FAST)
    assert time.monotonic() - started < probe_bound(FAST)

    assert acceptor.kind is Kind.BILL_ACCEPTOR
    assert acceptor.describe() == "bill_acceptor (EBDS, model X (0x58), revision 0x21)"
    assert printer.kind is Kind.RECEIPT_PRINTER
    assert printer.describe() == "receipt_printer (ESC/POS, status: paper ok)"
    assert scanner.kind is Kind.SILENT
    assert scanner.describe() == SILENT_TEXT
    assert "kiosk devices test barcode_scanner" in SILENT_TEXT

    line = acceptor.line()
    assert line.startswith(f"{rig.acceptor.port.path} (= /dev/pts/")
    assert line.endswith("-> bill_acceptor (EBDS, model X (0x58), revision 0x21)")


def test_probing_moves_no_money_and_prints_nothing(rig: Rig) -> None:
    scan(rig.paths, FAST)
    acceptor = rig.acceptor.counters()
    assert acceptor["cashbox"] == 0 and acceptor["stacked"] == {}
    assert acceptor["returned"] == 0 and acceptor["phase"] == "idle"
    printer = rig.printer.counters()
    assert printer["receipts_printed"] == 0 and rig.printer.cut_short == []
    assert printer["bytes_received"] == 4 * 3  # DLE EOT 1..4, nothing else
    assert rig.scanner.counters()["codes_sent"] == 0


def test_a_note_held_in_escrow_stays_there(rig: Rig) -> None:
    rig.acceptor.control("power-cycle", "with-escrow", "20")
    found = probe(rig.acceptor.port.path, FAST)
    assert found.kind is Kind.BILL_ACCEPTOR
    assert "a note is held in escrow" in found.detail
    assert rig.acceptor.phase is Phase.ESCROWED
    assert rig.acceptor.cashbox == 0 and rig.acceptor.counters()["returned"] == 0


def test_the_printer_status_says_what_a_technician_fixes(rig: Rig) -> None:
    rig.printer.set_paper_low()
    assert probe(rig.printer.port.path, FAST).detail == "paper low"
    rig.printer.run_out_of_paper()
    assert probe(rig.printer.port.path, FAST).detail == "paper out"
    rig.printer.load_paper()
    rig.printer.open_cover()
    assert probe(rig.printer.port.path, FAST).detail == "paper ok, cover open"


def test_an_acceptor_whose_last_answer_was_no_status_is_still_found(rig: Rig) -> None:
    # the last message it saw was a cash box query with ACK 0, so a poll with ACK 0 looks
    # like a repeat of it and gets the cash box total again: the probe must try ACK 1
    with serial.Serial(rig.acceptor.port.path, timeout=1.0) as port:
        port.write(aux_command(AuxCommand.QUERY_CASH_BOX_TOTAL, 0))
        assert len(port.read(11)) == 11
    found = probe(rig.acceptor.port.path, FAST)
    assert found.kind is Kind.BILL_ACCEPTOR
    assert [exchange.repeated for exchange in rig.acceptor.history()] == [False, True, False]


# ----------------------------------------------------------------------------- ports that fail


def test_a_missing_port_says_so(tmp_path: Path) -> None:
    found = probe(str(tmp_path / "ttyUSB9"), FAST)
    assert found.kind is Kind.UNAVAILABLE
    assert found.describe() == "can not open: no such port (unplugged, or a wrong path)"


def test_a_port_someone_holds_is_busy_and_left_alone(rig: Rig) -> None:
    path = rig.printer.port.path
    with serial.Serial(path, exclusive=True):
        found = probe(path, FAST)
    assert found.kind is Kind.UNAVAILABLE
    assert found.detail == BUSY
    assert rig.printer.counters()["bytes_received"] == 0  # not a byte was written


def test_the_running_kiosk_is_not_disturbed(rig: Rig) -> None:
    events: list[object] = []
    driver = EbdsAcceptor(rig.acceptor.port.path)
    driver.attach(events.append)
    driver.open()
    try:
        assert driver.wait_ready(3.0)
        driver.enable([Money(2000)])
        found = probe(rig.acceptor.port.path, FAST)
        assert found.kind is Kind.UNAVAILABLE and "busy" in found.detail
        assert driver.health().state is Health.OK
        assert driver.counters()["retries"] == 0
    finally:
        driver.close()
    assert events == []


def test_a_file_that_is_not_a_serial_port(tmp_path: Path) -> None:
    plain = tmp_path / "notes.txt"
    plain.write_text("hello\n")
    for path in (plain, tmp_path):
        found = probe(str(path), FAST)
        assert found.kind is Kind.UNAVAILABLE
        assert found.detail.startswith("not a serial port"), found.detail


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (serial.SerialException(errno.EACCES, "could not open port: Permission denied"), "dialout"),
        (OSError(errno.EPERM, "Operation not permitted"), "permission denied"),
        (OSError(errno.EIO, "Input/output error"), "no device behind this port"),
        (serial.SerialException("Could not exclusively lock port /dev/x: [Errno 11]"), "busy"),
        (OSError(errno.ENOENT, "No such file or directory"), "no such port"),
    ],
)
def test_open_errors_are_put_in_a_technicians_words(exc: BaseException, words: str) -> None:
    # root can open anything, so the permission case is checked on the error itself
    assert words in open_error(exc)


def test_a_peer_answering_noise_is_unknown_and_does_not_hang() -> None:
    peer = Chatterbox(b"\xff\xfe\x13\x00\x81\x55\x91")
    peer.start()
    try:
        started = time.monotonic()
        found = probe(peer.port.path, FAST)
        took = time.monotonic() - started
    finally:
        peer.stop()
    assert found.kind is Kind.UNKNOWN
    assert found.describe().startswith("unknown: something answers, but not as an EBDS")
    assert "ff fe 13 00 81" in found.detail
    assert took < probe_bound(FAST)


def test_a_peer_flooding_the_line_is_unknown_in_bounded_time() -> None:
    peer = Chatterbox(bytes(range(0x80, 0xC0)), flood=True)
    peer.start()
    try:
        started = time.monotonic()
        found = probe(peer.port.path, FAST)
        took = time.monotonic() - started
    finally:
        peer.stop()
    assert found.kind is Kind.UNKNOWN
    assert took < probe_bound(FAST)


def test_a_peer_answering_text_is_shown_as_text() -> None:
    peer = Chatterbox(b"OK\r\n")  # a modem, say
    peer.start()
    try:
        found = probe(peer.port.path, FAST)
    finally:
        peer.stop()
    assert found.kind is Kind.UNKNOWN
    assert "it sent the text 'OK" in found.detail


def test_a_single_byte_that_breaks_the_fixed_bits_is_no_printer() -> None:
    peer = Chatterbox(b"\xff")
    peer.start()
    try:
        found = probe(peer.port.path, FAST)
    finally:
        peer.stop()
    assert found.kind is Kind.UNKNOWN


# ----------------------------------------------------------------------------- candidates


def test_candidates_put_given_paths_first_and_list_each_device_once(
    rig: Rig, tmp_path: Path
) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(rig.printer.port.path)
    missing = str(tmp_path / "gone")
    given = [rig.printer.port.path, str(alias), missing, rig.scanner.port.path, missing]
    assert candidate_ports(given, system=False) == [
        rig.printer.port.path,
        missing,
        rig.scanner.port.path,
    ]


def test_candidates_include_the_systems_ports_that_exist(rig: Rig) -> None:
    ports = candidate_ports([rig.acceptor.port.path])
    assert ports[0] == rig.acceptor.port.path
    for path in ports[1:]:
        assert Path(path).exists()
        assert path.startswith(("/dev/serial/by-id/", "/dev/tty"))


# ----------------------------------------------------------------------------- the config


def test_configured_devices_are_checked_where_the_config_says(rig: Rig, tmp_path: Path) -> None:
    devices = Devices(
        bill_acceptor=rig.acceptor.port.path,
        receipt_printer=rig.scanner.port.path,  # wrong: the printer is elsewhere
        barcode_scanner=str(tmp_path / "ttyACM7"),
    )
    detections = scan([*rig.paths, str(tmp_path / "ttyACM7")], FAST)
    lines = [check.line() for check in check_configured(devices, detections)]
    assert lines == [
        f"devices.bill_acceptor = {rig.acceptor.port.path}: EBDS bill_acceptor found",
        "devices.card_terminal = emulated: the in-process emulator, not a port: "
        "nothing to look for",
        f"devices.receipt_printer = {rig.scanner.port.path}: nothing answering there; "
        f"a receipt_printer answers at {rig.printer.port.path}",
        f"devices.barcode_scanner = {tmp_path / 'ttyACM7'}: can not open: "
        "no such port (unplugged, or a wrong path)",
    ]


def test_a_device_of_the_other_kind_is_named(rig: Rig) -> None:
    devices = Devices(bill_acceptor=rig.printer.port.path, barcode_scanner=rig.acceptor.port.path)
    checks = check_configured(devices, scan(rig.paths, FAST))
    by_key = {check.key: check for check in checks}
    assert by_key["bill_acceptor"].ok is False
    assert by_key["bill_acceptor"].message.startswith(
        "a receipt_printer answers there, not a bill_acceptor; a bill_acceptor answers at"
    )
    assert by_key["barcode_scanner"].ok is False
    assert "expected a barcode_scanner, found bill_acceptor" in by_key["barcode_scanner"].message
    assert by_key["receipt_printer"].ok is None  # "emulated": nothing to look for


def _config(tmp_path: Path, **devices: str) -> Path:
    lines = ["[devices]", *(f'{key} = "{value}"' for key, value in devices.items())]
    path = tmp_path / "kiosk.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_scan_command_exits_0_when_each_configured_device_is_found(
    rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(
        tmp_path,
        bill_acceptor=rig.acceptor.port.path,
        receipt_printer=rig.printer.port.path,
        barcode_scanner=rig.scanner.port.path,
    )
    code = cli.main(["devices", "scan", "--only", "--config", str(config), "--timeout", "0.2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "-> bill_acceptor (EBDS, model X (0x58), revision 0x21)" in out
    assert "-> receipt_printer (ESC/POS, status: paper ok)" in out
    assert f"-> {SILENT_TEXT}" in out
    assert f"devices.bill_acceptor = {rig.acceptor.port.path}: EBDS bill_acceptor found" in out
    assert (
        f"devices.receipt_printer = {rig.printer.port.path}: "
        "ESC/POS receipt_printer found (status: paper ok)"
    ) in out
    assert f"devices.barcode_scanner = {rig.scanner.port.path}: the port is there and silent" in out


def test_scan_command_exits_1_when_a_configured_device_is_not_there(
    rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, bill_acceptor=rig.scanner.port.path)
    code = cli.main(
        ["devices", "scan", "--only", "--config", str(config), "--port", rig.acceptor.port.path]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert (
        f"devices.bill_acceptor = {rig.scanner.port.path}: nothing answering there; "
        f"a bill_acceptor answers at {rig.acceptor.port.path}"
    ) in out


def test_scan_command_with_nothing_configured_exits_0(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["devices", "scan", "--only", "--port", rig.printer.port.path])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].endswith("-> receipt_printer (ESC/POS, status: paper ok)")
    assert "devices.bill_acceptor = emulated: the in-process emulator" in out


def test_scan_command_refuses_a_bad_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "kiosk.toml"
    bad.write_text("[devices]\nbill_acceptor = \n", encoding="utf-8")
    assert cli.main(["devices", "scan", "--only", "--config", str(bad)]) == 2
    assert "kiosk.toml:2" in capsys.readouterr().err


def test_detection_of_a_plain_path_shows_no_realpath(tmp_path: Path) -> None:
    found = Detection(str(tmp_path / "x"), Kind.SILENT)
    assert found.line() == f"{tmp_path / 'x'} -> {SILENT_TEXT}"


# ----------------------------------------------------------------------------- ID-003


@pytest.fixture
def jcm(tmp_path: Path) -> Iterator[Id003Emulator]:
    emulator = Id003Emulator(tmp_path / "jcm")
    emulator.start()
    yield emulator
    emulator.stop()


def test_an_id003_acceptor_is_found_and_left_as_it_was(jcm: Id003Emulator, rig: Rig) -> None:
    found, ebds = scan([jcm.port.path, rig.acceptor.port.path], FAST)
    assert found.kind is Kind.BILL_ACCEPTOR and found.protocol == "id003"
    # it has just powered up: a status request does not end that (only RESET does)
    assert found.describe() == "bill_acceptor (ID-003, status: power up)"
    assert ebds.protocol == "ebds"
    assert [exchange.host for exchange in jcm.history()] == [bytes.fromhex("fc05112756")]
    assert jcm.counters()["resets"] == 0


def test_the_configured_protocol_is_checked(
    jcm: Id003Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = _config(tmp_path, bill_acceptor=jcm.port.path)
    code = cli.main(["devices", "scan", "--only", "--config", str(wrong), "--timeout", "0.2"])
    out = capsys.readouterr().out
    assert code == 1
    assert "-> bill_acceptor (ID-003, status: power up)" in out
    assert 'the config says bill_acceptor_protocol = "ebds": set it to "id003"' in out
    right = _config(tmp_path, bill_acceptor=jcm.port.path, bill_acceptor_protocol="id003")
    code = cli.main(["devices", "scan", "--only", "--config", str(right), "--timeout", "0.2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"devices.bill_acceptor = {jcm.port.path}: ID-003 bill_acceptor found" in out
    assert "bill_acceptor_protocol" not in out
