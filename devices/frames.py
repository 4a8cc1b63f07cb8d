"""Finding length-prefixed frames in a noisy byte stream: one algorithm for every protocol
whose frames open with a start byte followed by their whole length (EBDS's STX LEN,
ID-003's SYNC LNG).

A serial line in a street kiosk picks up noise, loses bytes and is unplugged mid-frame, and
a start byte proves nothing by itself (it can appear inside data). So a candidate frame is
trusted only once its protocol's checks agree (:meth:`StreamAssembler.check`); when one
fails, the candidate gives up only the start byte it began at and the search goes on from
the byte after it, so a good frame hiding behind a bad one is still found. The assembler
never raises, keeps at most one maximum-length frame of input, and counts what it threw
away. Each protocol says what a start byte is, how long a frame may be, what makes a
candidate good and what frame it holds.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

F = TypeVar("F")

Fault = Literal["length", "checksum"]


@dataclass(slots=True)
class AssemblerStats:
    """What a technician looks at to tell a bad cable from a bad device."""

    frames: int = 0
    checksum_errors: int = 0
    length_errors: int = 0
    garbage_bytes: int = 0
    """Bytes skipped while looking for a start byte (including those in rejected frames)."""


class StreamAssembler(ABC, Generic[F]):
    """Bytes in, checked frames out; no I/O, no clock, never raises.

    ``feed`` returns every frame the new bytes complete. A candidate that is still
    incomplete waits for more bytes; ``flush`` is for when the line has gone quiet (a reply
    time-out, or just before the host sends again): it gives up on the incomplete candidate
    and returns any good frames that were hiding inside it.
    """

    start: int
    min_frame: int

    def __init__(self, max_frame: int) -> None:
        self.max_frame = max(self.min_frame, min(max_frame, 0xFF))
        self.stats = AssemblerStats()
        self._buffer = bytearray()

    @abstractmethod
    def check(self, candidate: bytes | bytearray) -> Fault | None:
        """What is wrong with ``candidate`` (exactly as long as its length byte says)."""

    @abstractmethod
    def frame(self, candidate: bytes | bytearray) -> F:
        """The frame in a ``candidate`` that passed :meth:`check`."""

    @property
    def pending(self) -> int:
        """Bytes held for an unfinished frame (never more than ``max_frame``)."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[F]:
        frames: list[F] = []
        for offset in range(0, len(data), self.max_frame):
            self._buffer += data[offset : offset + self.max_frame]
            self._extract(frames)
        return frames

    def flush(self) -> list[F]:
        """The line is idle: stop waiting for the rest of a frame; return what was inside."""
        frames: list[F] = []
        while self._buffer:
            self._extract(frames)
            if not self._buffer:
                break
            # what is left is an incomplete candidate: it will not complete
            self.stats.length_errors += 1
            del self._buffer[0]
        return frames

    def reset(self) -> None:
        """Forget everything held (the port went away); held bytes count as garbage."""
        self.stats.garbage_bytes += len(self._buffer)
        self._buffer.clear()

    def _extract(self, frames: list[F]) -> None:
        buffer = self._buffer
        while buffer:
            at = buffer.find(self.start)
            if at < 0:
                self.stats.garbage_bytes += len(buffer)
                buffer.clear()
                return
            if at:
                self.stats.garbage_bytes += at
                del buffer[:at]
            if len(buffer) < 2:
                return
            length = buffer[1]
            if length < self.min_frame or length > self.max_frame:
                self.stats.length_errors += 1
                del buffer[0]
                continue
            if len(buffer) < length:
                return
            candidate = buffer[:length]
            fault = self.check(candidate)
            if fault is not None:
                if fault == "length":
                    self.stats.length_errors += 1
                else:
                    self.stats.checksum_errors += 1
                del buffer[0]
                continue
            frames.append(self.frame(candidate))
            self.stats.frames += 1
            del buffer[:length]
