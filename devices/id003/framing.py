"""ID-003 frames: build, check and pull them out of a noisy byte stream.

Every ID-003 message, either way, is ``SYNC LNG CMD DATA... CRCL CRCH`` (specification
ID03-001E section 3): ``SYNC`` is 0xFC, ``LNG`` counts the whole message from SYNC to the
last CRC byte, ``CMD`` is the command (host) or status (acceptor), and the CRC is the
16-bit CRC-CCITT of SYNC through the last data byte in its reflected form (polynomial
0x1021 reflected to 0x8408, initial value 0, no final XOR: what CRC catalogues call
CRC-16/KERMIT), sent low byte first. A status request is therefore ``FC 05 11 27 56``.

0xFC is not escaped: it can appear inside data and CRC bytes, so a SYNC byte proves
nothing until LNG and the CRC agree. :class:`FrameAssembler` gives up only the SYNC it
started at when a candidate fails and looks for the next one, so a good frame hiding behind
a bad one is still found. It never raises, keeps at most one maximum-length frame of input,
and counts what it threw away.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(slots=True)
class AssemblerStats:
    """What a technician looks at to tell a bad cable from a bad device."""

    frames: int = 0
    crc_errors: int = 0
    length_errors: int = 0
    garbage_bytes: int = 0
    """Bytes skipped while looking for a SYNC (including those inside rejected frames)."""


class FrameAssembler:
    """Bytes in, checked :class:`Frame` objects out; no I/O, no clock, never raises.

    ``feed`` returns every frame the new bytes complete. A candidate whose LNG is out of
    range or whose CRC is wrong loses its SYNC only, and the search goes on from the byte
    after it. A candidate that is still incomplete waits for more bytes; ``flush`` is for
    when the line has gone quiet (a reply time-out, or just before the host sends again):
    it gives up on the incomplete candidate and returns any good frames hiding inside it.
    """

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.max_frame = max(MIN_FRAME, min(max_frame, MAX_FRAME))
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
            self.stats.length_errors += 1  # an incomplete candidate that will not complete
            del self._buffer[0]
        return frames

    def reset(self) -> None:
        """Forget everything held (the port went away); held bytes count as garbage."""
        self.stats.garbage_bytes += len(self._buffer)
        self._buffer.clear()

    def _extract(self, frames: list[Frame]) -> None:
        buffer = self._buffer
        while buffer:
            start = buffer.find(SYNC)
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
            if crc16(buffer[: length - 2]) != buffer[length - 2] | (buffer[length - 1] << 8):
                self.stats.crc_errors += 1
                del buffer[0]
                continue
            frames.append(Frame(buffer[2], bytes(buffer[3 : length - 2])))
            self.stats.frames += 1
            del buffer[:length]
