"""ESC/POS real-time status: the DLE EOT 1-4 requests and a strict parser of the replies.

A thermal printer answers ``DLE EOT n`` (``10 04 n``) with one byte, at once, even while it
is offline or its buffer is full, which is what lets the driver notice paper running out in
the middle of a receipt. Every reply byte has fixed bits (bit 1 and bit 4 set, bits 0 and 7
clear: ``byte & 0x93 == 0x12``); a byte that breaks them is not a status at all (line noise,
a late answer to something else, a printer in another mode) and is reported as
:class:`InvalidReply`, never read as "all clear".

Bit meanings (Epson ESC/POS, shared by the compatible printers):

====  ===========================  ==================================================
 n    reply                        bits used here
====  ===========================  ==================================================
 1    printer status               3: offline
 2    offline cause                2: cover open, 3: paper fed by the FEED button,
                                   5: printing stopped by paper end, 6: error
 3    error cause                  3: autocutter error, 5: unrecoverable error,
                                   6: automatically recoverable error (head too hot)
 4    roll paper sensor            2,3: paper near end, 5,6: paper out
====  ===========================  ==================================================

See docs/protocols/escpos.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, IntEnum

DLE = 0x10
EOT = 0x04
FIXED_MASK = 0x93
FIXED_VALUE = 0x12


class StatusKind(IntEnum):
    """The ``n`` of ``DLE EOT n``."""

    PRINTER = 1
    OFFLINE_CAUSE = 2
    ERROR_CAUSE = 3
    PAPER_SENSOR = 4


ALL_KINDS: tuple[StatusKind, ...] = tuple(StatusKind)


class Condition(Enum):
    """Something a status byte says about the printer; the values are health reasons."""

    OFFLINE = "offline"
    COVER_OPEN = "cover_open"
    FEED_BUTTON = "feed_button"
    PAPER_END_STOP = "paper_end_stop"
    ERROR = "error"
    CUTTER_ERROR = "cutter_error"
    UNRECOVERABLE_ERROR = "unrecoverable_error"
    AUTO_RECOVERABLE_ERROR = "auto_recoverable_error"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"


# (kind, mask, condition): a condition holds when every bit of ``mask`` is set.
_BITS: tuple[tuple[StatusKind, int, Condition], ...] = (
    (StatusKind.PRINTER, 0x08, Condition.OFFLINE),
    (StatusKind.OFFLINE_CAUSE, 0x04, Condition.COVER_OPEN),
    (StatusKind.OFFLINE_CAUSE, 0x08, Condition.FEED_BUTTON),
    (StatusKind.OFFLINE_CAUSE, 0x20, Condition.PAPER_END_STOP),
    (StatusKind.OFFLINE_CAUSE, 0x40, Condition.ERROR),
    (StatusKind.ERROR_CAUSE, 0x08, Condition.CUTTER_ERROR),
    (StatusKind.ERROR_CAUSE, 0x20, Condition.UNRECOVERABLE_ERROR),
    (StatusKind.ERROR_CAUSE, 0x40, Condition.AUTO_RECOVERABLE_ERROR),
    # The sensor pairs are both set or both clear on Epson printers; some compatible printers
    # set only one bit of a pair, so either bit counts (a false alarm is cheaper than a
    # receipt printed into an empty paper path).
    (StatusKind.PAPER_SENSOR, 0x04, Condition.PAPER_NEAR_END),
    (StatusKind.PAPER_SENSOR, 0x08, Condition.PAPER_NEAR_END),
    (StatusKind.PAPER_SENSOR, 0x20, Condition.PAPER_OUT),
    (StatusKind.PAPER_SENSOR, 0x40, Condition.PAPER_OUT),
)


def request(kind: StatusKind | int) -> bytes:
    """The three bytes that ask for one status: ``DLE EOT n``."""
    n = int(kind)
    if n not in (1, 2, 3, 4):
        raise ValueError(f"DLE EOT n takes n = 1..4, not {n}")
    return bytes((DLE, EOT, n))


def fixed_bits_ok(value: int) -> bool:
    return 0 <= value <= 0xFF and value & FIXED_MASK == FIXED_VALUE


@dataclass(frozen=True, slots=True)
class InvalidReply:
    """A reply that is not a status byte: reported as such, never guessed at."""

    kind: StatusKind
    data: bytes
    why: str


def conditions_of(kind: StatusKind, value: int) -> frozenset[Condition]:
    """The conditions one *valid* reply byte reports (check :func:`fixed_bits_ok` first)."""
    return frozenset(cond for k, mask, cond in _BITS if k is kind and value & mask == mask)


def parse_reply(kind: StatusKind, data: bytes) -> frozenset[Condition] | InvalidReply:
    """One reply to ``DLE EOT kind``: exactly one byte with the fixed bits right."""
    if len(data) == 0:
        return InvalidReply(kind, data, "no reply")
    if len(data) > 1:
        return InvalidReply(kind, data, f"{len(data)} bytes where one was expected")
    value = data[0]
    if not fixed_bits_ok(value):
        return InvalidReply(kind, data, f"0x{value:02x} breaks the fixed bits (0x93 -> 0x12)")
    return conditions_of(kind, value)


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """What the printer said to the four requests, or which answers were missing or bad."""

    conditions: frozenset[Condition] = frozenset()
    missing: tuple[StatusKind, ...] = ()
    invalid: tuple[InvalidReply, ...] = field(default=())
    raw: tuple[tuple[StatusKind, int], ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing and not self.invalid

    @property
    def offline(self) -> bool:
        return Condition.OFFLINE in self.conditions

    @property
    def cover_open(self) -> bool:
        return Condition.COVER_OPEN in self.conditions

    @property
    def paper_near_end(self) -> bool:
        return Condition.PAPER_NEAR_END in self.conditions

    @property
    def paper_out(self) -> bool:
        return Condition.PAPER_OUT in self.conditions or Condition.PAPER_END_STOP in self.conditions

    @property
    def cutter_error(self) -> bool:
        return Condition.CUTTER_ERROR in self.conditions

    @property
    def unrecoverable_error(self) -> bool:
        return Condition.UNRECOVERABLE_ERROR in self.conditions

    @property
    def auto_recoverable_error(self) -> bool:
        return Condition.AUTO_RECOVERABLE_ERROR in self.conditions

    def fault(self) -> str:
        """Why the printer can not print now, the most actionable reason first; "" if it can.

        Order: a printer that does not answer properly can not be trusted to print; then what
        a technician fixes by hand (the cover, the paper) before the errors that usually
        follow from it (a cover opened mid-print also sets "auto-recoverable error", and paper
        out also sets "offline").
        """
        if self.missing:
            return "no_response"
        if self.invalid:
            return "bad_status"
        for reason, present in (
            ("unrecoverable_error", self.unrecoverable_error),
            ("cutter_error", self.cutter_error),
            ("cover_open", self.cover_open),
            ("paper_out", self.paper_out),
            ("auto_recoverable_error", self.auto_recoverable_error),
            ("offline", self.offline),
        ):
            if present:
                return reason
        return ""

    def warning(self) -> str:
        """What a technician should see to before it is a fault (``paper_low``); "" if nothing."""
        return "paper_low" if self.paper_near_end else ""


def status_from_replies(replies: Mapping[StatusKind, bytes | None]) -> PrinterStatus:
    """Combine the replies to DLE EOT 1-4 (``None``: no answer in time) into one status.

    Any byte string is accepted, so a corrupted line can never raise here.
    """
    conditions: set[Condition] = set()
    missing: list[StatusKind] = []
    invalid: list[InvalidReply] = []
    raw: list[tuple[StatusKind, int]] = []
    for kind in ALL_KINDS:
        if kind not in replies:
            continue
        data = replies[kind]
        if data is None:
            missing.append(kind)
            continue
        parsed = parse_reply(kind, data)
        if isinstance(parsed, InvalidReply):
            invalid.append(parsed)
        else:
            conditions |= parsed
            raw.append((kind, data[0]))
    return PrinterStatus(frozenset(conditions), tuple(missing), tuple(invalid), tuple(raw))


def encode_status(
    kind: StatusKind,
    *,
    offline: bool = False,
    cover_open: bool = False,
    paper_end_stop: bool = False,
    error: bool = False,
    cutter_error: bool = False,
    unrecoverable_error: bool = False,
    auto_recoverable_error: bool = False,
    paper_near_end: bool = False,
    paper_out: bool = False,
) -> int:
    """The reply byte a printer in this state sends: the emulator's side of :func:`parse_reply`."""
    value = FIXED_VALUE
    flags = {
        Condition.OFFLINE: offline,
        Condition.COVER_OPEN: cover_open,
        Condition.PAPER_END_STOP: paper_end_stop,
        Condition.ERROR: error,
        Condition.CUTTER_ERROR: cutter_error,
        Condition.UNRECOVERABLE_ERROR: unrecoverable_error,
        Condition.AUTO_RECOVERABLE_ERROR: auto_recoverable_error,
        Condition.PAPER_NEAR_END: paper_near_end,
        Condition.PAPER_OUT: paper_out,
    }
    for k, mask, cond in _BITS:
        if k is kind and flags.get(cond, False):
            value |= mask
    return value
