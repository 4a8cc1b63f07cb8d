"""EBDS frames: build, check and pull them out of a noisy byte stream.

Every EBDS message, either way, is ``STX LEN CTRL DATA... ETX CHK``: ``LEN`` counts the
whole frame (STX to CHK), ``CHK`` is the XOR of the bytes from ``LEN`` through the last
data byte, and ``CTRL`` carries the ACK/NAK toggle (bit 0), the device type (bits 1-3,
000 for a bill acceptor) and the message type (bits 4-6). The line is 7 data bits, so
every byte of a good frame is below 0x80.

A serial line in a street kiosk picks up noise, loses bytes and is unplugged mid-frame.
:class:`FrameAssembler` therefore never trusts a length until the ETX and checksum agree:
when a candidate frame fails, it gives up only the STX it started at and looks for the
next one, so a good frame hiding behind a bad one is still found. It never raises, keeps
at most one maximum-length frame of input, and counts what it threw away.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

STX = 0x02
ETX = 0x03
MIN_FRAME = 5
"""STX LEN CTRL ETX CHK: a frame with no data bytes."""
MAX_FRAME = 0x7F
"""LEN is one 7-bit byte on a 7E1 line."""
OVERHEAD = 5
DEVICE_TYPE_BILL_ACCEPTOR = 0


class MessageType(IntEnum):
    """The message type in bits 4-6 of CTRL (EBDS section 7)."""

    OMNIBUS_COMMAND = 1
    OMNIBUS_REPLY = 2
    OMNIBUS_BOOKMARK = 3
    CALIBRATE = 4
    FLASH_DOWNLOAD = 5
    AUXILIARY = 6
    EXTENDED = 7


def checksum(body: bytes | bytearray) -> int:
    """XOR of ``body``: the bytes from LEN through the last data byte."""
    value = 0
    for byte in body:
        value ^= byte
    return value


def control_byte(
    message_type: MessageType | int, ack: int, device_type: int = DEVICE_TYPE_BILL_ACCEPTOR
) -> int:
    return ((int(message_type) & 0x07) << 4) | ((device_type & 0x07) << 1) | (ack & 0x01)


@dataclass(frozen=True, slots=True)
class Frame:
    """One checked frame: CTRL and the data bytes between it and ETX."""

    ctrl: int
    data: bytes

    @property
    def ack(self) -> int:
        return self.ctrl & 0x01

    @property
    def device_type(self) -> int:
        return (self.ctrl >> 1) & 0x07

    @property
    def message_type(self) -> int:
        """An int, not always a :class:`MessageType`: type 0 exists on the wire (garbage)."""
        return (self.ctrl >> 4) & 0x07

    def encode(self) -> bytes:
        return build_frame(self.ctrl, self.data)


def build_frame(ctrl: int, data: bytes) -> bytes:
    """``STX LEN CTRL DATA ETX CHK`` for ``data``; raises ValueError if it can not fit."""
    length = len(data) + OVERHEAD
    if length > MAX_FRAME:
        raise ValueError(f"EBDS frame of {length} bytes is longer than {MAX_FRAME}")
    body = bytes([length, ctrl & 0x7F]) + data
    return bytes([STX]) + body + bytes([ETX, checksum(body)])


def parse_frame(raw: bytes) -> Frame | None:
    """The frame in ``raw`` if ``raw`` is exactly one good frame, else None (never raises)."""
    if len(raw) < MIN_FRAME or raw[0] != STX or raw[1] != len(raw):
        return None
    if raw[-2] != ETX or checksum(raw[1:-2]) != raw[-1]:
        return None
    return Frame(raw[2], bytes(raw[3:-2]))


@dataclass(slots=True)
class AssemblerStats:
    """What a technician looks at to tell a bad cable from a bad device."""

    frames: int = 0
    checksum_errors: int = 0
    length_errors: int = 0
    garbage_bytes: int = 0
    """Bytes skipped while looking for an STX (including those inside rejected frames)."""


class FrameAssembler:
    """Bytes in, checked :class:`Frame` objects out; no I/O, no clock, never raises.

    ``feed`` returns every frame the new bytes complete. A candidate whose LEN is out of
    range, whose ETX is not where LEN says, or whose checksum is wrong loses its STX only,
    and the search goes on from the byte after it. A candidate that is still incomplete
    waits for more bytes; ``flush`` is for when the line has gone quiet (a reply time-out,
    or just before the host sends again): it gives up on the incomplete candidate and
    returns any good frames that were hiding inside it.
    """

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.max_frame = max(MIN_FRAME, min(max_frame, 0xFF))
        self.stats = AssemblerStats()
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held for an unfinished frame (never more than ``max_frame``)."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        frames: list[Frame] = []
        for start in range(0, len(data), self.max_frame):
            self._buffer += data[start : start + self.max_frame]
            self._extract(frames)
        return frames

    def flush(self) -> list[Frame]:
        """The line is idle: stop waiting for the rest of a frame; return what was inside."""
        frames: list[Frame] = []
        while self._buffer:
            self._extract(frames)
            if not self._buffer:
                break
            # what is left is an incomplete candidate starting with STX: it will not complete
            self.stats.length_errors += 1
            del self._buffer[0]
        return frames

    def reset(self) -> None:
        """Forget everything held (the port went away); held bytes count as garbage."""
        self.stats.garbage_bytes += len(self._buffer)
        self._buffer.clear()

    def _extract(self, frames: list[Frame]) -> None:
        buffer = self._buffer
        while buffer:
            start = buffer.find(STX)
            if start < 0:
                self.stats.garbage_bytes += len(buffer)
                buffer.clear()
                return
            if start:
                self.stats.garbage_bytes += start
                del buffer[:start]
            if len(buffer) < 2:
                return
            length = buffer[1]
            if length < MIN_FRAME or length > self.max_frame:
                self.stats.length_errors += 1
                del buffer[0]
                continue
            if len(buffer) < length:
                return
            if buffer[length - 2] != ETX:
                self.stats.length_errors += 1
                del buffer[0]
                continue
            if checksum(buffer[1 : length - 2]) != buffer[length - 1]:
                self.stats.checksum_errors += 1
                del buffer[0]
                continue
            frames.append(Frame(buffer[2], bytes(buffer[3 : length - 2])))
            self.stats.frames += 1
            del buffer[:length]
