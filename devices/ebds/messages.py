"""EBDS message contents: the omnibus command and reply, and the auxiliary queries we use.

Both sides live here so the driver and the emulator can not drift apart: the host encodes
an :class:`OmnibusCommand` and decodes an :class:`OmnibusStatus`; the emulator does the
opposite with the same classes. Decoders take whatever bytes arrived and return None when
they are not the message asked for; they never raise.

Bit layouts (EBDS "Mars compatible" RS-232, section 7.1):

* omnibus command data0: denomination enables, bit n-1 for denomination index n (1..7);
  data1: bit 1 high security, bits 2-3 orientation, bit 4 escrow mode, bit 5 stack,
  bit 6 return; data2: bit 0 no-push, bit 1 barcode, bits 2-3 power-up policy, bit 4
  extended notes, bit 5 extended coupons.
* omnibus reply data0: idling, accepting, escrowed, stacking, stacked, returning,
  returned (bits 0-6); data1: cheated, rejected, jammed, stacker full, cassette attached,
  paused, calibration; data2: power up, invalid command, failure, note value (bits 3-5),
  transport open; data3: stalled, flash download, pre-stack, raw barcode, device
  capabilities, disabled; data4: model; data5: code revision.
* auxiliary command: three data bytes, the sub-command in the last; "query cash box total"
  (0x01) is answered by a type-6 reply whose six data bytes each carry one nibble of the
  count, most significant first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum

from devices.ebds.framing import Frame, MessageType, build_frame, control_byte

# ----------------------------------------------------------------------------- denominations
# Amounts are plain integer cents here: this module is a codec, free of the kiosk's types.

USD_NOTES: dict[int, int] = {1: 100, 2: 200, 3: 500, 4: 1000, 5: 2000, 6: 5000, 7: 10000}
"""The standard US note table: note value index (1..7) to the note's value in cents."""


def enable_mask(cents: Iterable[int], table: Mapping[int, int] = USD_NOTES) -> int:
    """data0 of the omnibus command for the notes worth ``cents`` (unknown amounts left out)."""
    wanted = set(cents)
    mask = 0
    for index, note in table.items():
        if note in wanted and 1 <= index <= 7:
            mask |= 1 << (index - 1)
    return mask


def note_index(cents: int, table: Mapping[int, int] = USD_NOTES) -> int | None:
    """The note value index of the note worth ``cents``, None if the table has none."""
    for index, note in table.items():
        if note == cents:
            return index
    return None


# ----------------------------------------------------------------------------- omnibus command


class Orientation(IntEnum):
    ONE_WAY = 0b00
    TWO_WAY = 0b01
    FOUR_WAY = 0b10


class PowerUpPolicy(IntEnum):
    """What the device does with a note it finds when it powers up (data2 bits 2-3).

    Policy B holds a note found at escrow there and reports it with the power-up bit, so
    the host decides; a note past escrow is stacked and reported. That is what a kiosk
    needs: it returns the note from escrow (never credited) and credits the stacked one.
    """

    A = 0b00
    B = 0b01
    C = 0b10


@dataclass(frozen=True, slots=True)
class OmnibusCommand:
    enable_mask: int = 0
    escrow_mode: bool = True
    stack: bool = False
    return_note: bool = False
    orientation: Orientation = Orientation.FOUR_WAY
    high_security: bool = False
    no_push: bool = False
    power_up: PowerUpPolicy = PowerUpPolicy.B

    def data(self) -> bytes:
        data1 = (
            (0x02 if self.high_security else 0)
            | (int(self.orientation) & 0x03) << 2
            | (0x10 if self.escrow_mode else 0)
            | (0x20 if self.stack else 0)
            | (0x40 if self.return_note else 0)
        )
        data2 = (0x01 if self.no_push else 0) | (int(self.power_up) & 0x03) << 2
        return bytes([self.enable_mask & 0x7F, data1, data2])

    def encode(self, ack: int) -> bytes:
        return build_frame(control_byte(MessageType.OMNIBUS_COMMAND, ack), self.data())

    @classmethod
    def decode(cls, frame: Frame) -> OmnibusCommand | None:
        if frame.message_type != MessageType.OMNIBUS_COMMAND or len(frame.data) < 3:
            return None
        data0, data1, data2 = frame.data[0], frame.data[1], frame.data[2]
        orientation_bits = (data1 >> 2) & 0x03
        policy_bits = (data2 >> 2) & 0x03
        return cls(
            enable_mask=data0 & 0x7F,
            escrow_mode=bool(data1 & 0x10),
            stack=bool(data1 & 0x20),
            return_note=bool(data1 & 0x40),
            orientation=Orientation(min(orientation_bits, Orientation.FOUR_WAY)),
            high_security=bool(data1 & 0x02),
            no_push=bool(data2 & 0x01),
            power_up=PowerUpPolicy(min(policy_bits, PowerUpPolicy.C)),
        )


# ----------------------------------------------------------------------------- omnibus reply


@dataclass(frozen=True, slots=True)
class OmnibusStatus:
    """Everything a standard omnibus reply says, bit by bit.

    The ``*ing`` and ``escrowed`` bits are states (they last); ``stacked``, ``returned``,
    ``rejected`` and ``cheated`` are events the device reports once.
    """

    idling: bool = False
    accepting: bool = False
    escrowed: bool = False
    stacking: bool = False
    stacked: bool = False
    returning: bool = False
    returned: bool = False
    cheated: bool = False
    rejected: bool = False
    jammed: bool = False
    stacker_full: bool = False
    cassette_attached: bool = True
    paused: bool = False
    calibration: bool = False
    power_up: bool = False
    invalid_command: bool = False
    failure: bool = False
    note_value: int = 0
    transport_open: bool = False
    stalled: bool = False
    model: int = 0
    revision: int = 0

    @property
    def out_of_service(self) -> bool:
        """No state bit at all: the spec's way of saying the device is out of service."""
        return not (
            self.idling
            or self.accepting
            or self.escrowed
            or self.stacking
            or self.stacked
            or self.returning
            or self.returned
        )

    def note_cents(self, table: Mapping[int, int] = USD_NOTES) -> int | None:
        """The value in cents of the note the reply names (None: no note, or not in ``table``)."""
        return table.get(self.note_value)

    def data(self) -> bytes:
        data0 = _bits(
            self.idling,
            self.accepting,
            self.escrowed,
            self.stacking,
            self.stacked,
            self.returning,
            self.returned,
        )
        data1 = _bits(
            self.cheated,
            self.rejected,
            self.jammed,
            self.stacker_full,
            self.cassette_attached,
            self.paused,
            self.calibration,
        )
        data2 = (
            _bits(self.power_up, self.invalid_command, self.failure)
            | (self.note_value & 0x07) << 3
            | (0x40 if self.transport_open else 0)
        )
        data3 = 0x01 if self.stalled else 0
        return bytes([data0, data1, data2, data3, self.model & 0x7F, self.revision & 0x7F])

    def encode(self, ack: int) -> bytes:
        return build_frame(control_byte(MessageType.OMNIBUS_REPLY, ack), self.data())

    @classmethod
    def decode(cls, frame: Frame) -> OmnibusStatus | None:
        """The status in a standard omnibus reply; None for anything else (never raises)."""
        if frame.message_type != MessageType.OMNIBUS_REPLY:
            return None
        return cls.from_data(frame.data)

    @classmethod
    def from_data(cls, data: bytes) -> OmnibusStatus | None:
        if len(data) < 6:
            return None
        d0, d1, d2, d3 = data[0], data[1], data[2], data[3]
        return cls(
            idling=bool(d0 & 0x01),
            accepting=bool(d0 & 0x02),
            escrowed=bool(d0 & 0x04),
            stacking=bool(d0 & 0x08),
            stacked=bool(d0 & 0x10),
            returning=bool(d0 & 0x20),
            returned=bool(d0 & 0x40),
            cheated=bool(d1 & 0x01),
            rejected=bool(d1 & 0x02),
            jammed=bool(d1 & 0x04),
            stacker_full=bool(d1 & 0x08),
            cassette_attached=bool(d1 & 0x10),
            paused=bool(d1 & 0x20),
            calibration=bool(d1 & 0x40),
            power_up=bool(d2 & 0x01),
            invalid_command=bool(d2 & 0x02),
            failure=bool(d2 & 0x04),
            note_value=(d2 >> 3) & 0x07,
            transport_open=bool(d2 & 0x40),
            stalled=bool(d3 & 0x01),
            model=data[4] & 0x7F,
            revision=data[5] & 0x7F,
        )


def _bits(*flags: bool) -> int:
    value = 0
    for position, flag in enumerate(flags):
        if flag:
            value |= 1 << position
    return value


# ----------------------------------------------------------------------------- auxiliary


class AuxCommand(IntEnum):
    QUERY_SOFTWARE_CRC = 0x00
    QUERY_CASH_BOX_TOTAL = 0x01
    QUERY_DEVICE_RESETS = 0x02
    CLEAR_CASH_BOX_TOTAL = 0x03
    SOFT_RESET = 0x7F


def aux_command(command: AuxCommand, ack: int) -> bytes:
    """An auxiliary command frame: data ``00 00 CMD`` (soft reset is ``7F 7F 7F``)."""
    filler = 0x7F if command is AuxCommand.SOFT_RESET else 0x00
    data = bytes([filler, filler, int(command)])
    return build_frame(control_byte(MessageType.AUXILIARY, ack), data)


TELEMETRY_PING = 0x00
"""Pyramid Apex: type 6 is telemetry and its first data byte the command; 0x00 is a ping.
An MEI auxiliary query (data ``00 00 CMD``) therefore reaches an Apex as a ping."""


def is_soft_reset(frame: Frame) -> bool:
    """``7F 7F 7F`` in a type-6 frame: a soft reset on MEI and Pyramid acceptors alike."""
    return frame.message_type == MessageType.AUXILIARY and frame.data[:3] == b"\x7f\x7f\x7f"


def aux_subcommand(frame: Frame) -> int | None:
    """The sub-command of an auxiliary command frame, or None."""
    if frame.message_type != MessageType.AUXILIARY or len(frame.data) < 3:
        return None
    return frame.data[2]


def nibbles(value: int, count: int = 6) -> bytes:
    """``value`` as ``count`` bytes of one nibble each, most significant first (7-bit safe)."""
    value = max(0, min(value, (1 << (4 * count)) - 1))
    return bytes((value >> (4 * shift)) & 0x0F for shift in range(count - 1, -1, -1))


def from_nibbles(data: bytes) -> int:
    value = 0
    for byte in data:
        value = (value << 4) | (byte & 0x0F)
    return value


def cash_box_total_reply(total: int, ack: int) -> bytes:
    return build_frame(control_byte(MessageType.AUXILIARY, ack), nibbles(total))


def decode_cash_box_total(frame: Frame) -> int | None:
    """The count in a reply to "query cash box total", or None if this is not one."""
    if frame.message_type != MessageType.AUXILIARY or len(frame.data) != 6:
        return None
    if any(byte > 0x0F for byte in frame.data):
        return None
    return from_nibbles(frame.data)
