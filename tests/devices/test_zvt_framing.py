"""ZVT serial framing and the ACK/NAK link layer: examples, then properties (Hypothesis).

The assembler must never raise, whatever the line delivers; a bad CRC is answered NAK, a
lone DLE or a cut frame is dropped and counted, and the next good frame is always found.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.zvt.framing import (
    ACK,
    DLE,
    ETX,
    MAX_APDU,
    NAK,
    STX,
    BadFrame,
    Frame,
    FrameAssembler,
    Signal,
    crc16,
    encode_frame,
)
from devices.zvt.link import LinkEndpoint, LinkTiming

apdus = st.binary(min_size=3, max_size=300)
noise = st.binary(max_size=200).map(lambda b: bytes(x for x in b if x not in (DLE, ACK, NAK)))


def frames_of(items: Sequence[object]) -> list[bytes]:
    return [item.apdu for item in items if isinstance(item, Frame)]


# --- examples -------------------------------------------------------------------------------


def test_crc_is_the_ccitt_variant_zvt_uses() -> None:
    assert crc16(b"123456789") == 0x2189  # CRC-16/KERMIT: reflected 0x1021, start 0
    assert crc16(b"") == 0


def test_frame_layout_doubles_dle_and_puts_the_crc_low_byte_first() -> None:
    apdu = bytes([0x06, 0x01, 0x02, DLE, 0x33])
    frame = encode_frame(apdu)
    crc = crc16(apdu + bytes([ETX]))
    assert frame == bytes([DLE, STX, 0x06, 0x01, 0x02, DLE, DLE, 0x33, DLE, ETX]) + bytes(
        [crc & 0xFF, crc >> 8]
    )


def test_acknowledgements_in_both_forms_between_frames() -> None:
    asm = FrameAssembler()
    got = asm.feed(bytes([ACK, DLE, ACK, NAK, DLE, NAK]))
    assert got == [Signal.ACK, Signal.ACK, Signal.NAK, Signal.NAK]


def test_ack_and_nak_bytes_inside_a_frame_are_data() -> None:
    apdu = bytes([0x04, 0xFF, 0x02, ACK, NAK])
    assert frames_of(FrameAssembler().feed(encode_frame(apdu))) == [apdu]


def test_bad_crc_is_reported_then_the_next_frame_is_found() -> None:
    asm = FrameAssembler()
    good = encode_frame(b"\x80\x00\x00")
    bad = bytearray(encode_frame(b"\x06\x0f\x00"))
    bad[-2] ^= 0xFF
    got = asm.feed(bytes(bad) + good)
    assert got == [BadFrame(3), Frame(b"\x80\x00\x00")]
    assert asm.stats.crc_errors == 1 and asm.stats.frames == 1


def test_lone_dle_inside_a_frame_drops_it_and_is_counted() -> None:
    asm = FrameAssembler()
    broken = bytes([DLE, STX, 0x06, 0x0F, DLE, 0x41, 0x00]) + encode_frame(b"\x80\x00\x00")
    assert asm.feed(broken) == [Frame(b"\x80\x00\x00")]
    assert asm.stats.lone_dle == 1


def test_a_frame_cut_short_is_dropped_by_the_next_start_or_by_expiry() -> None:
    asm = FrameAssembler()
    got = asm.feed(bytes([DLE, STX, 0x06, 0x0F]) + encode_frame(b"\x80\x00\x00"))
    assert got == [Frame(b"\x80\x00\x00")] and asm.stats.truncated == 1
    asm.feed(bytes([DLE, STX, 0x04]))
    assert asm.in_frame and asm.pending == 1
    asm.expire()
    assert not asm.in_frame and asm.stats.truncated == 2


def test_an_endless_frame_is_bounded() -> None:
    asm = FrameAssembler(max_apdu=64)
    asm.feed(bytes([DLE, STX]) + bytes(500))
    assert asm.pending <= 64 and asm.stats.oversized == 1


# --- properties -----------------------------------------------------------------------------


@given(apdu=apdus, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_any_apdu_survives_the_round_trip_however_the_bytes_are_split(
    apdu: bytes, cuts: list[int]
) -> None:
    wire = encode_frame(apdu)
    asm = FrameAssembler()
    got: list[object] = []
    start = 0
    for cut in [*sorted({min(c, len(wire)) for c in cuts}), len(wire)]:
        got += asm.feed(wire[start:cut])
        start = cut
    assert got == [Frame(apdu)]


@given(before=noise, apdu=apdus, after=apdus)
def test_good_frames_are_found_among_noise(before: bytes, apdu: bytes, after: bytes) -> None:
    asm = FrameAssembler()
    got = asm.feed(before + encode_frame(apdu) + before + encode_frame(after))
    assert frames_of(got) == [apdu, after]
    assert not [item for item in got if isinstance(item, BadFrame)]


@given(apdu=apdus, data=st.data())
def test_a_corrupted_frame_never_passes_as_another_and_the_next_is_found(
    apdu: bytes, data: st.DataObject
) -> None:
    """Any single byte changed: a NAK or a drop, resync, and the next frame arrives."""
    wire = bytearray(encode_frame(apdu))
    index = data.draw(st.integers(min_value=0, max_value=len(wire) - 1))
    value = data.draw(st.integers(min_value=0, max_value=255).filter(lambda v: v != wire[index]))
    wire[index] = value
    asm = FrameAssembler()
    got = asm.feed(bytes(wire))
    assert all(item == apdu for item in frames_of(got)), "a damaged frame was accepted"
    asm.expire()  # the line goes quiet while the sender waits for its ACK
    follow_up = b"\x80\x00\x00"
    assert frames_of(asm.feed(encode_frame(follow_up))) == [follow_up]


@given(apdu=apdus, data=st.data())
def test_a_lone_dle_anywhere_in_a_frame_drops_it_and_the_next_is_found(
    apdu: bytes, data: st.DataObject
) -> None:
    at = data.draw(st.integers(min_value=0, max_value=len(apdu)))
    follower = data.draw(st.sampled_from([0x00, 0x41, 0x7F, 0xE5]))
    whole = encode_frame(apdu)
    head, tail = encode_frame(apdu[:at]), encode_frame(apdu[at:])
    # the same frame, with DLE + a byte that is neither DLE, STX nor ETX between two bytes
    broken = head[:-4] + bytes([DLE, follower]) + tail[2:-4] + whole[-4:]
    asm = FrameAssembler()
    assert apdu not in frames_of(asm.feed(broken))
    assert asm.stats.lone_dle >= 1
    asm.expire()
    assert frames_of(asm.feed(encode_frame(b"\x80\x00\x00"))) == [b"\x80\x00\x00"]


@settings(deadline=None)
@given(apdu=apdus, flip=st.integers(min_value=1, max_value=255), which=st.sampled_from([-1, -2]))
def test_a_bad_crc_is_answered_nak_and_the_repeat_is_taken(
    apdu: bytes, flip: int, which: int
) -> None:
    answers: list[bytes] = []
    endpoint = LinkEndpoint(answers.append, LinkTiming(), name="t")
    damaged = bytearray(encode_frame(apdu))
    damaged[which] ^= flip
    endpoint.feed(bytes(damaged))
    assert answers == [bytes([NAK])] and endpoint.receive(0.0) is None
    endpoint.feed(encode_frame(apdu))  # the sender repeats it
    assert answers == [bytes([NAK]), bytes([ACK])] and endpoint.receive(0.0) == apdu


@given(apdu=apdus, keep=st.data())
def test_truncated_frames_are_dropped_and_counted(apdu: bytes, keep: st.DataObject) -> None:
    wire = encode_frame(apdu)
    cut = keep.draw(st.integers(min_value=3, max_value=len(wire) - 1))
    asm = FrameAssembler()
    assert frames_of(asm.feed(wire[:cut])) == []
    asm.expire()
    assert asm.stats.truncated == 1
    assert frames_of(asm.feed(wire)) == [apdu]


@settings(max_examples=200)
@given(st.binary(max_size=4000))
def test_random_bytes_never_raise_and_stay_bounded(data: bytes) -> None:
    asm = FrameAssembler(max_apdu=512)
    for start in range(0, len(data), 97):
        asm.feed(data[start : start + 97])
        assert asm.pending <= 512
    asm.expire()
    assert asm.pending == 0


def test_a_megabyte_of_noise_is_handled_in_bounded_time() -> None:
    import random

    blob = random.Random(7).randbytes(1_000_000)
    asm = FrameAssembler()
    began = time.monotonic()
    asm.feed(blob + encode_frame(b"\x80\x00\x00"))
    asm.expire()
    assert time.monotonic() - began < 10.0
    assert asm.pending <= MAX_APDU


# --- the link layer -------------------------------------------------------------------------


class Wire:
    """Two endpoints joined back to back, with a hook to damage what one side writes."""

    def __init__(self, timing: LinkTiming | None = None) -> None:
        self.timing = timing or LinkTiming(ack_timeout=0.2, resends=3)
        self.damage_next = 0
        self.drop_next = 0
        self.written: list[bytes] = []
        self.a = LinkEndpoint(self._a_writes, self.timing, name="a")
        self.b = LinkEndpoint(self._b_writes, self.timing, name="b")

    def _a_writes(self, data: bytes) -> None:
        self.written.append(data)
        if data[:2] == bytes([DLE, STX]):
            if self.drop_next:
                self.drop_next -= 1
                return
            if self.damage_next:
                self.damage_next -= 1
                damaged = bytearray(data)
                damaged[-1] ^= 0x01
                data = bytes(damaged)
        threading.Thread(target=self.b.feed, args=(data,)).start()

    def _b_writes(self, data: bytes) -> None:
        threading.Thread(target=self.a.feed, args=(data,)).start()


def test_a_good_frame_is_acked_and_delivered() -> None:
    wire = Wire()
    assert wire.a.send(b"\x06\x01\x00")
    assert wire.b.receive(1.0) == b"\x06\x01\x00"
    assert wire.b.counts["acks_sent"] == 1 and wire.a.counts["resends"] == 0


def test_a_bad_crc_is_naked_and_sent_again() -> None:
    wire = Wire()
    wire.damage_next = 2
    assert wire.a.send(b"\x06\x01\x00")
    assert wire.b.receive(1.0) == b"\x06\x01\x00"
    assert wire.b.receive(0.1) is None  # delivered once
    assert wire.b.counts["naks_sent"] == 2 and wire.a.counts["resends"] == 2


def test_silence_is_resent_and_given_up_after_three_repeats() -> None:
    wire = Wire(LinkTiming(ack_timeout=0.05, resends=3))
    wire.drop_next = 10
    assert not wire.a.send(b"\x06\x01\x00")
    frames = [w for w in wire.written if w[:2] == bytes([DLE, STX])]
    assert len(frames) == 4 and wire.a.counts["send_failures"] == 1


def test_a_refused_frame_is_naked_on_purpose() -> None:
    wire = Wire()
    wire.b.refuse_next = 1
    assert wire.a.send(b"\x80\x00\x00")
    assert wire.b.receive(1.0) == b"\x80\x00\x00"
    assert wire.a.counts["resends"] == 1


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=600))
def test_the_endpoint_survives_any_input_and_only_acks_or_naks(data: bytes) -> None:
    answers: list[bytes] = []
    endpoint = LinkEndpoint(answers.append, LinkTiming(), name="t")
    endpoint.feed(data)
    assert set(answers) <= {bytes([ACK]), bytes([NAK])}
    while endpoint.receive(0.0) is not None:
        pass


# --- the transport's timers (PA00P016, serial transport protocol) ---------------------------


def test_the_timers_default_to_the_transport_protocol() -> None:
    """T1 200 ms inside a frame, T2 5 s for the acknowledgement, at most two repeats."""
    timing = LinkTiming()
    assert (timing.char_timeout, timing.ack_timeout, timing.resends) == (0.2, 5.0, 2)


def test_a_frame_stopped_mid_way_is_answered_nak_after_t1() -> None:
    """The receiver does not wait for bytes that never come: after T1 of silence inside a
    frame it throws the frame away and answers NAK, and the sender repeats it at once."""
    answers: list[bytes] = []
    endpoint = LinkEndpoint(answers.append, LinkTiming(char_timeout=0.05), name="t")
    frame = encode_frame(bytes.fromhex("06 01 07 04 000000004317"))
    endpoint.feed(frame[:7])  # DLE STX 06 01 07 04 00 ... and then nothing
    deadline = time.monotonic() + 2.0
    while not answers and time.monotonic() < deadline:
        time.sleep(0.01)
    assert answers == [bytes([NAK])] and endpoint.counts["char_timeouts"] == 1
    assert endpoint.receive(0.0) is None
    endpoint.feed(frame)  # the repeat
    assert answers == [bytes([NAK]), bytes([ACK])]
    assert endpoint.receive(0.0) == bytes.fromhex("06 01 07 04 000000004317")


def test_a_whole_frame_arriving_in_pieces_within_t1_is_taken() -> None:
    answers: list[bytes] = []
    endpoint = LinkEndpoint(answers.append, LinkTiming(char_timeout=0.5), name="t")
    frame = encode_frame(b"\x80\x00\x00")
    endpoint.feed(frame[:4])
    endpoint.feed(frame[4:])
    assert answers == [bytes([ACK])] and endpoint.counts["char_timeouts"] == 0


def test_the_sender_gives_up_after_two_repeats() -> None:
    wire = Wire(LinkTiming(ack_timeout=0.05))
    wire.drop_next = 10
    assert not wire.a.send(b"\x06\x01\x00")
    frames = [w for w in wire.written if w[:2] == bytes([DLE, STX])]
    assert len(frames) == 3 and wire.a.counts["resends"] == 2
