"""BER-TLV as ZVT uses it in BMP 06 (the TLV container) and in Print Text-Block (06 D3).

Tags are one byte, or several when the low five bits of the first are all set (0x1F..),
each further byte having its top bit set while more follow. Bit 0x20 of the first byte marks
a constructed object (its value is more TLV). Lengths are BER: below 0x80 one byte, 0x81 one
more byte, 0x82 two more bytes (big-endian). Parsing never raises: anything that does not add
up returns None, and the caller treats the container as absent.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes
    children: tuple[Tlv, ...] = ()

    @property
    def constructed(self) -> bool:
        return _first_tag_byte(self.tag) & 0x20 != 0


def _first_tag_byte(tag: int) -> int:
    while tag > 0xFF:
        tag >>= 8
    return tag


def read_length(data: bytes, pos: int) -> tuple[int, int] | None:
    """A BER length at ``pos``: (length, position after it), or None."""
    if pos >= len(data):
        return None
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if count == 0 or count > 2 or pos + 1 + count > len(data):
        return None
    return int.from_bytes(data[pos + 1 : pos + 1 + count], "big"), pos + 1 + count


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    if length <= 0xFF:
        return bytes([0x81, length])
    if length <= 0xFFFF:
        return bytes([0x82]) + length.to_bytes(2, "big")
    raise ValueError(f"TLV length {length} does not fit in two bytes")


def _read_tag(data: bytes, pos: int) -> tuple[int, int] | None:
    if pos >= len(data):
        return None
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:
        for _ in range(3):
            if pos >= len(data):
                return None
            tag = (tag << 8) | data[pos]
            pos += 1
            if not data[pos - 1] & 0x80:
                break
        else:
            return None
    return tag, pos


def parse_tlv(data: bytes, depth: int = 0) -> tuple[Tlv, ...] | None:
    """All objects in ``data`` (constructed ones with their children), or None if malformed."""
    if depth > MAX_DEPTH:
        return None
    items: list[Tlv] = []
    pos = 0
    while pos < len(data):
        tag_at = _read_tag(data, pos)
        if tag_at is None:
            return None
        tag, pos = tag_at
        length_at = read_length(data, pos)
        if length_at is None:
            return None
        length, pos = length_at
        if pos + length > len(data):
            return None
        value = data[pos : pos + length]
        pos += length
        children: tuple[Tlv, ...] = ()
        if _first_tag_byte(tag) & 0x20:
            parsed = parse_tlv(value, depth + 1)
            if parsed is None:
                return None
            children = parsed
        items.append(Tlv(tag, value, children))
    return tuple(items)


def find_all(items: tuple[Tlv, ...], tag: int) -> list[Tlv]:
    """Every object with ``tag``, at any depth, in order."""
    found: list[Tlv] = []
    for item in items:
        if item.tag == tag:
            found.append(item)
        found += find_all(item.children, tag)
    return found


def encode_tlv(tag: int, value: bytes) -> bytes:
    tag_bytes = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    return tag_bytes + encode_length(len(value)) + value
