"""EBDS framing and message decoding, on their own.

Known frames are checked byte for byte against the layout in the public spec; Hypothesis
then feeds the assembler and the decoders random, truncated and corrupted streams: they
must never raise, never hang (each example runs under a deadline), never hold more than
one frame's worth of input, and must find every good frame however the bytes are split.
"""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from devices.ebds.framing import (
    ETX,
    MAX_FRAME,
    MIN_FRAME,
    STX,
    Frame,
    FrameAssembler,
    MessageType,
    build_frame,
    checksum,
    control_byte,
    parse_frame,
)
from devices.ebds.messages import (
    USD_NOTES,
    AuxCommand,
    OmnibusCommand,
    OmnibusStatus,
    Orientation,
    PowerUpPolicy,
    aux_command,
    aux_subcommand,
    cash_box_total_reply,
    decode_cash_box_total,
    enable_mask,
    from_nibbles,
    nibbles,
)

FAST = settings(max_examples=200, deadline=500, suppress_health_check=[HealthCheck.too_slow])

# --- known frames ---------------------------------------------------------------------------


def test_omnibus_command_bytes_follow_the_spec() -> None:
    command = OmnibusCommand(enable_mask=enable_mask([2000]), stack=True)
    # $20 is note 5 -> data0 bit 4; data1: four-way (10 in bits 2-3), escrow, stack;
    # data2: power-up policy B (01 in bits 2-3)
    assert command.encode(ack=1) == bytes([STX, 0x08, 0x11, 0x10, 0x38, 0x04, ETX, 0x35])


def test_soft_reset_matches_the_published_example() -> None:
    assert aux_command(AuxCommand.SOFT_RESET, 0) == bytes.fromhex("0208607f7f7f0317")


def test_cash_box_query_and_reply() -> None:
    query = parse_frame(aux_command(AuxCommand.QUERY_CASH_BOX_TOTAL, 1))
    assert query is not None and query.message_type == MessageType.AUXILIARY
    assert query.ack == 1 and aux_subcommand(query) == AuxCommand.QUERY_CASH_BOX_TOTAL
    reply = parse_frame(cash_box_total_reply(0x123456, 1))
    assert reply is not None and reply.data == bytes([1, 2, 3, 4, 5, 6])
    assert decode_cash_box_total(reply) == 0x123456


def test_reply_bits_decode_to_the_named_fields() -> None:
    # escrowed, cassette attached, $20 (note 5) in escrow, model 'X', revision 0x21
    raw = build_frame(0x21, bytes([0x04, 0x10, 5 << 3, 0x00, 0x58, 0x21]))
    frame = parse_frame(raw)
    assert frame is not None and frame.ack == 1 and frame.device_type == 0
    status = OmnibusStatus.decode(frame)
    assert status is not None
    assert status.escrowed and status.cassette_attached and not status.idling
    assert status.note_cents() == 2000
    assert (status.model, status.revision) == (0x58, 0x21)


def test_enable_mask_uses_the_us_note_table() -> None:
    assert enable_mask([100, 10000]) == 0b100_0001
    assert enable_mask([300]) == 0  # no such note
    assert enable_mask(list(USD_NOTES.values())) == 0x7F


def test_checksum_is_xor_from_len_through_data() -> None:
    raw = build_frame(control_byte(MessageType.OMNIBUS_COMMAND, 0), b"\x7f\x1c\x04")
    assert raw[-1] == checksum(raw[1:-2]) == 0x08 ^ 0x10 ^ 0x7F ^ 0x1C ^ 0x04


def test_a_good_frame_behind_a_bad_one_is_found() -> None:
    good = OmnibusStatus(idling=True).encode(0)
    bad_checksum = bytearray(good)
    bad_checksum[-1] ^= 0x01
    truncated = good[:6]
    wrong_length = bytes([STX, 0x7F, 0x20])
    assembler = FrameAssembler()
    found = assembler.feed(bytes(bad_checksum) + truncated + wrong_length + b"\xff\x00" + good)
    found += assembler.flush()
    assert [f.encode() for f in found] == [good]
    stats = assembler.stats
    assert stats.checksum_errors >= 1 and stats.length_errors >= 1 and stats.garbage_bytes >= 2


def test_a_frame_split_byte_by_byte_is_assembled() -> None:
    good = OmnibusCommand(enable_mask=0x7F).encode(1)
    assembler = FrameAssembler()
    found = [frame for byte in good for frame in assembler.feed(bytes([byte]))]
    assert [f.encode() for f in found] == [good]
    assert assembler.pending == 0


# --- properties -----------------------------------------------------------------------------


def oracle(stream: bytes, max_frame: int = MAX_FRAME) -> list[bytes]:
    """The frames in ``stream``, found the slow and obvious way (whole stream at once)."""
    found: list[bytes] = []
    i = 0
    while i < len(stream):
        if stream[i] == STX and i + 1 < len(stream):
            length = stream[i + 1]
            if MIN_FRAME <= length <= max_frame and parse_frame(stream[i : i + length]):
                found.append(stream[i : i + length])
                i += length
                continue
        i += 1
    return found


seven_bit = st.integers(min_value=0, max_value=0x7F)
frames = st.builds(
    lambda mtype, ack, data: build_frame(control_byte(mtype, ack), bytes(data)),
    st.sampled_from(list(MessageType)),
    st.integers(0, 1),
    st.lists(seven_bit, max_size=20),
)


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A frame truncated, with a byte changed, or with its checksum broken."""
    frame = bytearray(draw(frames))
    how = draw(st.sampled_from(["truncate", "flip", "checksum"]))
    if how == "truncate":
        return bytes(frame[: draw(st.integers(0, len(frame) - 1))])
    if how == "flip":
        index = draw(st.integers(0, len(frame) - 1))
        frame[index] = draw(st.integers(0, 255))
        return bytes(frame)
    frame[-1] ^= draw(st.integers(1, 0x7F))
    return bytes(frame)


pieces = st.one_of(frames, damaged(), st.binary(max_size=30))


@FAST
@given(st.lists(pieces, max_size=12), st.data())
def test_assembler_finds_exactly_what_the_oracle_finds_however_split(
    parts: list[bytes], data: st.DataObject
) -> None:
    stream = b"".join(parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    assembler = FrameAssembler()
    found: list[Frame] = []
    start = 0
    for cut in [*cuts, len(stream)]:
        found += assembler.feed(stream[start:cut])
        start = cut
        assert assembler.pending < MAX_FRAME
    found += assembler.flush()
    assert [f.encode() for f in found] == oracle(stream)
    assert assembler.pending == 0


garbage_without_stx = st.binary(max_size=40).map(lambda b: b.replace(bytes([STX]), b"\xfd"))


@FAST
@given(
    st.lists(st.tuples(garbage_without_stx, frames), min_size=1, max_size=8), garbage_without_stx
)
def test_every_good_frame_in_garbage_is_found(
    parts: list[tuple[bytes, bytes]], tail: bytes
) -> None:
    stream = b"".join(g + f for g, f in parts) + tail
    assembler = FrameAssembler()
    found = assembler.feed(stream) + assembler.flush()
    assert [f.encode() for f in found] == [f for _, f in parts]


@FAST
@given(st.lists(st.one_of(frames, damaged()), min_size=1, max_size=8))
def test_good_frames_survive_damaged_neighbours(parts: list[bytes]) -> None:
    stream = b"".join(parts)
    wanted = [p for p in parts if parse_frame(p) is not None]
    # a damaged frame can, rarely, swallow the start of the next one; the oracle says when
    assume(oracle(stream) == wanted)
    assembler = FrameAssembler()
    found = assembler.feed(stream) + assembler.flush()
    assert [f.encode() for f in found] == wanted


@FAST
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise_and_memory_stays_bounded(stream: bytes) -> None:
    assembler = FrameAssembler()
    for frame in assembler.feed(stream):
        assert parse_frame(frame.encode()) == frame
    assert assembler.pending < MAX_FRAME
    assembler.flush()
    assert assembler.pending == 0


@FAST
@given(st.integers(0, 255), st.binary(max_size=40))
def test_decoders_never_raise(ctrl: int, data: bytes) -> None:
    frame = Frame(ctrl, data)
    status = OmnibusStatus.decode(frame)
    if status is not None:
        assert 0 <= status.note_value <= 7
        status.note_cents()
    OmnibusCommand.decode(frame)
    total = decode_cash_box_total(frame)
    assert total is None or total >= 0
    aux_subcommand(frame)
    assert OmnibusStatus.from_data(data) is None or len(data) >= 6


statuses = st.builds(
    OmnibusStatus,
    note_value=st.integers(0, 7),
    model=seven_bit,
    revision=seven_bit,
)


@FAST
@given(statuses, st.integers(0, 1))
def test_status_round_trips_through_a_frame(status: OmnibusStatus, ack: int) -> None:
    raw = status.encode(ack)
    assert all(byte < 0x80 for byte in raw)  # 7 data bits on the line
    frame = parse_frame(raw)
    assert frame is not None and frame.ack == ack
    assert OmnibusStatus.decode(frame) == status


commands = st.builds(
    OmnibusCommand,
    enable_mask=seven_bit,
    orientation=st.sampled_from(list(Orientation)),
    power_up=st.sampled_from(list(PowerUpPolicy)),
)


@FAST
@given(commands, st.integers(0, 1))
def test_command_round_trips_through_a_frame(command: OmnibusCommand, ack: int) -> None:
    frame = parse_frame(command.encode(ack))
    assert frame is not None and frame.ack == ack
    assert OmnibusCommand.decode(frame) == command


@FAST
@given(st.integers(0, 0xFFFFFF))
def test_cash_box_count_round_trips(total: int) -> None:
    assert from_nibbles(nibbles(total)) == total
    frame = parse_frame(cash_box_total_reply(total, 0))
    assert frame is not None and decode_cash_box_total(frame) == total
