"""DLE EOT status: requests, every bit the kiosk uses, fixed-bit checking, health mapping."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.escpos.driver import health_of
from devices.escpos.status import (
    ALL_KINDS,
    Condition,
    InvalidReply,
    PrinterStatus,
    StatusKind,
    encode_status,
    fixed_bits_ok,
    parse_reply,
    request,
    status_from_replies,
)
from kiosk.ports import DeviceHealth, Health

K = StatusKind


def test_requests_are_dle_eot_n() -> None:
    assert [request(k) for k in ALL_KINDS] == [
        b"\x10\x04\x01",
        b"\x10\x04\x02",
        b"\x10\x04\x03",
        b"\x10\x04\x04",
    ]
    with pytest.raises(ValueError):
        request(5)


@pytest.mark.parametrize(
    ("kind", "byte", "conditions"),
    [
        (K.PRINTER, 0x12, set()),
        (K.PRINTER, 0x16, set()),  # bit 2: drawer pin 3, not ours
        (K.PRINTER, 0x1A, {Condition.OFFLINE}),
        (K.OFFLINE_CAUSE, 0x12, set()),
        (K.OFFLINE_CAUSE, 0x16, {Condition.COVER_OPEN}),
        (K.OFFLINE_CAUSE, 0x32, {Condition.PAPER_END_STOP}),
        (K.OFFLINE_CAUSE, 0x52, {Condition.ERROR}),
        (K.OFFLINE_CAUSE, 0x1A, {Condition.FEED_BUTTON}),
        (K.ERROR_CAUSE, 0x1A, {Condition.CUTTER_ERROR}),
        (K.ERROR_CAUSE, 0x32, {Condition.UNRECOVERABLE_ERROR}),
        (K.ERROR_CAUSE, 0x52, {Condition.AUTO_RECOVERABLE_ERROR}),
        (K.PAPER_SENSOR, 0x12, set()),
        (K.PAPER_SENSOR, 0x1E, {Condition.PAPER_NEAR_END}),
        (K.PAPER_SENSOR, 0x72, {Condition.PAPER_OUT}),
        (K.PAPER_SENSOR, 0x7E, {Condition.PAPER_NEAR_END, Condition.PAPER_OUT}),
        (K.PAPER_SENSOR, 0x16, {Condition.PAPER_NEAR_END}),  # one bit of the pair is enough
    ],
)
def test_each_bit(kind: StatusKind, byte: int, conditions: set[Condition]) -> None:
    assert parse_reply(kind, bytes((byte,))) == frozenset(conditions)


@pytest.mark.parametrize("byte", [0x00, 0xFF, 0x13, 0x92, 0x02, 0x10, 0x1B, 0x93])
def test_a_byte_that_breaks_the_fixed_bits_is_invalid_not_misread(byte: int) -> None:
    for kind in ALL_KINDS:
        reply = parse_reply(kind, bytes((byte,)))
        assert isinstance(reply, InvalidReply)
        assert "fixed bits" in reply.why
    status = status_from_replies(dict.fromkeys(ALL_KINDS, bytes((byte,))))
    assert health_of(status) == DeviceHealth(Health.FAULT, "bad_status")
    assert not status.paper_out and not status.complete


def test_wrong_lengths_are_invalid() -> None:
    assert isinstance(parse_reply(K.PRINTER, b""), InvalidReply)
    assert isinstance(parse_reply(K.PRINTER, b"\x12\x12"), InvalidReply)


def _status(**flags: bool) -> PrinterStatus:
    return status_from_replies({k: bytes((encode_status(k, **flags),)) for k in ALL_KINDS})


@pytest.mark.parametrize(
    ("flags", "health"),
    [
        ({}, DeviceHealth()),
        ({"paper_near_end": True}, DeviceHealth(Health.DEGRADED, "paper_low")),
        (
            {"paper_out": True, "paper_near_end": True, "offline": True, "paper_end_stop": True},
            DeviceHealth(Health.FAULT, "paper_out"),
        ),
        ({"cover_open": True, "offline": True}, DeviceHealth(Health.FAULT, "cover_open")),
        (
            {"cover_open": True, "auto_recoverable_error": True, "paper_out": True},
            DeviceHealth(Health.FAULT, "cover_open"),
        ),
        ({"cutter_error": True, "error": True}, DeviceHealth(Health.FAULT, "cutter_error")),
        ({"unrecoverable_error": True}, DeviceHealth(Health.FAULT, "unrecoverable_error")),
        ({"auto_recoverable_error": True}, DeviceHealth(Health.FAULT, "auto_recoverable_error")),
        ({"offline": True}, DeviceHealth(Health.FAULT, "offline")),
    ],
)
def test_health(flags: dict[str, bool], health: DeviceHealth) -> None:
    assert health_of(_status(**flags)) == health


def test_missing_replies_mean_no_response() -> None:
    status = status_from_replies({K.PRINTER: b"\x12", K.OFFLINE_CAUSE: None})
    assert status.missing == (K.OFFLINE_CAUSE,)
    assert health_of(status) == DeviceHealth(Health.FAULT, "no_response")


flag_names = [
    "offline",
    "cover_open",
    "paper_end_stop",
    "error",
    "cutter_error",
    "unrecoverable_error",
    "auto_recoverable_error",
    "paper_near_end",
    "paper_out",
]


@given(st.fixed_dictionaries({name: st.booleans() for name in flag_names}))
def test_what_the_emulator_encodes_the_driver_reads_back(flags: dict[str, bool]) -> None:
    status = _status(**flags)
    assert status.complete
    assert status.offline == flags["offline"]
    assert status.cover_open == flags["cover_open"]
    assert status.cutter_error == flags["cutter_error"]
    assert status.unrecoverable_error == flags["unrecoverable_error"]
    assert status.auto_recoverable_error == flags["auto_recoverable_error"]
    assert status.paper_near_end == flags["paper_near_end"]
    assert status.paper_out == (flags["paper_out"] or flags["paper_end_stop"])
    assert all(fixed_bits_ok(value) for _kind, value in status.raw)


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.sampled_from(ALL_KINDS),
        st.one_of(st.none(), st.binary(max_size=8)),
    )
)
def test_any_bytes_give_a_status_and_never_raise(replies: dict[StatusKind, bytes | None]) -> None:
    started = time.monotonic()
    status = status_from_replies(replies)
    health = health_of(status)
    assert health.state in set(Health)
    for kind, data in replies.items():
        if data is not None and (len(data) != 1 or not fixed_bits_ok(data[0])):
            assert kind in {bad.kind for bad in status.invalid}
            assert health == DeviceHealth(Health.FAULT, "no_response") or health.reason == (
                "bad_status"
            )
    assert time.monotonic() - started < 0.5


@given(st.sampled_from(ALL_KINDS), st.integers(0, 255))
def test_a_single_byte_is_valid_exactly_when_its_fixed_bits_are(
    kind: StatusKind, byte: int
) -> None:
    parsed = parse_reply(kind, bytes((byte,)))
    assert isinstance(parsed, InvalidReply) == (byte & 0x93 != 0x12)
