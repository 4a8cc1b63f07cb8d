"""BMPs: ZVT's tagged data fields, parsed into typed values with the card data already gone.

A ZVT data block is a run of BMPs, each a one-byte tag followed by a value whose length the
tag decides: fixed (04 amount: 6 bytes BCD), ``LLVAR``/``LLLVAR`` (two or three length
bytes ``Fx``, each carrying one decimal digit of the byte count), or BER-TLV (06). A tag the
table does not know has a length nobody can guess, so parsing stops there and says where.

Card data is removed *while parsing*, so no object ever holds it: of the PAN (BMP 22,
BCD with ``E`` for each masked digit and ``F`` padding) only the last four digits are kept;
track data (23, 24, 2D), CVV (3A), PIN data (D1), chip data (2E, A7) and the expiry date
(0E) are skipped without being decoded. :func:`scrub_card_numbers` does the same for free
text (receipt lines) a terminal might send with a full card number in it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import Enum

from devices.zvt import codes
from devices.zvt.tlv import encode_length, encode_tlv, find_all, parse_tlv, read_length

log = logging.getLogger(__name__)

TEXT_ENCODING = "cp437"
"""ZVT's default character set (the spec's "ZVT-Charactersets": code page 437)."""


# ----------------------------------------------------------------------------- BCD


def to_bcd(value: int, length: int) -> bytes:
    """``value`` as ``length`` bytes of packed BCD; ValueError if it does not fit."""
    digits = str(value)
    if value < 0 or len(digits) > 2 * length:
        raise ValueError(f"{value} does not fit in {length} BCD bytes")
    return bytes.fromhex(digits.rjust(2 * length, "0"))


def from_bcd(raw: bytes) -> int | None:
    """Packed BCD to an int; None if a nibble is not a decimal digit."""
    text = raw.hex()
    return int(text) if text and text.isdigit() else None


def password_bcd(password: str) -> bytes:
    """The six-digit ZVT password as three BCD bytes."""
    if len(password) != 6 or not password.isdigit():
        raise ValueError("the ZVT password is six digits")
    return bytes.fromhex(password)


def var_prefix(length: int, digits: int) -> bytes:
    """The ``Fx Fy (Fz)`` length prefix of an LLVAR (2 digits) or LLLVAR (3 digits) value."""
    text = str(length)
    if len(text) > digits:
        raise ValueError(f"{length} does not fit an L{'L' * digits}VAR")
    return bytes(0xF0 | int(d) for d in text.rjust(digits, "0"))


def read_var_length(data: bytes, pos: int, digits: int) -> tuple[int, int] | None:
    if pos + digits > len(data):
        return None
    value = 0
    for byte in data[pos : pos + digits]:
        if byte & 0xF0 != 0xF0 or byte & 0x0F > 9:
            return None
        value = value * 10 + (byte & 0x0F)
    return value, pos + digits


# ----------------------------------------------------------------------------- the table


class Kind(Enum):
    FIXED = "fixed"
    LLVAR = "llvar"
    LLLVAR = "lllvar"
    TLV = "tlv"


_FIXED: dict[int, int] = {
    0x01: 1, 0x02: 1, 0x03: 1, 0x04: 6, 0x05: 1, 0x0B: 3, 0x0C: 3, 0x0D: 2, 0x0E: 2,
    0x17: 2, 0x19: 1, 0x27: 1, 0x29: 4, 0x2A: 15, 0x37: 3, 0x3A: 2, 0x3B: 8, 0x3D: 3,
    0x49: 2, 0x87: 2, 0x88: 3, 0x8A: 1, 0x8C: 1, 0xA0: 1, 0xAA: 3, 0xBA: 5, 0xD0: 1,
    0xD2: 1, 0xD3: 1, 0xE0: 1, 0xE9: 1, 0xEA: 1, 0xEB: 8, 0xF0: 1, 0xF9: 1, 0xFA: 1,
    0xFB: 1, 0xFC: 1, 0xFD: 1,
}  # fmt: skip
_LLVAR = (
    {0x22, 0x23, 0x2D, 0x4C, 0x8B, 0x92, 0xA7, 0xD1}
    | set(range(0xE1, 0xE9))
    | set(range(0xF1, 0xF9))
)
"""BMP 4C (an LLVAR, PA00P015 13.x) is here so the fields after it (87, the receipt
number a reversal names) are read: a tag missing from this table ends the parse."""
_LLLVAR = {0x24, 0x2E, 0x3C, 0x60, 0x9A, 0xAF}

CARD_DATA = {0x0E, 0x23, 0x24, 0x2D, 0x2E, 0x3A, 0xA7, 0xD1}
"""BMPs whose value is never decoded nor kept: expiry, tracks, chip data, CVV, PIN data."""
PAN = 0x22
TLV_TRACE_LONG = 0x1F2B
"""TLV tag of the long trace number (BCD), sent in BMP 06 when BMP 0B (3 BCD) is zero."""


def kind_of(tag: int) -> tuple[Kind, int] | None:
    if tag in _FIXED:
        return Kind.FIXED, _FIXED[tag]
    if tag in _LLVAR:
        return Kind.LLVAR, 2
    if tag in _LLLVAR:
        return Kind.LLLVAR, 3
    if tag == 0x06:
        return Kind.TLV, 0
    return None


@dataclass(frozen=True, slots=True)
class Bmps:
    """The fields of one data block, card data already removed.

    ``values`` maps a tag to its raw value (for BMP 22 only the last four digits, as ASCII).
    ``stopped_at`` is the tag where parsing had to stop (unknown or cut short), if any.
    """

    values: dict[int, bytes]
    order: tuple[int, ...]
    stopped_at: int | None = None

    def get(self, tag: int) -> bytes | None:
        return self.values.get(tag)

    @property
    def complete(self) -> bool:
        return self.stopped_at is None


def parse_bmps(data: bytes, start: int = 0) -> Bmps:
    """Every BMP from ``start`` on; never raises. Card data is dropped here."""
    values: dict[int, bytes] = {}
    order: list[int] = []
    pos = start
    while pos < len(data):
        tag = data[pos]
        spec = kind_of(tag)
        if spec is None:
            return Bmps(values, tuple(order), stopped_at=tag)
        kind, size = spec
        pos += 1
        if kind is Kind.FIXED:
            length = size
        elif kind is Kind.TLV:
            at = read_length(data, pos)
            if at is None:
                return Bmps(values, tuple(order), stopped_at=tag)
            length, pos = at
        else:
            var = read_var_length(data, pos, size)
            if var is None:
                return Bmps(values, tuple(order), stopped_at=tag)
            length, pos = var
        if pos + length > len(data):
            return Bmps(values, tuple(order), stopped_at=tag)
        raw = data[pos : pos + length]
        pos += length
        if tag in CARD_DATA:
            continue
        values[tag] = _last_four(raw) if tag == PAN else bytes(raw)
        order.append(tag)
    return Bmps(values, tuple(order))


def _last_four(raw: bytes) -> bytes:
    """BMP 22 reduced to its last four digits (ASCII); masked or odd data gives b""."""
    digits = "".join(_NIBBLE.get(n, "?") for n in raw.hex()).rstrip("f")
    tail = digits[-4:]
    if digits.count("*") == 0 and len(digits) > 4:
        log.warning("the terminal sent an unmasked card number; only the last four digits kept")
    return tail.encode("ascii") if len(tail) == 4 and tail.isdigit() else b""


_NIBBLE = {**{str(d): str(d) for d in range(10)}, "e": "*", "f": "f"}


# ----------------------------------------------------------------------------- typed values


@dataclass(frozen=True, slots=True)
class BrandTotal:
    """One group of BMP 60 (individual totals): how many and how much."""

    brand: str
    count: int
    amount_cents: int


@dataclass(frozen=True, slots=True)
class Totals:
    """BMP 60 of an end-of-day status: the receipt range and the seven card groups."""

    first_receipt: int | None
    last_receipt: int | None
    groups: tuple[BrandTotal, ...]


@dataclass(frozen=True, slots=True)
class StatusInformation:
    """What a Status-Information (04 0F) says, with nothing that identifies a card."""

    result_code: int | None = None
    amount_cents: int | None = None
    trace: int | None = None
    original_trace: int | None = None
    receipt: int | None = None
    turnover: int | None = None
    time: str = ""
    date: str = ""
    auth_code: str = ""
    card_type: int | None = None
    card_name: str = ""
    card_type_id: int | None = None
    pan_last4: str = ""
    terminal_id: str = ""
    vu_number: str = ""
    currency: int | None = None
    payment_type: int | None = None
    additional_text: str = ""
    totals: Totals | None = None
    complete: bool = True

    @property
    def brand(self) -> str:
        return codes.brand_for(self.card_type, self.card_name)

    @property
    def is_reversal(self) -> bool:
        """A reversal names the trace of the sale it undid (BMP 37)."""
        return self.original_trace is not None


def _text(raw: bytes | None) -> str:
    if not raw:
        return ""
    return raw.decode(TEXT_ENCODING, errors="replace").replace("\x00", "").strip()


def _byte(raw: bytes | None) -> int | None:
    return raw[0] if raw else None


def _bcd(raw: bytes | None) -> int | None:
    return from_bcd(raw) if raw else None


def _bcd_text(raw: bytes | None) -> str:
    return raw.hex() if raw and raw.hex().isdigit() else ""


def _trace(short: bytes | None, container: bytes | None) -> int | None:
    """BMP 0B, or the long trace number (TLV 1F2B) when 0B is zero or absent."""
    trace = _bcd(short)
    if trace:
        return trace
    items = parse_tlv(container) if container else None
    found = find_all(items, TLV_TRACE_LONG) if items else []
    long = _bcd(found[0].value) if found else None
    return long if long is not None else trace


def status_information(data: bytes) -> StatusInformation:
    """Decode the data block of 04 0F; missing or unreadable fields stay empty."""
    bmps = parse_bmps(data)
    if not bmps.complete:
        log.warning("status information: stopped at unknown BMP 0x%02x", bmps.stopped_at or 0)
    v = bmps.get
    return StatusInformation(
        result_code=_byte(v(0x27)),
        amount_cents=_bcd(v(0x04)),
        trace=_trace(v(0x0B), v(0x06)),
        original_trace=_bcd(v(0x37)),
        receipt=_bcd(v(0x87)),
        turnover=_bcd(v(0x88)),
        time=_bcd_text(v(0x0C)),
        date=_bcd_text(v(0x0D)),
        auth_code=_text(v(0x3B)),
        card_type=_byte(v(0x8A)),
        card_name=_text(v(0x8B)),
        card_type_id=_byte(v(0x8C)),
        pan_last4=(v(PAN) or b"").decode("ascii"),
        terminal_id=_bcd_text(v(0x29)),
        vu_number=_text(v(0x2A)),
        currency=_bcd(v(0x49)),
        payment_type=_byte(v(0x19)),
        additional_text=_text(v(0x3C)),
        totals=parse_totals(v(0x60)),
        complete=bmps.complete,
    )


def parse_totals(raw: bytes | None) -> Totals | None:
    """BMP 60: receipt-from, receipt-to (2 BCD each), then 7 x (count, 6-byte BCD turnover)."""
    if raw is None or len(raw) < 4 + 7 * 7:
        return None
    groups: list[BrandTotal] = []
    for index, brand in enumerate(codes.TOTALS_GROUPS):
        at = 4 + index * 7
        amount = from_bcd(raw[at + 1 : at + 7])
        if amount is None:
            return None
        groups.append(BrandTotal(brand, raw[at], amount))
    return Totals(from_bcd(raw[0:2]), from_bcd(raw[2:4]), tuple(groups))


def text_block_lines(data: bytes) -> tuple[str, ...]:
    """The text lines (TLV tag 07) of a Print Text-Block's TLV container (BMP 06)."""
    if not data or data[0] != 0x06:
        return ()
    at = read_length(data, 1)
    if at is None:
        return ()
    length, pos = at
    items = parse_tlv(data[pos : pos + length])
    if items is None:
        return ()
    return tuple(_text(item.value) for item in find_all(items, 0x07))


# ----------------------------------------------------------------------------- encoding


def fixed(tag: int, value: bytes) -> bytes:
    spec = kind_of(tag)
    if spec is None or spec[0] is not Kind.FIXED or spec[1] != len(value):
        raise ValueError(f"BMP 0x{tag:02x} is not a fixed field of {len(value)} bytes")
    return bytes([tag]) + value


def llvar(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + var_prefix(len(value), 2) + value


def lllvar(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + var_prefix(len(value), 3) + value


def tlv_container(content: bytes) -> bytes:
    return bytes([0x06]) + encode_length(len(content)) + content


def long_trace(trace: int, digits: int = 8) -> bytes:
    """A TLV container with the long trace number (tag 1F2B, BCD)."""
    return tlv_container(encode_tlv(TLV_TRACE_LONG, to_bcd(trace, (digits + 1) // 2)))


def masked_pan(masked: str) -> bytes:
    """BMP 22 for a masked card number such as ``"************0119"`` (``*`` becomes ``E``).

    Refuses more than four clear digits: the emulator, like a semi-integrated terminal,
    never hands out a usable card number.
    """
    if sum(ch.isdigit() for ch in masked) > 4 or any(ch not in "*0123456789" for ch in masked):
        raise ValueError("only a masked card number with at most four clear digits")
    nibbles = masked.replace("*", "e")
    if len(nibbles) % 2:
        nibbles += "f"
    return llvar(PAN, bytes.fromhex(nibbles))


def text(value: str, size: int | None = None) -> bytes:
    raw = value.encode(TEXT_ENCODING, errors="replace")
    return raw if size is None else raw[:size].ljust(size, b" ")


def encode_totals(totals: Totals) -> bytes:
    body = to_bcd(totals.first_receipt or 0, 2) + to_bcd(totals.last_receipt or 0, 2)
    for group in totals.groups:
        body += bytes([min(group.count, 0xFF)]) + to_bcd(group.amount_cents, 6)
    return lllvar(0x60, body)


# ----------------------------------------------------------------------------- free text

_GROUPED_RUN = re.compile(r"(?<!\d)\d+(?:[ -]\d+)*(?!\d)")
"""Digit groups joined by single spaces or dashes, as card numbers are often printed."""


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        d = int(char)
        if index % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def scrub_card_numbers(line: str) -> str:
    """Mask anything in ``line`` that looks like a full card number (13-19 digits, Luhn ok).

    A terminal should only ever print masked numbers on the receipt lines it sends, but a
    misconfigured one must not put a card number into the kiosk's journal.
    """

    def mask(match: re.Match[str]) -> str:
        parts = re.split(r"([ -])", match.group(0))
        groups, separators = parts[0::2], parts[1::2]
        masked = list(groups)
        # every window of whole groups with 13-19 digits: a neighbouring group (an expiry
        # date, a terminal id) must not hide the card number next to it
        for first in range(len(groups)):
            length = 0
            for last in range(first, len(groups)):
                length += len(groups[last])
                if length > 19:
                    break
                if length >= 13 and luhn_ok("".join(groups[first : last + 1])):
                    _mask_window(masked, first, last, length - 4)
        out = masked[0]
        for separator, group in zip(separators, masked[1:], strict=True):
            out += separator + group
        return out

    return _GROUPED_RUN.sub(mask, line)


def _mask_window(groups: list[str], first: int, last: int, count: int) -> None:
    """Star the first ``count`` digits of groups ``first..last`` (all but the last four)."""
    for index in range(first, last + 1):
        if count <= 0:
            return
        group = groups[index]
        take = min(len(group), count)
        groups[index] = "*" * take + group[take:]
        count -= take
