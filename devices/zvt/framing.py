"""ZVT serial transport frames: ``DLE STX apdu DLE ETX crc-lo crc-hi``, found in a noisy stream.

On a serial line ZVT wraps every APDU in a frame (PA00P016, "serial transport protocol"):

* ``DLE STX`` opens it and ``DLE ETX`` closes it; a ``DLE`` (0x10) inside the APDU is sent
  twice, so a single ``DLE`` is always a control sequence.
* Two CRC bytes follow, low byte first: CRC-16 CCITT (polynomial x^16 + x^12 + x^5 + 1,
  processed least significant bit first, start value 0), computed over the APDU as it is
  *before* the doubling, plus the ETX byte. They are not DLE-doubled.
* The receiver answers a good frame with ``ACK`` (0x06) and a damaged one with ``NAK``
  (0x15); :mod:`devices.zvt.link` does that. Some terminals and documents write the
  acknowledgements as ``DLE ACK`` / ``DLE NAK``: the assembler accepts both forms.

A cable in a street kiosk picks up noise, drops bytes and is pulled mid-frame, so
:class:`FrameAssembler` never raises and never trusts anything the CRC has not checked:
a bad CRC is reported (the caller NAKs and the sender repeats), a lone DLE inside a frame
or a frame cut short is thrown away and counted, and the search starts again at the next
``DLE STX``. It holds at most one maximum-size APDU.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

DLE = 0x10
STX = 0x02
ETX = 0x03
ACK = 0x06
NAK = 0x15

MAX_APDU = 2 + 3 + 0xFFFF
"""Control field, extended length (``FF lo hi``) and the largest data block it can announce."""


def _table() -> tuple[int, ...]:
    rows = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        rows.append(crc)
    return tuple(rows)


_CRC_TABLE = _table()


def crc16(data: bytes | bytearray) -> int:
    """ZVT's CRC-16 CCITT (reflected 0x1021, start 0): ``crc16(b"123456789") == 0x2189``."""
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def encode_frame(apdu: bytes) -> bytes:
    """The bytes on the wire for one APDU: DLE doubled, CRC over APDU + ETX, low byte first."""
    crc = crc16(apdu + bytes([ETX]))
    body = apdu.replace(bytes([DLE]), bytes([DLE, DLE]))
    return bytes([DLE, STX]) + body + bytes([DLE, ETX, crc & 0xFF, crc >> 8])


class Signal(Enum):
    """A one-byte acknowledgement from the other side."""

    ACK = "ack"
    NAK = "nak"


@dataclass(frozen=True, slots=True)
class Frame:
    """A frame whose CRC matched: the APDU inside it (DLE doubling undone)."""

    apdu: bytes


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A complete frame whose CRC did not match: the receiver must answer NAK."""

    length: int


Received = Frame | BadFrame | Signal


@dataclass(slots=True)
class FramingStats:
    """What a technician reads to tell a bad cable from a bad terminal."""

    frames: int = 0
    crc_errors: int = 0
    lone_dle: int = 0
    truncated: int = 0
    oversized: int = 0
    garbage_bytes: int = 0
    acks: int = 0
    naks: int = 0


class _State(Enum):
    HUNT = 0
    HUNT_DLE = 1
    BODY = 2
    BODY_DLE = 3
    CRC_LOW = 4
    CRC_HIGH = 5


class FrameAssembler:
    """Bytes in, :data:`Received` items out; no I/O, no clock, never raises.

    ``feed`` returns everything the new bytes complete, in order. ``expire`` is for the
    caller's character time-out: the line went quiet inside a frame, which will not be
    finished now. Inside a frame 0x06 and 0x15 are data; outside they are acknowledgements.
    """

    def __init__(self, max_apdu: int = MAX_APDU) -> None:
        self.max_apdu = max(3, max_apdu)
        self.stats = FramingStats()
        self._state = _State.HUNT
        self._body = bytearray()
        self._crc_low = 0

    @property
    def in_frame(self) -> bool:
        """True while a frame has been opened and not yet closed or discarded."""
        return self._state in (_State.BODY, _State.BODY_DLE, _State.CRC_LOW, _State.CRC_HIGH)

    @property
    def pending(self) -> int:
        """APDU bytes held for an unfinished frame (never more than ``max_apdu``)."""
        return len(self._body)

    def reset(self) -> None:
        """Forget a partial frame (the port went away); it counts as truncated."""
        if self.in_frame:
            self.stats.truncated += 1
        self._start(_State.HUNT)

    def expire(self) -> None:
        """The line has been quiet inside a frame for longer than a character time-out."""
        self.reset()

    def feed(self, data: bytes | bytearray) -> list[Received]:
        out: list[Received] = []
        for byte in data:
            self._step(byte, out)
        return out

    # ------------------------------------------------------------------ the state machine
    def _start(self, state: _State) -> None:
        self._state = state
        self._body.clear()

    def _step(self, byte: int, out: list[Received]) -> None:
        state = self._state
        if state is _State.HUNT:
            self._hunt(byte, out)
        elif state is _State.HUNT_DLE:
            self._hunt_dle(byte, out)
        elif state is _State.BODY:
            if byte == DLE:
                self._state = _State.BODY_DLE
            else:
                self._append(byte)
        elif state is _State.BODY_DLE:
            self._body_dle(byte)
        elif state is _State.CRC_LOW:
            self._crc_low = byte
            self._state = _State.CRC_HIGH
        else:
            self._finish(byte, out)

    def _hunt(self, byte: int, out: list[Received]) -> None:
        if byte == DLE:
            self._state = _State.HUNT_DLE
        elif byte == ACK:
            self.stats.acks += 1
            out.append(Signal.ACK)
        elif byte == NAK:
            self.stats.naks += 1
            out.append(Signal.NAK)
        else:
            self.stats.garbage_bytes += 1

    def _hunt_dle(self, byte: int, out: list[Received]) -> None:
        if byte == STX:
            self._start(_State.BODY)
            return
        self._state = _State.HUNT
        if byte == ACK:
            self.stats.acks += 1
            out.append(Signal.ACK)
        elif byte == NAK:
            self.stats.naks += 1
            out.append(Signal.NAK)
        elif byte == DLE:
            self.stats.lone_dle += 1
            self._state = _State.HUNT_DLE  # the second DLE may still open a frame
        else:
            self.stats.lone_dle += 1
            self.stats.garbage_bytes += 1

    def _body_dle(self, byte: int) -> None:
        if byte == DLE:
            self._state = _State.BODY
            self._append(DLE)
        elif byte == ETX:
            self._state = _State.CRC_LOW
        elif byte == STX:
            # a new frame began before this one ended: this one lost its tail
            self.stats.truncated += 1
            self._start(_State.BODY)
        else:
            # a DLE that is neither doubled nor a control sequence: the frame is damaged;
            # the byte after it is not trusted as an acknowledgement either
            self.stats.lone_dle += 1
            self.stats.garbage_bytes += len(self._body) + 1
            self._start(_State.HUNT)

    def _append(self, byte: int) -> None:
        if len(self._body) >= self.max_apdu:
            self.stats.oversized += 1
            self.stats.garbage_bytes += len(self._body) + 1
            self._start(_State.HUNT)
            return
        self._body.append(byte)

    def _finish(self, crc_high: int, out: list[Received]) -> None:
        apdu = bytes(self._body)
        self._start(_State.HUNT)
        received = self._crc_low | (crc_high << 8)
        if crc16(apdu + bytes([ETX])) == received:
            self.stats.frames += 1
            out.append(Frame(apdu))
        else:
            self.stats.crc_errors += 1
            out.append(BadFrame(len(apdu)))
