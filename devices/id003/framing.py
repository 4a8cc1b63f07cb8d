"""ID-003 frames: build, check and pull them out of a noisy byte stream.

Every ID-003 message, either way, is ``SYNC LNG CMD DATA... CRCL CRCH`` (specification
ID03-001E section 3): ``SYNC`` is 0xFC, ``LNG`` counts the whole message from SYNC to the
last CRC byte, ``CMD`` is the command (host) or status (acceptor), and the CRC is the
16-bit CRC-CCITT of SYNC through the last data byte in its reflected form (polynomial
0x1021 reflected to 0x8408, initial value 0, no final XOR: what CRC catalogues call
CRC-16/KERMIT), sent low byte first. A status request is therefore ``FC 05 11 27 56``.

0xFC is not escaped: it can appear inside data and CRC bytes, so a SYNC byte proves
nothing until LNG and the CRC agree. How :class:`FrameAssembler` resynchronises on a noisy
line is :mod:`devices.frames`, shared with EBDS.
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.frames import Fault, StreamAssembler

SYNC = 0xFC
OVERHEAD = 5
"""SYNC LNG CMD CRCL CRCH: a frame with no data bytes."""
MIN_FRAME = OVERHEAD
MAX_FRAME = 0xFF
"""LNG is one byte."""


def crc16(data: bytes | bytearray) -> int:
    """CRC-16/KERMIT of ``data`` (reflected CCITT, initial 0): ``crc16(b"123456789") == 0x2189``."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


@dataclass(frozen=True, slots=True)
class Frame:
    """One checked frame: the command or status byte and the data bytes after it."""

    cmd: int
    data: bytes = b""

    def encode(self) -> bytes:
        return build_frame(self.cmd, self.data)


def build_frame(cmd: int, data: bytes = b"") -> bytes:
    """``SYNC LNG CMD DATA CRCL CRCH``; raises ValueError if it can not fit in 255 bytes."""
    length = len(data) + OVERHEAD
    if length > MAX_FRAME:
        raise ValueError(f"ID-003 frame of {length} bytes is longer than {MAX_FRAME}")
    body = bytes([SYNC, length, cmd & 0xFF]) + data
    crc = crc16(body)
    return body + bytes([crc & 0xFF, crc >> 8])


def parse_frame(raw: bytes) -> Frame | None:
    """The frame in ``raw`` if ``raw`` is exactly one good frame, else None (never raises)."""
    if len(raw) < MIN_FRAME or raw[0] != SYNC or raw[1] != len(raw):
        return None
    if crc16(raw[:-2]) != raw[-2] | (raw[-1] << 8):
        return None
    return Frame(raw[2], bytes(raw[3:-2]))


class FrameAssembler(StreamAssembler[Frame]):
    """ID-003 frames out of a noisy stream (:class:`~devices.frames.StreamAssembler`): a
    candidate is good when its CRC matches."""

    start = SYNC
    min_frame = MIN_FRAME

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        super().__init__(max_frame)

    def check(self, candidate: bytes | bytearray) -> Fault | None:
        if crc16(candidate[:-2]) != candidate[-2] | (candidate[-1] << 8):
            return "checksum"
        return None

    def frame(self, candidate: bytes | bytearray) -> Frame:
        return Frame(candidate[2], bytes(candidate[3:-2]))
