"""ID-003 framing, CRC and message decoding, on their own.

Known frames are checked byte for byte: the CRC against the CRC-16/KERMIT check value and
the status request every ID-003 host sends (``FC 05 11 27 56``, as captured from hosts
talking to real acceptors), every status against the code table of the specification.
Hypothesis then feeds the assembler random, split and corrupted streams: it must never
raise, never hold more than one frame's worth of input, and find every good frame.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.id003.framing import (
    MAX_FRAME,
    SYNC,
    Frame,
    FrameAssembler,
    build_frame,
    crc16,
    parse_frame,
)
from devices.id003.messages import (
    ACK_FRAME,
    STATUS_REQUEST,
    USD_NOTES,
    Command,
    Status,
    StatusReply,
    command,
    decode_version,
    disable_mask,
    echo_of,
    enabled,
    escrow_code,
    failure_name,
    is_ack,
    reject_reason,
    setting,
)

FAST = settings(max_examples=200, deadline=500, suppress_health_check=[HealthCheck.too_slow])

# --- the CRC and known frames ---------------------------------------------------------------


def test_crc_is_kermit() -> None:
    # the catalogue check value of CRC-16/KERMIT (reflected CCITT, initial value 0)
    assert crc16(b"123456789") == 0x2189
    assert crc16(b"") == 0


def test_status_request_matches_the_published_capture() -> None:
    assert bytes.fromhex("fc 05 11 27 56") == STATUS_REQUEST
    assert build_frame(0x11) == bytes([0xFC, 0x05, 0x11, 0x27, 0x56])


@pytest.mark.parametrize(
    ("message", "wire"),
    [
        (command(Command.RESET), "fc05402b15"),
        (ACK_FRAME, "fc0550aa05"),
        (command(Command.STACK_1), "fc0541a204"),
        (setting(Command.INHIBIT, b"\x00"), "fc06c30004d6"),
        (setting(Command.INHIBIT, b"\x01"), "fc06c3018dc7"),
    ],
)
def test_commands_on_the_wire(message: bytes, wire: str) -> None:
    assert message == bytes.fromhex(wire)
    # the CRC of a whole good frame, CRC included, is zero: the reflected CRC's residue
    assert crc16(message) == 0


def test_crc_is_sent_low_byte_first() -> None:
    frame = build_frame(0x13, b"\x65")
    value = crc16(frame[:-2])
    assert frame[-2:] == bytes([value & 0xFF, value >> 8])
    assert frame[:4] == bytes([SYNC, 6, 0x13, 0x65])


def test_parse_rejects_a_wrong_crc_length_or_sync() -> None:
    good = build_frame(0x13, b"\x65")
    assert parse_frame(good) == Frame(0x13, b"\x65")
    assert parse_frame(good[:-1] + bytes([good[-1] ^ 1])) is None
    assert parse_frame(good[:-1]) is None
    assert parse_frame(b"\xfb" + good[1:]) is None


def test_a_frame_too_long_for_one_length_byte_is_refused() -> None:
    build_frame(0x88, bytes(MAX_FRAME - 5))
    with pytest.raises(ValueError, match="longer than 255"):
        build_frame(0x88, bytes(MAX_FRAME - 4))


# --- statuses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "status"),
    [
        ("11", Status.IDLING),
        ("12", Status.ACCEPTING),
        ("1365", Status.ESCROW),
        ("14", Status.STACKING),
        ("15", Status.VEND_VALID),
        ("16", Status.STACKED),
        ("1779", Status.REJECTING),
        ("18", Status.RETURNING),
        ("19", Status.HOLDING),
        ("1a", Status.DISABLED),
        ("1b", Status.INITIALIZE),
        ("40", Status.POWER_UP),
        ("41", Status.POWER_UP_BILL_IN_ACCEPTOR),
        ("42", Status.POWER_UP_BILL_IN_STACKER),
        ("43", Status.STACKER_FULL),
        ("44", Status.STACKER_OPEN),
        ("45", Status.ACCEPTOR_JAM),
        ("46", Status.STACKER_JAM),
        ("47", Status.PAUSE),
        ("48", Status.CHEATED),
        ("49a2", Status.FAILURE),
        ("4a", Status.COMMUNICATION_ERROR),
        ("4b", Status.INVALID_COMMAND),
    ],
)
def test_each_status_decodes(wire: str, status: Status) -> None:
    raw = bytes.fromhex(wire)
    frame = parse_frame(build_frame(raw[0], raw[1:]))
    assert frame is not None
    decoded = StatusReply.decode(frame)
    assert decoded is not None
    assert decoded.status is status
    assert decoded.data == (raw[1] if len(raw) > 1 else None)
    assert decoded.encode() == build_frame(raw[0], raw[1:])


def test_escrow_carries_the_note_and_the_us_table() -> None:
    reply = StatusReply.decode(Frame(0x13, b"\x65"))
    assert reply is not None and reply.note_code == 0x65
    assert USD_NOTES[0x65] == 2000
    assert [USD_NOTES[c] for c in range(0x61, 0x68)] == [100, 200, 500, 1000, 2000, 5000, 10000]
    assert escrow_code(500) == 0x63
    assert escrow_code(300) is None


def test_a_status_with_missing_or_extra_data_is_not_a_status() -> None:
    assert StatusReply.decode(Frame(0x13)) is None  # escrow without its note
    assert StatusReply.decode(Frame(0x17, b"\x71\x72")) is None
    assert StatusReply.decode(Frame(0x11, b"\x00")) is None
    assert StatusReply.decode(Frame(0x50)) is None  # ACK is an answer, not a status
    assert StatusReply.decode(Frame(0x2F)) is None  # not in the table
    # some firmware repeats the escrow code after VEND VALID: still VEND VALID
    vend = StatusReply.decode(Frame(0x15, b"\x65"))
    assert vend is not None and vend.status is Status.VEND_VALID


def test_reject_and_failure_codes_are_named() -> None:
    assert reject_reason(0x79) == "inhibit"
    assert reject_reason(0x71) == "insertion"
    assert reject_reason(0x7A) == "0x7A"
    assert failure_name(0xA2) == "stack_motor"
    assert failure_name(0xAB) == "cash_box_not_ready"


# --- settings -------------------------------------------------------------------------------


def test_denomination_mask_sets_a_bit_per_note_not_wanted() -> None:
    # $1 (0x61) is bit 0 ... $100 (0x67) bit 6; 0x68 (unassigned in the US) stays inhibited
    assert disable_mask([100, 200, 500, 1000, 2000, 5000, 10000]) == 0x80
    assert disable_mask([2000]) == 0xFF & ~(1 << 4)
    assert disable_mask([]) == 0xFF
    assert setting(Command.ENABLE_DISABLE, bytes([disable_mask([100]), 0])) == build_frame(
        0xC0, b"\xfe\x00"
    )
    assert enabled(0xEF, 0x65) and not enabled(0xEF, 0x64)


def test_setting_with_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="takes 1 data bytes"):
        setting(Command.INHIBIT, b"\x00\x00")


def test_echo_and_ack_are_recognised() -> None:
    sent = setting(Command.INHIBIT, b"\x00")
    assert echo_of(Frame(0xC3, b"\x00"), sent)
    assert not echo_of(Frame(0xC3, b"\x01"), sent)
    assert is_ack(Frame(0x50)) and not is_ack(Frame(0x50, b"\x00"))


def test_version_string() -> None:
    text = "i(USA)100-SS ID003-05V280-42 01AUG17 964D"
    assert decode_version(Frame(0x88, text.encode())) == text
    assert decode_version(Frame(0x11)) is None


# --- the assembler on a noisy line ----------------------------------------------------------


def test_frames_split_anywhere_are_found() -> None:
    stream = build_frame(0x13, b"\x65") + build_frame(0x15) + STATUS_REQUEST
    for cut in range(len(stream) + 1):
        asm = FrameAssembler()
        got = asm.feed(stream[:cut]) + asm.feed(stream[cut:])
        assert got == [Frame(0x13, b"\x65"), Frame(0x15), Frame(0x11)]


def test_a_good_frame_behind_a_bad_one_is_found() -> None:
    bad = bytearray(build_frame(0x13, b"\x65"))
    bad[-1] ^= 0xFF
    asm = FrameAssembler()
    assert asm.feed(b"\x00" + bytes(bad) + build_frame(0x16)) == [Frame(0x16)]
    assert asm.stats.checksum_errors == 1
    assert asm.stats.garbage_bytes >= 1
    # a stray SYNC reads the next SYNC as a length of 252: it waits for the line to go
    # quiet, then the good frame inside is still found
    assert asm.feed(b"\xfc" + bytes(bad) + build_frame(0x16)) == []
    assert asm.flush() == [Frame(0x16)]


def test_flush_gives_up_an_incomplete_frame_and_keeps_what_was_inside() -> None:
    asm = FrameAssembler()
    # a SYNC whose length byte promises 40 bytes, then a whole good frame
    assert asm.feed(bytes([SYNC, 40]) + build_frame(0x1A)) == []
    assert asm.flush() == [Frame(0x1A)]
    assert asm.pending == 0
    assert asm.stats.length_errors == 1


@FAST
@given(st.lists(st.binary(max_size=40), max_size=12), st.data())
def test_noise_never_breaks_the_assembler(chunks: list[bytes], data: st.DataObject) -> None:
    asm = FrameAssembler()
    good = build_frame(0x13, b"\x64")
    stream = b"".join(chunks) + good
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    found: list[Frame] = []
    start = 0
    for cut in [*cuts, len(stream)]:
        found += asm.feed(stream[start:cut])
        start = cut
        assert asm.pending <= MAX_FRAME
    found += asm.flush()
    assert Frame(0x13, b"\x64") in found
