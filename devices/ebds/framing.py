"""EBDS frames: build, check and pull them out of a noisy byte stream.

Every EBDS message, either way, is ``STX LEN CTRL DATA... ETX CHK``: ``LEN`` counts the
whole frame (STX to CHK), ``CHK`` is the XOR of the bytes from ``LEN`` through the last
data byte, and ``CTRL`` carries the ACK/NAK toggle (bit 0), the device type (bits 1-3,
000 for a bill acceptor) and the message type (bits 4-6). The line is 7 data bits, so
every byte of a good frame is below 0x80.

:class:`FrameAssembler` never trusts a length until the ETX and checksum agree; how it
resynchronises on a noisy line is :mod:`devices.frames`, shared with ID-003.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from devices.frames import Fault, StreamAssembler

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


class FrameAssembler(StreamAssembler[Frame]):
    """EBDS frames out of a noisy stream (:class:`~devices.frames.StreamAssembler`): a
    candidate is good when its ETX is where LEN says and its checksum matches."""

    start = STX
    min_frame = MIN_FRAME

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        super().__init__(max_frame)

    def check(self, candidate: bytes | bytearray) -> Fault | None:
        if candidate[-2] != ETX:
            return "length"
        if checksum(candidate[1:-2]) != candidate[-1]:
            return "checksum"
        return None

    def frame(self, candidate: bytes | bytearray) -> Frame:
        return Frame(candidate[2], bytes(candidate[3:-2]))
