"""udev rules from what a scan found: one rule per USB device on its adapter's vendor,
product and serial number (or its USB socket when it has none), a multi-port adapter told
apart by interface, values udev could misread never written, and ports that are not USB
named in a comment. The command writes them for emulated devices (pseudo-terminals: no USB,
so no rule) and says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from serial.tools.list_ports_common import ListPortInfo

from composition.cli import main
from devices.emulators.ebds_emulator import EbdsEmulator
from provisioning.udev import Assignment, UsbPort, rules_text, usb_port


def adapter(
    device: str,
    vid: int,
    pid: int,
    serial_number: str | None,
    location: str,
    product: str = "FT232R USB UART",
) -> ListPortInfo:
    """A port as pyserial lists one (its own record type, filled as its Linux lister does)."""
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.serial_number, info.location = vid, pid, serial_number, location
    info.manufacturer, info.product = "FTDI", product
    return info


def rule_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_a_rule_per_device_on_vendor_product_and_serial() -> None:
    acceptor = UsbPort.of(adapter("/dev/ttyUSB0", 0x0403, 0x6001, "A10K1234", "1-2:1.0"))
    printer = UsbPort.of(adapter("/dev/ttyUSB1", 0x067B, 0x2303, None, "1-3.4:1.0", "PL2303"))
    text = rules_text(
        [
            Assignment("bill_acceptor", "/dev/ttyUSB0", acceptor),
            Assignment("receipt_printer", "/dev/ttyUSB1", printer),
            Assignment("barcode_scanner", "/dev/ttyS0", None),
        ],
        "a test",
    )
    first, second = rule_lines(text)
    assert first == (
        'SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", '
        'ATTRS{serial}=="A10K1234", SYMLINK+="kiosk/bill-acceptor", GROUP="dialout", '
        'MODE="0660", ENV{ID_MM_DEVICE_IGNORE}="1"'
    )
    # no serial number: the USB device's place on the bus, matched with its ids
    assert second.startswith('SUBSYSTEM=="tty", KERNELS=="1-3.4", ATTRS{idVendor}=="067b"')
    assert 'SYMLINK+="kiosk/receipt-printer"' in second
    assert "keep the cable in that socket" in text
    assert "# barcode_scanner on /dev/ttyS0: not a USB device, no rule" in text


def test_ports_of_one_multi_port_adapter_are_told_apart_by_interface() -> None:
    ports = [
        UsbPort.of(adapter(f"/dev/ttyUSB{n}", 0x0403, 0x6011, "FT4232X", f"1-2:1.{n}"))
        for n in range(2)
    ]
    text = rules_text(
        [
            Assignment("bill_acceptor", "/dev/ttyUSB0", ports[0]),
            Assignment("receipt_printer", "/dev/ttyUSB1", ports[1]),
        ],
        "a test",
    )
    first, second = rule_lines(text)
    assert 'ENV{ID_USB_INTERFACE_NUM}=="00"' in first and "kiosk/bill-acceptor" in first
    assert 'ENV{ID_USB_INTERFACE_NUM}=="01"' in second and "kiosk/receipt-printer" in second


def test_a_serial_number_udev_could_misread_is_not_written() -> None:
    odd = UsbPort.of(adapter("/dev/ttyUSB0", 0x0403, 0x6001, 'A1"*, RUN+="x', "2-1:1.0"))
    assert odd is not None and odd.serial is None and odd.bus_position == "2-1"
    [rule] = rule_lines(rules_text([Assignment("card_terminal", "/dev/ttyUSB0", odd)], "t"))
    assert "RUN" not in rule and 'KERNELS=="2-1"' in rule


def test_a_port_is_found_through_its_link(tmp_path: Path) -> None:
    real = tmp_path / "ttyUSB7"
    real.touch()
    link = tmp_path / "usb-FTDI-if00-port0"
    link.symlink_to(real)
    listed = [adapter(str(real), 0x0403, 0x6001, "XYZ", "1-1:1.0")]
    found = usb_port(str(link), lambda: listed)
    assert found is not None and found.serial == "XYZ"
    assert usb_port(str(tmp_path / "other"), lambda: listed) is None


def test_scan_writes_the_rules_file_and_names_what_gets_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = EbdsEmulator(tmp_path / "acceptor")
    emulator.start()
    try:
        rules = tmp_path / "70-utility-kiosk.rules"
        argv = ["devices", "scan", "--only", "--port", str(emulator.port.path)]
        main([*argv, "--write-udev", str(rules)])
    finally:
        emulator.stop()
    out = capsys.readouterr().out
    assert f"udev rules written to {rules}" in out
    assert "bill_acceptor:" in out and "no rule (not USB)" in out
    text = rules.read_text(encoding="utf-8")
    assert "# bill_acceptor on " in text and "not a USB device, no rule" in text
    assert rule_lines(text) == []
    assert oct(rules.stat().st_mode & 0o777) == "0o644"
