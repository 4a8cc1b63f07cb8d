"""Lines from a barcode scanner: bytes in, codes out, bad lines counted (a codec: no I/O).

A scanner in serial mode sends what it read followed by a suffix its owner programmed (CR,
LF or CR LF). There is no framing beyond that, so the reader has to defend itself: a cable
picking up noise, a scanner left in a mode that sends no suffix, or a stuck stream must not
grow memory or turn two half-codes into one account number. :class:`LineAssembler` keeps at
most ``max_line`` bytes, throws away lines that are too long, hold non-printable bytes or
were left unfinished, and reports each of them so a technician can see a bad cable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

MAX_LINE = 256
STALE_AFTER = 0.5
"""Seconds a partial line may wait for the rest: a scanner sends one code in one burst."""

_TERMINATOR = re.compile(rb"[\r\n]")


class Discard(Enum):
    """Why a line was thrown away."""

    TOO_LONG = "too_long"
    UNPRINTABLE = "unprintable"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True, slots=True)
class Discarded:
    reason: Discard
    size: int


class LineAssembler:
    """Bytes in, codes (``str``) and :class:`Discarded` lines out; no I/O, no clock of its own.

    CR and LF both end a line and empty lines are skipped, so CR, LF and CR LF suffixes all
    work, split across reads or not. Surrounding spaces and tabs are stripped; anything
    else outside printable ASCII discards the whole line (a misread is not a code). Once a
    line passes ``max_line`` bytes it is counted once and the rest of it, up to the next
    terminator, is dropped as it arrives. With ``stale_after`` seconds, a partial line older
    than that when more bytes come is dropped first, so a code whose suffix was lost is not
    glued to the front of the next one.
    """

    def __init__(self, max_line: int = MAX_LINE, stale_after: float | None = STALE_AFTER) -> None:
        if max_line < 1:
            raise ValueError("max_line must be at least 1")
        self.max_line = max_line
        self.stale_after = stale_after
        self._line = bytearray()
        self._overflowing = False
        self._last_byte_at: float | None = None

    @property
    def pending(self) -> int:
        """Bytes held for an unfinished line (never more than ``max_line``)."""
        return len(self._line)

    def feed(self, data: bytes, now: float | None = None) -> list[str | Discarded]:
        """Take ``data`` received at monotonic time ``now``; return what it completed."""
        out: list[str | Discarded] = []
        if now is not None and self.stale_after is not None:
            if self._last_byte_at is not None and now - self._last_byte_at > self.stale_after:
                self._drop_partial(out)
            if data:
                self._last_byte_at = now
        pieces = _TERMINATOR.split(data)
        for index, piece in enumerate(pieces):
            self._append(piece, out)
            if index < len(pieces) - 1:
                self._end_line(out)
        return out

    def reset(self) -> list[str | Discarded]:
        """Forget the unfinished line (the port went away); report it if it held anything."""
        out: list[str | Discarded] = []
        self._drop_partial(out)
        return out

    def _drop_partial(self, out: list[str | Discarded]) -> None:
        if self._line.strip(b" \t"):
            out.append(Discarded(Discard.INCOMPLETE, len(self._line)))
        self._line.clear()
        self._overflowing = False
        self._last_byte_at = None

    def _append(self, piece: bytes, out: list[str | Discarded]) -> None:
        if self._overflowing or not piece:
            return
        if len(self._line) + len(piece) > self.max_line:
            out.append(Discarded(Discard.TOO_LONG, len(self._line) + len(piece)))
            self._line.clear()
            self._overflowing = True
            return
        self._line += piece

    def _end_line(self, out: list[str | Discarded]) -> None:
        if self._overflowing:  # already counted when it passed the limit
            self._overflowing = False
            return
        line = bytes(self._line).strip(b" \t")
        self._line.clear()
        if not line:
            return
        if not all(0x20 <= byte <= 0x7E for byte in line):
            out.append(Discarded(Discard.UNPRINTABLE, len(line)))
            return
        out.append(line.decode("ascii"))
