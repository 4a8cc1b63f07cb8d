"""ID-003 message contents: command and status codes, their data, and the US note table.

Both sides live here so the driver and the emulator can not drift apart. Decoders take
whatever frame arrived and return None when it is not the message asked for; they never
raise. Section numbers are those of the JCM specification ID03-001E (Rev. 05); the rules
are written out in ``docs/protocols/id003.md``.

* Status request ``11`` (6-1) is answered by one status byte, with one data byte for
  ESCROW (the escrow code of the note, 6-2-1(3)), REJECTING (the reject reason,
  6-2-1(7)) and FAILURE (the failure code, 6-2-3(7)).
* Operation commands (6-3) RESET ``40``, STACK-1 ``41``, STACK-2 ``42``, RETURN ``43``,
  HOLD ``44``, WAIT ``45`` are answered by ACK ``50`` (6-4), or INVALID COMMAND ``4B``
  when the acceptor can not take them now (a stack with no note in escrow).
* The host answers VEND VALID ``15`` with ACK ``50`` (6-2-1(5)); the acceptor does not
  answer that ACK and reports VEND VALID again until it gets one.
* Setting commands (6-5) ``C0``-``C5`` are echoed back with the same data (6-6); their
  status requests are the same codes less 0x40 (``80``-``85``), answered with the current
  setting under the request's code (6-7). VERSION REQUEST ``88`` is answered under ``88``
  by the firmware's ASCII identification.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum

from devices.id003.framing import Frame, build_frame

# ----------------------------------------------------------------------------- codes


class Command(IntEnum):
    """Controller to acceptor (section 5, table of commands)."""

    STATUS_REQUEST = 0x11
    RESET = 0x40
    STACK_1 = 0x41
    STACK_2 = 0x42
    RETURN = 0x43
    HOLD = 0x44
    WAIT = 0x45
    ACK = 0x50
    ENABLE_DISABLE = 0xC0
    SECURITY = 0xC1
    COMMUNICATION_MODE = 0xC2
    INHIBIT = 0xC3
    DIRECTION = 0xC4
    OPTIONAL_FUNCTION = 0xC5
    ENABLE_DISABLE_REQUEST = 0x80
    SECURITY_REQUEST = 0x81
    COMMUNICATION_MODE_REQUEST = 0x82
    INHIBIT_REQUEST = 0x83
    DIRECTION_REQUEST = 0x84
    OPTIONAL_FUNCTION_REQUEST = 0x85
    VERSION_REQUEST = 0x88
    BOOT_VERSION_REQUEST = 0x89


OPERATIONS = frozenset(
    {Command.RESET, Command.STACK_1, Command.STACK_2, Command.RETURN, Command.HOLD, Command.WAIT}
)
SETTINGS = frozenset(
    {
        Command.ENABLE_DISABLE,
        Command.SECURITY,
        Command.COMMUNICATION_MODE,
        Command.INHIBIT,
        Command.DIRECTION,
        Command.OPTIONAL_FUNCTION,
    }
)
SETTING_DATA_LENGTH: dict[int, int] = {
    Command.ENABLE_DISABLE: 2,
    Command.SECURITY: 2,
    Command.COMMUNICATION_MODE: 1,
    Command.INHIBIT: 1,
    Command.DIRECTION: 1,
    Command.OPTIONAL_FUNCTION: 2,
}
"""Data bytes each setting command carries (6-5)."""
SETTING_REQUEST_OFFSET = 0x40
"""A setting's status request is its command code less 0x40 (``C3`` -> ``83``)."""


class Status(IntEnum):
    """Acceptor to controller: regular (6-2-1), power-up (6-2-2) and error (6-2-3) status."""

    IDLING = 0x11
    ACCEPTING = 0x12
    ESCROW = 0x13
    STACKING = 0x14
    VEND_VALID = 0x15
    STACKED = 0x16
    REJECTING = 0x17
    RETURNING = 0x18
    HOLDING = 0x19
    DISABLED = 0x1A
    INITIALIZE = 0x1B
    POWER_UP = 0x40
    POWER_UP_BILL_IN_ACCEPTOR = 0x41
    POWER_UP_BILL_IN_STACKER = 0x42
    STACKER_FULL = 0x43
    STACKER_OPEN = 0x44
    ACCEPTOR_JAM = 0x45
    STACKER_JAM = 0x46
    PAUSE = 0x47
    CHEATED = 0x48
    FAILURE = 0x49
    COMMUNICATION_ERROR = 0x4A
    INVALID_COMMAND = 0x4B


ACK = 0x50
POWER_UPS = frozenset(
    {Status.POWER_UP, Status.POWER_UP_BILL_IN_ACCEPTOR, Status.POWER_UP_BILL_IN_STACKER}
)
ERRORS = frozenset(
    {
        Status.STACKER_FULL,
        Status.STACKER_OPEN,
        Status.ACCEPTOR_JAM,
        Status.STACKER_JAM,
        Status.PAUSE,
        Status.CHEATED,
        Status.FAILURE,
        Status.COMMUNICATION_ERROR,
        Status.INVALID_COMMAND,
    }
)
WITH_DATA = frozenset({Status.ESCROW, Status.REJECTING, Status.FAILURE})
"""Statuses followed by exactly one data byte (6-2-1(3), 6-2-1(7), 6-2-3(7))."""


class RejectReason(IntEnum):
    """The data byte of REJECTING (6-2-1(7))."""

    INSERTION = 0x71
    MAGNETIC_PATTERN = 0x72
    REMAINING_BILL_IN_HEAD = 0x73
    COMPENSATION = 0x74
    CONVEYING = 0x75
    DENOMINATION = 0x76
    PHOTO_PATTERN = 0x77
    PHOTO_LEVEL = 0x78
    INHIBIT = 0x79
    OPERATION = 0x7B
    REMAINING_BILL_IN_STACKER = 0x7C
    LENGTH = 0x7D
    PHOTO_PATTERN_2 = 0x7E
    TRUE_BILL_FEATURE = 0x7F


class FailureCode(IntEnum):
    """The data byte of FAILURE (6-2-3(7))."""

    STACK_MOTOR = 0xA2
    TRANSPORT_MOTOR_SPEED = 0xA5
    TRANSPORT_MOTOR = 0xA6
    SOLENOID = 0xA8
    PB_UNIT = 0xA9
    CASH_BOX_NOT_READY = 0xAB
    VALIDATOR_HEAD_REMOVED = 0xAF
    BOOT_ROM = 0xB0
    EXTERNAL_ROM = 0xB1
    RAM = 0xB2
    EXTERNAL_ROM_WRITING = 0xB3


def _name(enum: type[IntEnum], value: int) -> str:
    try:
        return enum(value).name.lower()
    except ValueError:
        return f"0x{value:02X}"


def reject_reason(code: int | None) -> str:
    """``insertion``, ``inhibit``..., or the byte in hex for a code the table lacks."""
    return "unknown" if code is None else _name(RejectReason, code)


def failure_name(code: int | None) -> str:
    return "unknown" if code is None else _name(FailureCode, code)


# ----------------------------------------------------------------------------- denominations
# Amounts are plain integer cents here: this module is a codec, free of the kiosk's types.

USD_NOTES: dict[int, int] = {
    0x61: 100,
    0x62: 200,
    0x63: 500,
    0x64: 1000,
    0x65: 2000,
    0x66: 5000,
    0x67: 10000,
}
"""Escrow code to the note's value in cents for a US acceptor (6-2-1(3), country code 01)."""
ESCROW_CODES = range(0x61, 0x69)
"""The eight escrow codes; bit ``code - 0x61`` of ENABLE/DISABLE data1 stands for each."""


def disable_mask(cents: Iterable[int], table: Mapping[int, int] = USD_NOTES) -> int:
    """data1 of ENABLE/DISABLE (``C0``) for the notes worth ``cents``: a bit set inhibits
    its denomination (6-5(1)), so every code not wanted, known or not, is set."""
    wanted = set(cents)
    mask = 0xFF
    for code, note in table.items():
        if note in wanted and code in ESCROW_CODES:
            mask &= ~(1 << (code - 0x61))
    return mask


def escrow_code(cents: int, table: Mapping[int, int] = USD_NOTES) -> int | None:
    """The escrow code of the note worth ``cents``, None if the table has none."""
    for code, note in table.items():
        if note == cents:
            return code
    return None


def enabled(mask: int, code: int) -> bool:
    """Whether ENABLE/DISABLE data1 ``mask`` lets the note with ``code`` in."""
    return code in ESCROW_CODES and not mask & (1 << (code - 0x61))


# ----------------------------------------------------------------------------- messages


def command(code: int, data: bytes = b"") -> bytes:
    """A controller message on the wire."""
    return build_frame(code, data)


STATUS_REQUEST = command(Command.STATUS_REQUEST)
ACK_FRAME = command(Command.ACK)


def setting(code: Command, data: bytes) -> bytes:
    """A setting command (6-5); raises ValueError when ``data`` has the wrong length."""
    want = SETTING_DATA_LENGTH.get(code)
    if want is None or len(data) != want:
        raise ValueError(f"setting {code!r} takes {want} data bytes, not {len(data)}")
    return build_frame(code, data)


@dataclass(frozen=True, slots=True)
class StatusReply:
    """One status from the acceptor: the code and, for three of them, one data byte."""

    code: int
    data: int | None = None

    @property
    def status(self) -> Status | None:
        try:
            return Status(self.code)
        except ValueError:
            return None

    @property
    def note_code(self) -> int | None:
        """The escrow code of the note, for ESCROW."""
        return self.data if self.code == Status.ESCROW else None

    def encode(self) -> bytes:
        return build_frame(self.code, b"" if self.data is None else bytes([self.data]))

    @classmethod
    def decode(cls, frame: Frame) -> StatusReply | None:
        """A status (regular, power-up or error), or None for anything else: an ACK, a
        setting's echo, a version string, a status with its data byte missing, or a code
        the specification does not list."""
        try:
            status = Status(frame.cmd)
        except ValueError:
            return None
        if status in WITH_DATA:
            if len(frame.data) != 1:
                return None
            return cls(frame.cmd, frame.data[0])
        if frame.data and status is not Status.VEND_VALID:
            return None
        # some firmware repeats the escrow code after VEND VALID: the code is what counts
        return cls(frame.cmd)


def is_ack(frame: Frame) -> bool:
    return frame.cmd == ACK and not frame.data


def echo_of(frame: Frame, sent: bytes) -> bool:
    """Whether ``frame`` is the acceptor's echo of the setting command ``sent`` (6-6)."""
    return frame.encode() == sent


def decode_version(frame: Frame) -> str | None:
    """The identification string in an answer to VERSION REQUEST, e.g.
    ``"i(USA)100-SS ID003-05V280-42 01AUG17 964D"``; None if this is not one."""
    if frame.cmd != Command.VERSION_REQUEST or not frame.data:
        return None
    return frame.data.decode("ascii", errors="replace").strip("\x00 ")
