"""Which device is on which serial port: the candidate ports, and a read-only probe of each.

A technician installing a kiosk has a handful of USB-serial adapters whose names
(``/dev/ttyUSB0``, ``/dev/ttyUSB1``...) depend on the order they enumerated in. Before the
paths go into ``[devices]`` they need to know which one is the bill acceptor and which the
printer; this module answers that by asking each port, in each protocol, for its status.

Why probing is safe to run on a kiosk:

* Every port is opened exclusively (``flock``), as the kiosk's own drivers open it. A port
  the running kiosk holds is reported *busy* and not written to at all, so a probe can never
  interleave with a payment in progress.
* Only status requests are sent. ESC/POS: ``DLE EOT n``, the printer's real-time status,
  which it answers even mid-job and which changes nothing. ID-003: one status request
  (``FC 05 11 27 56``), which reports the acceptor's state and changes nothing, not even a
  power-up (only RESET ends that). EBDS: one omnibus poll with no
  denomination enabled and neither *stack* nor *return* set, which never moves a note (a
  note held in escrow stays there). A one-shot event the acceptor may report to that poll
  (a note stacked while the kiosk was down) is not lost money: the driver ignores events in
  its first reply anyway, and recovery settles by the cash box count.
* The printer is asked first: ``DLE EOT 1`` means nothing to an acceptor (no STX, no SYNC),
  while an acceptor's frame sent to a printer would be bytes it has to make sense of. The
  two acceptor protocols ignore each other's frames: an ID-003 request has no STX, an EBDS
  poll no 0xFC.
* Nothing waits on the device: each reply has a deadline, input is read in small slices and
  capped, so a silent port, a port flooding garbage or one answering at the wrong speed all
  end in bounded time; :func:`scan` also runs probes in parallel behind an overall deadline.

A barcode scanner only speaks when it scans something, so a silent port may well be the
scanner: ``kiosk devices test barcode_scanner`` checks that one by asking for a scan.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import termios
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, TypeVar

import serial
import serial.tools.list_ports

from devices.ebds.driver import settings_for
from devices.ebds.framing import DEVICE_TYPE_BILL_ACCEPTOR, Frame, FrameAssembler
from devices.ebds.messages import OmnibusCommand, OmnibusStatus
from devices.escpos.status import (
    ALL_KINDS,
    PrinterStatus,
    StatusKind,
    fixed_bits_ok,
    request,
    status_from_replies,
)
from devices.id003 import driver as id003_driver
from devices.id003.framing import FrameAssembler as Id003Assembler
from devices.id003.messages import STATUS_REQUEST, Status, StatusReply
from devices.serial_link import PortSettings
from kiosk.config import Devices

F = TypeVar("F")
T = TypeVar("T")

PROBE_TIMEOUT = 0.3
"""Seconds to wait for each reply. Real devices answer in tens of milliseconds; a USB
adapter's latency timer adds up to 16 ms."""

SETTLE = 0.05
"""After an ESC/POS status byte, how long to listen for more: a printer sends exactly one,
so anything else arriving at once means the byte was not a status."""

READ_SLICE = 0.02
"""One read's time-out: short, so every deadline is checked often."""

MAX_INPUT = 4096
"""Bytes read per request at most: a port spewing data can not keep a probe busy."""

SHOWN_BYTES = 12
"""Bytes of an unrecognised answer shown to the technician."""

HEARD_KEPT = 64
"""Bytes of an unrecognised answer kept (enough to tell a scanned code from noise)."""

PRINTER_SETTINGS = PortSettings(baudrate=9600)
"""ESC/POS at 9600 8N1, what the kiosk's printer driver uses."""

SYSTEM_PATTERNS = ("/dev/serial/by-id/*", "/dev/ttyUSB*", "/dev/ttyACM*", "/dev/ttyS*")

SILENT_TEXT = (
    "no answer (a barcode scanner is silent until it scans: "
    "`kiosk devices test barcode_scanner` to check)"
)

BUSY = "busy: another program has it open (the kiosk service? stop it first)"


class Kind(Enum):
    """What answered on a port."""

    BILL_ACCEPTOR = "bill_acceptor"
    RECEIPT_PRINTER = "receipt_printer"
    SILENT = "silent"
    UNKNOWN = "unknown"
    UNAVAILABLE = "unavailable"


PROTOCOL_NAMES: dict[str, str] = {"ebds": "EBDS", "id003": "ID-003"}
"""How a technician reads each ``bill_acceptor_protocol``."""

DEVICE_NAMES: dict[Kind, str] = {
    Kind.BILL_ACCEPTOR: "bill_acceptor",
    Kind.RECEIPT_PRINTER: "receipt_printer",
}
"""The ``[devices]`` key of what answered: one name per device, in the config and here."""


@dataclass(frozen=True)
class Detection:
    """The outcome of probing one port.

    ``detail`` is the model and revision of an acceptor, the status of a printer, a sample of
    the bytes an unknown device sent, or why the port could not be opened.
    """

    path: str
    kind: Kind
    detail: str = ""
    protocol: str = ""
    """For a bill acceptor: ``ebds`` or ``id003``, as ``bill_acceptor_protocol`` spells it."""

    @property
    def realpath(self) -> str:
        return os.path.realpath(self.path)

    def describe(self) -> str:
        """The right-hand side of a ``kiosk devices scan`` line."""
        if self.kind is Kind.BILL_ACCEPTOR:
            name = PROTOCOL_NAMES.get(self.protocol, "EBDS")
            return f"bill_acceptor ({name}{', ' + self.detail if self.detail else ''})"
        if self.kind is Kind.RECEIPT_PRINTER:
            return f"receipt_printer (ESC/POS, status: {self.detail})"
        if self.kind is Kind.SILENT:
            return SILENT_TEXT
        if self.kind is Kind.UNKNOWN:
            return (
                "unknown: something answers, but not as an EBDS or ID-003 bill acceptor or an "
                f"ESC/POS printer ({self.detail})"
            )
        return f"can not open: {self.detail}"

    def line(self) -> str:
        shown = self.path
        if self.realpath != self.path and os.path.exists(self.path):
            shown += f" (= {self.realpath})"
        return f"{shown} -> {self.describe()}"


# ----------------------------------------------------------------------------- candidates


def _natural(path: str) -> list[int | str]:
    """``ttyS2`` before ``ttyS10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def _has_uart(path: str) -> bool:
    """False for the kernel's placeholder ``ttyS`` nodes, which have no UART behind them.

    Most PCs have 4 to 32 of them; opening one fails with EIO, so listing them all would
    bury the real ports in errors. The kernel reports ``type`` 0 (unknown) for them.
    """
    name = os.path.basename(path)
    try:
        with open(f"/sys/class/tty/{name}/type", encoding="ascii") as handle:
            return handle.read().strip() != "0"
    except OSError:
        return True  # no sysfs to ask: let the probe find out


def _system_ports() -> list[str]:
    found: list[str] = sorted(glob.glob(SYSTEM_PATTERNS[0]))
    with contextlib.suppress(OSError):  # an unreadable sysfs entry must not stop the scan
        found += sorted((port.device for port in serial.tools.list_ports.comports()), key=_natural)
    for pattern in SYSTEM_PATTERNS[1:]:
        paths = sorted(glob.glob(pattern), key=_natural)
        if pattern.endswith("ttyS*"):
            paths = [path for path in paths if _has_uart(path)]
        found += paths
    return found


def candidate_ports(extra: Iterable[str] = (), *, system: bool = True) -> list[str]:
    """Serial ports worth probing, each device once.

    ``extra`` paths (given by the technician, named in the config, an emulator's link) come
    first and are kept even if they do not exist, so the scan says why. Then, with
    ``system``, ``/dev/serial/by-id/*`` (the stable names a config should use), the ports
    pyserial lists, and the ``ttyUSB``/``ttyACM``/``ttyS`` nodes. A device reachable by
    several names is listed once, under the first of them (by realpath).
    """
    wanted = list(dict.fromkeys(extra))
    given = set(wanted)
    seen: set[str] = set()
    ports: list[str] = []
    for path in wanted + (_system_ports() if system else []):
        if path not in given and not os.path.exists(path):
            continue
        key = os.path.realpath(path)
        if key in seen:
            continue
        seen.add(key)
        ports.append(path)
    return ports


# ----------------------------------------------------------------------------- opening


class Unavailable(Exception):
    """The port could not be opened or was lost; the message is for the technician."""


def open_error(exc: BaseException) -> str:
    """Why a port could not be opened, in words a technician can act on."""
    text = str(exc)
    code = getattr(exc, "errno", None)
    if "exclusively lock" in text or code in (errno.EBUSY, errno.EAGAIN):
        return BUSY
    if code == errno.ENOENT:
        return "no such port (unplugged, or a wrong path)"
    if code in (errno.EACCES, errno.EPERM):
        return (
            "permission denied (the user needs to be in the dialout group, "
            "or a udev rule must give the kiosk user the port)"
        )
    if code in (errno.ENXIO, errno.ENODEV, errno.EIO):
        reason = getattr(exc, "strerror", None) or text
        return f"no device behind this port ({reason})"
    if code in (errno.EISDIR, errno.ENOTTY) or "Could not configure port" in text:
        return "not a serial port (it does not take serial settings)"
    return text or type(exc).__name__


def _open(path: str, settings: PortSettings, timeout: float) -> serial.Serial:
    try:
        return serial.Serial(
            path,
            baudrate=settings.baudrate,
            bytesize=settings.bytesize,
            parity=settings.parity,
            stopbits=settings.stopbits,
            timeout=READ_SLICE,
            write_timeout=max(timeout, READ_SLICE),
            exclusive=True,
        )
    except (serial.SerialException, OSError, ValueError, termios.error) as exc:
        # termios.error: pyserial lets some tcsetattr failures through (a pty refusing 7E1)
        raise Unavailable(open_error(exc)) from exc


def port_problem(path: str) -> str | None:
    """Why ``path`` can not be opened now (missing, busy, no permission), or None.

    The drivers keep retrying a port that is not there, which is right for a kiosk but
    leaves a device test waiting in silence; this says at once what is wrong.
    """
    try:
        port = _open(path, PRINTER_SETTINGS, PROBE_TIMEOUT)
    except Unavailable as exc:
        return str(exc)
    with contextlib.suppress(serial.SerialException, OSError, termios.error):
        port.close()
    return None


# ----------------------------------------------------------------------------- talking


def _discard_input(port: serial.Serial) -> None:
    """Whatever is waiting is not an answer to the request about to be sent."""
    with contextlib.suppress(termios.error):
        port.reset_input_buffer()


def _read(port: serial.Serial, limit: int) -> bytes:
    data: bytes = port.read(max(1, min(port.in_waiting, limit)))
    return data


def _status_byte(port: serial.Serial, kind: StatusKind, timeout: float) -> bytes:
    """Ask ``DLE EOT kind``; whatever came back within ``timeout`` (plus :data:`SETTLE`)."""
    _discard_input(port)
    port.write(request(kind))
    data = bytearray()
    deadline = time.monotonic() + timeout
    while len(data) < MAX_INPUT and time.monotonic() < deadline:
        chunk = _read(port, MAX_INPUT - len(data))
        if chunk and not data:
            deadline = min(deadline, time.monotonic() + SETTLE)
        data += chunk
    return bytes(data)


def _probe_escpos(port: serial.Serial, timeout: float, heard: bytearray) -> PrinterStatus | None:
    """The printer's four statuses, or None if ``DLE EOT 1`` got no single valid byte."""
    replies: dict[StatusKind, bytes | None] = {}
    for kind in ALL_KINDS:
        data = _status_byte(port, kind, timeout)
        if kind is StatusKind.PRINTER and not (len(data) == 1 and fixed_bits_ok(data[0])):
            _keep(heard, data)
            return None
        replies[kind] = data or None
    return status_from_replies(replies)


def _probe_ebds(port: serial.Serial, timeout: float, heard: bytearray) -> OmnibusStatus | None:
    """An omnibus reply to a poll that enables nothing and moves nothing, or None.

    Both ACK bits are tried: a device that saw the same ACK bit last answers with its
    previous reply (which may be a cash box total), and one whose previous reply was
    nothing at all (a soft reset) stays silent; the other bit gets a fresh status.
    """
    for ack in (0, 1):
        status = _ask(
            port,
            OmnibusCommand(enable_mask=0).encode(ack),
            FrameAssembler(),
            _acceptor_status,
            timeout,
            heard,
        )
        if status is not None:
            return status
    return None


def _probe_id003(port: serial.Serial, timeout: float, heard: bytearray) -> StatusReply | None:
    """The answer to one ID-003 status request, or None."""
    return _ask(port, STATUS_REQUEST, Id003Assembler(), StatusReply.decode, timeout, heard)


class _Assembler(Protocol[F]):
    def feed(self, data: bytes) -> list[F]: ...
    def flush(self) -> list[F]: ...


def _ask(
    port: serial.Serial,
    message: bytes,
    assembler: _Assembler[F],
    decode: Callable[[F], T | None],
    timeout: float,
    heard: bytearray,
) -> T | None:
    """Send ``message``; the first frame ``decode`` makes sense of within ``timeout``, or
    None (what came instead is kept in ``heard`` for the technician)."""
    _discard_input(port)
    port.write(message)
    received = bytearray()
    deadline = time.monotonic() + timeout
    while len(received) < MAX_INPUT and time.monotonic() < deadline:
        chunk = _read(port, MAX_INPUT - len(received))
        received += chunk
        for frame in assembler.feed(chunk):
            answer = decode(frame)
            if answer is not None:
                return answer
    for frame in assembler.flush():  # the line went quiet: take what is whole
        answer = decode(frame)
        if answer is not None:
            return answer
    _keep(heard, received)
    return None


def describe_id003(status: StatusReply) -> str:
    """The acceptor's state in a technician's words (``idling``, ``power up``...)."""
    state = status.status
    words = state.name.lower().replace("_", " ") if state is not None else "unknown"
    if state is Status.STACKER_OPEN:
        words = "cash box removed"
    elif state is Status.STACKER_FULL:
        words = "cash box full"
    elif state in (Status.ESCROW, Status.HOLDING):
        words = "a note is held in escrow"
    return f"status: {words}"


def _acceptor_status(frame: Frame) -> OmnibusStatus | None:
    if frame.device_type != DEVICE_TYPE_BILL_ACCEPTOR:
        return None
    return OmnibusStatus.decode(frame)


def _keep(heard: bytearray, data: bytes | bytearray) -> None:
    """Remember the start of what an unknown device said (enough to show and to read)."""
    heard += data[: max(0, HEARD_KEPT - len(heard))]


# ----------------------------------------------------------------------------- describing


def describe_model(model: int, revision: int) -> list[str]:
    """``model X (0x58)``, ``revision 0x21``; nothing for a byte the device leaves at 0."""
    parts: list[str] = []
    if model:
        code = f"0x{model:02x}"
        letter = chr(model)
        parts.append(f"model {letter} ({code})" if letter.isprintable() else f"model {code}")
    if revision:
        parts.append(f"revision 0x{revision:02x}")
    return parts


def describe_acceptor(status: OmnibusStatus) -> str:
    """Model, revision and anything a technician must see (``model X (0x58), revision 0x21``)."""
    parts = describe_model(status.model, status.revision)
    for flag, words in (
        (status.jammed, "jammed"),
        (status.failure, "failure"),
        (not status.cassette_attached, "cash box removed"),
        (status.stacker_full, "cash box full"),
        (status.escrowed, "a note is held in escrow"),
        (status.power_up, "just powered up"),
    ):
        if flag:
            parts.append(words)
    return ", ".join(parts)


def describe_printer(status: PrinterStatus | None) -> str:
    """``paper ok``, ``paper low``, ``paper out``, ``cover open``...; for scan and test lines."""
    if status is None:
        return "unknown (no status read yet)"
    if status.missing:
        return f"incomplete (no answer to DLE EOT {status.missing[0].value})"
    if status.invalid:
        return f"unreadable ({status.invalid[0].why})"
    parts = [
        "paper out" if status.paper_out else "paper low" if status.paper_near_end else "paper ok"
    ]
    for flag, words in (
        (status.cover_open, "cover open"),
        (status.cutter_error, "cutter jammed"),
        (status.unrecoverable_error, "unrecoverable error"),
        (status.auto_recoverable_error, "recoverable error (head too hot?)"),
    ):
        if flag:
            parts.append(words)
    if status.offline and len(parts) == 1 and not status.paper_out:
        parts.append("offline")
    return ", ".join(parts)


def _describe_unknown(heard: bytes) -> str:
    lines = [line.strip() for line in re.split(r"[\r\n]+", heard.decode("ascii", "replace"))]
    lines = [line for line in lines if line]
    if lines and all(" " <= char <= "~" for line in lines for char in line):
        text = lines[0][:40]
        return f"it sent the text {text!r}: a scanner that just scanned, or another device?"
    sample = " ".join(f"{byte:02x}" for byte in heard[:SHOWN_BYTES])
    more = " ..." if len(heard) > SHOWN_BYTES else ""
    return f"bytes {sample}{more}; a wrong baud rate, or another kind of device?"


# ----------------------------------------------------------------------------- probing


def probe(path: str, timeout: float = PROBE_TIMEOUT) -> Detection:
    """What is on ``path``: ESC/POS printer, EBDS acceptor, silence, something else, or why
    it could not be opened. Takes at most about six ``timeout`` s; never raises for the port.
    """
    heard = bytearray()
    try:
        ebds_settings = settings_for(path)
        with contextlib.closing(_open(path, PRINTER_SETTINGS, timeout)) as port:
            printer = _probe_escpos(port, timeout, heard)
            if printer is not None:
                return Detection(path, Kind.RECEIPT_PRINTER, describe_printer(printer))
            acceptor = None
            if ebds_settings == PRINTER_SETTINGS:  # a pty: no 8E1 or 7E1 to switch to
                jcm = _probe_id003(port, timeout, heard)
                if jcm is not None:
                    return Detection(path, Kind.BILL_ACCEPTOR, describe_id003(jcm), "id003")
                acceptor = _probe_ebds(port, timeout, heard)
        if acceptor is None and ebds_settings != PRINTER_SETTINGS:
            with contextlib.closing(_open(path, id003_driver.settings_for(path), timeout)) as port:
                jcm = _probe_id003(port, timeout, heard)
            if jcm is not None:
                return Detection(path, Kind.BILL_ACCEPTOR, describe_id003(jcm), "id003")
            with contextlib.closing(_open(path, ebds_settings, timeout)) as port:
                acceptor = _probe_ebds(port, timeout, heard)
    except Unavailable as exc:
        return Detection(path, Kind.UNAVAILABLE, str(exc))
    except (serial.SerialException, OSError, termios.error) as exc:
        return Detection(path, Kind.UNAVAILABLE, f"lost while probing ({open_error(exc)})")
    if acceptor is not None:
        return Detection(path, Kind.BILL_ACCEPTOR, describe_acceptor(acceptor), "ebds")
    if heard:
        return Detection(path, Kind.UNKNOWN, _describe_unknown(bytes(heard)))
    return Detection(path, Kind.SILENT)


def probe_bound(timeout: float) -> float:
    """The longest a probe should take: four status requests, an ID-003 status request,
    two EBDS polls, opening three times."""
    return 7 * (timeout + SETTLE) + 3.0


def scan(paths: Sequence[str], timeout: float = PROBE_TIMEOUT) -> list[Detection]:
    """Probe every path at once; a result for each, in order, within :func:`probe_bound`.

    In parallel because ports are independent and a kiosk's technician should not wait a
    second per port. A probe that has not finished by the deadline (a driver stuck in the
    kernel) is reported as such and left behind on its daemon thread.
    """
    results: list[Detection | None] = [None] * len(paths)

    def run(index: int, path: str) -> None:
        try:
            results[index] = probe(path, timeout)
        except Exception as exc:  # a bug in one probe must not hide the other ports
            results[index] = Detection(path, Kind.UNAVAILABLE, f"probe failed: {exc!r}")

    threads = [
        threading.Thread(target=run, args=(i, path), name=f"probe-{path}", daemon=True)
        for i, path in enumerate(paths)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + probe_bound(timeout)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    bound = probe_bound(timeout)
    return [
        result
        if result is not None
        else Detection(
            path,
            Kind.UNAVAILABLE,
            f"no result within {bound:g} s: the port is stuck (unplug it and plug it back)",
        )
        for path, result in zip(paths, results, strict=True)
    ]


# ----------------------------------------------------------------------------- the config


CHECKED: dict[str, Kind | None] = {
    "bill_acceptor": Kind.BILL_ACCEPTOR,
    "receipt_printer": Kind.RECEIPT_PRINTER,
    "barcode_scanner": None,
}
"""Config keys a scan can check, and what must answer there (None: a silent scanner)."""

NO_PROBE = "not checked (no probe for this device yet)"
NOT_SCANNED = {
    "card_terminal": "not probed by a scan (it answers only to the ZVT registration): "
    "`kiosk devices test card_terminal` asks it",
}

NOT_PORTS = {
    "emulated": "the in-process emulator, not a port: nothing to look for",
    "simulated": "a simulated stand-in, not a port: nothing to look for",
}


@dataclass(frozen=True)
class ConfiguredCheck:
    """Whether the device a ``[devices]`` key names is where the key says.

    ``ok`` is None when there is nothing to check (not a port, no probe for that device).
    """

    key: str
    where: str
    ok: bool | None
    message: str

    def line(self) -> str:
        return f"devices.{self.key} = {self.where}: {self.message}"


def configured_ports(devices: Devices) -> list[str]:
    """The serial paths the config names for devices a scan can check."""
    return [where for key in CHECKED if (where := str(getattr(devices, key))) not in NOT_PORTS]


def check_configured(devices: Devices, detections: Sequence[Detection]) -> list[ConfiguredCheck]:
    """Compare each ``[devices]`` entry with what the scan found (matched by realpath)."""
    by_real = {d.realpath: d for d in detections}
    checks: list[ConfiguredCheck] = []
    for key, value in devices:
        if key in Devices.OPTIONS:
            continue
        where = str(value)
        if where in NOT_PORTS:
            checks.append(ConfiguredCheck(key, where, None, NOT_PORTS[where]))
            continue
        if key not in CHECKED:
            checks.append(ConfiguredCheck(key, where, None, NOT_SCANNED.get(key, NO_PROBE)))
            continue
        found = by_real.get(os.path.realpath(where))
        check = _judge(key, where, found, detections)
        if check.ok and found is not None and found.protocol not in ("", wanted_protocol(devices)):
            check = ConfiguredCheck(
                key,
                where,
                False,
                f"a {PROTOCOL_NAMES[found.protocol]} bill acceptor answers there, but the config "
                f'says bill_acceptor_protocol = "{devices.bill_acceptor_protocol}": set it to '
                f'"{found.protocol}"',
            )
        checks.append(check)
    return checks


def wanted_protocol(devices: Devices) -> str:
    return str(devices.bill_acceptor_protocol)


def _judge(
    key: str, where: str, found: Detection | None, detections: Sequence[Detection]
) -> ConfiguredCheck:
    wanted = CHECKED[key]
    if found is None:
        return ConfiguredCheck(key, where, False, "not probed")
    if found.kind is Kind.UNAVAILABLE:
        return ConfiguredCheck(key, where, False, f"can not open: {found.detail}")
    if wanted is None:  # the scanner: present and quiet is all a probe can tell
        if found.kind is Kind.SILENT:
            return ConfiguredCheck(
                key,
                where,
                True,
                "the port is there and silent, as a scanner is until it scans "
                "(`kiosk devices test barcode_scanner` to check)",
            )
        return ConfiguredCheck(
            key, where, False, f"expected a barcode_scanner, found {found.describe()}"
        )
    if found.kind is wanted:
        protocol = PROTOCOL_NAMES.get(found.protocol, "EBDS")
        protocol = protocol if wanted is Kind.BILL_ACCEPTOR else "ESC/POS"
        status = f" (status: {found.detail})" if wanted is Kind.RECEIPT_PRINTER else ""
        return ConfiguredCheck(key, where, True, f"{protocol} {DEVICE_NAMES[wanted]} found{status}")
    elsewhere = [d.path for d in detections if d.kind is wanted]
    hint = f"; a {DEVICE_NAMES[wanted]} answers at {', '.join(elsewhere)}" if elsewhere else ""
    if found.kind in DEVICE_NAMES:
        what = f"a {DEVICE_NAMES[found.kind]} answers there, not a {DEVICE_NAMES[wanted]}"
    elif found.kind is Kind.UNKNOWN:
        what = f"something unknown answers there ({found.detail})"
    else:
        what = "nothing answering there"
    return ConfiguredCheck(key, where, False, what + hint)
