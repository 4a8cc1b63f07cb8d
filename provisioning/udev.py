"""udev rules that give each kiosk device a name of its own: ``/dev/kiosk/bill-acceptor``…

``/dev/ttyUSB0`` is whichever adapter enumerated first, and ``/dev/serial/by-id`` names
change with the adapter's make. A rule per device, matched on the USB adapter's vendor,
product and serial number (``ATTRS{serial}``), keeps one name for one device however the
adapters enumerate; the config then names ``/dev/kiosk/…`` and an adapter swapped for
another of the same kind needs only ``kiosk devices scan --write-udev`` again.

Adapters without a serial number (most CH340 and PL2303 cables) are matched on the USB
port they are plugged into instead (``KERNELS``, the device's place on the bus): the rule
then holds only while the cable stays in that socket, which the file says beside it. Ports
that are not USB (a PC's own ``ttyS0``, a pseudo-terminal) get no rule, with the reason.

Every ``S`` key of a udev rule must match on one parent device: ``idVendor``, ``idProduct``,
``serial`` and the bus position (``1-2``) are all the USB device's, so they are matched
together; the interface of a multi-port adapter (several tty on one serial number) comes
from ``ID_USB_INTERFACE_NUM``, which Debian's ``60-serial.rules`` sets before these rules.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import serial.tools.list_ports
from serial.tools.list_ports_common import ListPortInfo

#: the name each device gets under /dev
STABLE_NAMES = {
    "bill_acceptor": "kiosk/bill-acceptor",
    "receipt_printer": "kiosk/receipt-printer",
    "card_terminal": "kiosk/card-terminal",
    "barcode_scanner": "kiosk/barcode-scanner",
}
DEFAULT_PATH = "/etc/udev/rules.d/70-utility-kiosk.rules"
#: a value udev compares literally: no quotes, no globbing characters, no line breaks
_SAFE = re.compile(r"^[A-Za-z0-9._:+-]{1,64}$")


@dataclass(frozen=True)
class UsbPort:
    """What udev can match a USB-serial adapter on."""

    vendor: str  # four lowercase hex digits, as sysfs writes idVendor
    product: str
    serial: str | None
    bus_position: str | None  # the USB device's kernel name, e.g. "1-2" or "3-1.4"
    interface: str | None  # "00", "01"… for ID_USB_INTERFACE_NUM
    description: str

    @classmethod
    def of(cls, info: ListPortInfo) -> UsbPort | None:
        if info.vid is None or info.pid is None:
            return None
        device, interface = _split_location(info.location)
        serial_number = info.serial_number if info.serial_number else None
        if serial_number is not None and not _SAFE.match(serial_number):
            serial_number = None  # a serial udev could not match literally: use the socket
        return cls(
            vendor=f"{info.vid:04x}",
            product=f"{info.pid:04x}",
            serial=serial_number,
            bus_position=device,
            interface=interface,
            description=" ".join(filter(None, (info.manufacturer, info.product))) or "USB serial",
        )


def _split_location(location: str | None) -> tuple[str | None, str | None]:
    """pyserial's ``1-2:1.0`` (bus position : configuration.interface) in two."""
    if not location:
        return None, None
    device, _, rest = location.partition(":")
    interface = None
    if "." in rest and rest.rsplit(".", 1)[1].isdigit():
        interface = f"{int(rest.rsplit('.', 1)[1]):02x}"
    return (device if _SAFE.match(device) else None), interface


Lister = Callable[[], Iterable[ListPortInfo]]


def usb_port(path: str, lister: Lister = serial.tools.list_ports.comports) -> UsbPort | None:
    """The USB adapter behind ``path`` (a link such as /dev/serial/by-id/… is followed)."""
    real = os.path.realpath(path)
    for info in lister():
        if os.path.realpath(info.device) == real:
            return UsbPort.of(info)
    return None


@dataclass(frozen=True)
class Assignment:
    """A device found on a port, and the adapter behind it if it is USB."""

    device: str  # a [devices] key: bill_acceptor, receipt_printer…
    path: str
    usb: UsbPort | None


def rules_text(assignments: Sequence[Assignment], made_by: str) -> str:
    """The rules file: a rule per USB device, a comment for each port that gets none."""
    shared = Counter((a.usb.vendor, a.usb.product, a.usb.serial) for a in assignments if a.usb)
    lines = [
        f"# Stable names for the kiosk's devices, written by {made_by}.",
        "# In /etc/udev/rules.d/, loaded by `udevadm control --reload && udevadm trigger`;",
        "# the config's [devices] then names /dev/kiosk/… (see docs/technician.md).",
        "",
    ]
    for assignment in assignments:
        name = STABLE_NAMES[assignment.device]
        usb = assignment.usb
        if usb is None:
            lines += [f"# {assignment.device} on {assignment.path}: not a USB device, no rule", ""]
            continue
        keys = ['SUBSYSTEM=="tty"']
        if usb.serial is not None:
            where = f"serial {usb.serial}"
        elif usb.bus_position is not None:
            keys.append(f'KERNELS=="{usb.bus_position}"')
            where = (
                f"no serial number: matched on USB socket {usb.bus_position}, "
                "keep the cable in that socket"
            )
        else:
            lines += [
                f"# {assignment.device} on {assignment.path}: the adapter has no serial number "
                "and no known USB position, no rule",
                "",
            ]
            continue
        keys += [f'ATTRS{{idVendor}}=="{usb.vendor}"', f'ATTRS{{idProduct}}=="{usb.product}"']
        if usb.serial is not None:
            keys.append(f'ATTRS{{serial}}=="{usb.serial}"')
        if shared[(usb.vendor, usb.product, usb.serial)] > 1 and usb.interface is not None:
            keys.append(f'ENV{{ID_USB_INTERFACE_NUM}}=="{usb.interface}"')
        # ModemManager must not probe a payment device with AT commands
        keys += [f'SYMLINK+="{name}"', 'GROUP="dialout"', 'MODE="0660"']
        keys.append('ENV{ID_MM_DEVICE_IGNORE}="1"')
        lines += [
            f"# {assignment.device}: {usb.description} {usb.vendor}:{usb.product}, {where} "
            f"(found on {assignment.path})",
            ", ".join(keys),
            "",
        ]
    return "\n".join(lines)
