"""An EBDS bill acceptor on a pseudo-terminal: the device side of the protocol, byte for byte.

It answers what a real acceptor answers: an omnibus reply (type 2) to each omnibus command,
the cash box total (type 6, one nibble per byte) to the auxiliary query, and its previous
reply, unchanged and without acting again, to a message whose ACK bit equals the last one's
(the host did not get the reply and asked again). Nothing happens between polls: each new
omnibus command moves the note one step (accepting, stacking, returning take a configurable
number of polls), the way a real device only reports at the host's pace.

Its power-up policy is B, which is what the driver asks for: a note held in escrow at
power-up stays there and is reported with the power-up bit; a note that was already being
stacked or returned finishes and is reported. While it reports power-up it draws no note in.

It speaks as one of two families (``flavour``): ``mei`` answers the auxiliary "query cash
box total" (type 6, sub-command 0x01) with its count; ``apex`` is a Pyramid Apex, for which
type 6 is telemetry whose first data byte selects the command: 0x00 is a ping, answered with
an empty type-6 reply, so an MEI cash box query reads as a ping. Both take ``7F 7F 7F`` as a
soft reset and say nothing to it; the next message, whatever its ACK bit, is then new.

It honours the host's escrow-mode bit: with it clear, a valid note goes straight to the cash
box. While it reads a note (``EmulatorTiming.reading_silence``) it misses polls, as the
Pyramid RS-232 specification says real acceptors do. A removed cash box is reported as it
is by an Apex: idling, with the cassette-attached bit clear.

Controls (``kiosk emulate bill_acceptor``, or :meth:`EbdsEmulator.control` in tests): insert
a note, a counterfeit or a cheat attempt; jam and clear; pull, replace or fill the cassette;
fail; power-cycle, optionally with a note in escrow; unplug and replug the cable; slow,
drop or garble replies. Counters are the hardware's truth: the cash box count and the
notes stacked per denomination, kept in memory.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any

from devices.ebds.framing import (
    Frame,
    FrameAssembler,
    MessageType,
    build_frame,
    control_byte,
    parse_frame,
)
from devices.ebds.messages import (
    TELEMETRY_PING,
    AuxCommand,
    OmnibusCommand,
    OmnibusStatus,
    aux_subcommand,
    cash_box_total_reply,
    is_soft_reset,
    note_index,
)
from devices.ebds.tracker import NOTES
from devices.emulators.base import Control
from devices.emulators.pty_port import EmulatorLoop, PtyPort
from devices.emulators.wire import WireFaults, count_arg, money_arg
from kiosk.money import Money

MODEL = 0x58
"""'X': an AE2800-class US acceptor with the seven standard US notes and a cash box total."""
REVISION = 0x21


class Phase(Enum):
    IDLE = "idle"
    ACCEPTING = "accepting"
    ESCROWED = "escrowed"
    STACKING = "stacking"
    RETURNING = "returning"


@dataclass
class EmulatorTiming:
    """How many new polls each movement takes (a real note takes about a second)."""

    accept_polls: int = 1
    stack_polls: int = 2
    return_polls: int = 2
    power_up_polls: int = 2
    reading_silence: float = 0.0
    """Seconds after a note goes in during which the device answers nothing."""


FLAVOURS = ("mei", "apex")


@dataclass(frozen=True)
class Exchange:
    """One message from the host and what the device did with it (for tests)."""

    host: bytes
    reply: bytes | None
    repeated: bool
    fate: str  # "sent", "dropped", "garbled", "none"


NOISE = bytes([0x00, 0x7F, 0x55, 0x03, 0x2A, 0x11])


class EbdsEmulator:
    """Implements :class:`devices.emulators.base.Emulator` for the ``bill_acceptor`` name."""

    name = "bill_acceptor"

    def __init__(
        self,
        link: Path | None = None,
        *,
        timing: EmulatorTiming | None = None,
        table: dict[int, Money] | None = None,
        flavour: str = "mei",
    ) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"flavour must be one of {', '.join(FLAVOURS)}, not {flavour!r}")
        self.flavour = flavour
        self.port = PtyPort(link)
        self.timing = timing or EmulatorTiming()
        self.table = dict(table or NOTES)
        self._cents = {index: note.cents for index, note in self.table.items()}
        self._lock = threading.Lock()
        self._loop = EmulatorLoop(self.port, self._from_host, self.name)
        self._assembler = FrameAssembler()
        self._history: deque[Exchange] = deque(maxlen=200)
        # the note and where it is
        self._phase = Phase.IDLE
        self._countdown = 0
        self._note: int | None = None  # index into the note table, None for a fake
        self._fake = False
        self._cheat = False
        # conditions
        self._jammed = False
        self._failure = False
        self._cassette = True
        self._full = False
        self._power_up_left = 0
        self._deaf_until = 0.0  # reading a note: messages before this are not heard
        # one-shot events for the next new reply
        self._stacked_event: int | None = None
        self._returned_event = False
        self._rejected_event = False
        self._cheated_event = False
        self._invalid_event = False
        # link layer
        self._mask = 0
        self._escrow_mode = True
        self._last_ack: int | None = None
        self._last_reply: bytes | None = None
        # counters (the hardware's own truth)
        self._cashbox = 0
        self._stacked: dict[int, int] = {}
        self._counts: dict[str, int] = {
            "returned": 0,
            "rejected": 0,
            "cheated": 0,
            "jams": 0,
            "removed_by_technician": 0,
            "polls": 0,
            "messages": 0,
            "repeats": 0,
            "power_cycles": 0,
            "missed_polls": 0,
        }
        self._wire = WireFaults(
            self.port,
            self._lock,
            self._counts,
            noise=NOISE,
            seed=0x0EBD5,
            marked="stacked",
            described="a stacked note",
            is_marked=_reports_stacked,
        )

    # ------------------------------------------------------------------ Emulator surface
    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()

    def controls(self) -> dict[str, Control]:
        return {
            "insert": Control("insert DOLLARS: a genuine note, e.g. insert 20", self._insert),
            "counterfeit": Control("counterfeit: a note the device rejects", self._counterfeit),
            "cheat": Control("cheat: a note on a string (cheated, rejected)", self._cheat_ctl),
            "jam": Control("jam: jam the note path (the note in it stays there)", self._jam),
            "clear": Control(
                "clear [cashbox|out]: clear a jam or failure; a note in the path goes "
                "into the cash box or is taken out (default: where it was going)",
                self._clear,
            ),
            "cassette-remove": Control("cassette-remove: pull the cash box", self._remove),
            "cassette-replace": Control(
                "cassette-replace: put the cash box back (not full; its count is kept)",
                self._replace,
            ),
            "cassette-full": Control("cassette-full: the stacker is full", self._fill),
            "fail": Control("fail: a hardware failure (clear to recover)", self._fail),
            "stack-polls": Control(
                "stack-polls N: from the next stack on, a note takes N polls to reach the "
                "box (default 2)",
                self._stack_polls,
            ),
            "power-cycle": Control(
                "power-cycle [with-escrow [DOLLARS]]: power off and on; with-escrow leaves "
                "a note (default 20) in escrow",
                self._power_cycle,
            ),
            **self._wire.controls(),
        }

    def counters(self) -> dict[str, Any]:
        with self._lock:
            return {
                "cashbox": self._cashbox,
                "stacked": {
                    self.table[index].plain(): count
                    for index, count in sorted(self._stacked.items())
                    if index in self.table
                },
                **self._counts,
                "phase": self._phase.value,
                "enabled": sorted(  # the notes the host's last command allows
                    self.table[i].plain() for i in self.table if self._mask & (1 << (i - 1))
                ),
                "jammed": self._jammed,
                "cassette_attached": self._cassette,
                "stacker_full": self._full,
                "bad_frames_from_host": self._assembler.stats.checksum_errors
                + self._assembler.stats.length_errors,
                "plugged": self.port.plugged,
            }

    # ------------------------------------------------------------------ for tests
    def control(self, name: str, *args: str) -> str:
        """Run a control as the console would: ``emu.control("insert", "20")``."""
        return self.controls()[name].handler(list(args))

    def history(self) -> list[Exchange]:
        with self._lock:
            return list(self._history)

    def stacked(self, denomination: Money) -> int:
        index = note_index(denomination.cents, self._cents)
        with self._lock:
            return self._stacked.get(index, 0) if index is not None else 0

    @property
    def cashbox(self) -> int:
        with self._lock:
            return self._cashbox

    @property
    def phase(self) -> Phase:
        with self._lock:
            return self._phase

    # ------------------------------------------------------------------ the wire
    def _from_host(self, data: bytes) -> None:
        with self._lock:
            frames = self._assembler.feed(data)
        for frame in frames:
            self._answer(frame)

    def _answer(self, frame: Frame) -> None:
        with self._lock:
            if time.monotonic() < self._deaf_until:
                self._counts["missed_polls"] += 1  # busy reading the note: never heard it
                return
            self._counts["messages"] += 1
            repeated = self._last_ack is not None and frame.ack == self._last_ack
            if repeated:
                self._counts["repeats"] += 1
                reply = self._last_reply
            else:
                cycles = self._counts["power_cycles"]
                reply = self._process(frame)
                if self._counts["power_cycles"] == cycles:
                    self._last_ack, self._last_reply = frame.ack, reply
                # else a soft reset: the device remembers no message, the next one is new
            wire, fate = self._wire.transmit(reply)
            self._history.append(Exchange(frame.encode(), reply, repeated, fate))
            delay = self._wire.delay
        self._wire.send(wire, delay)

    def _process(self, frame: Frame) -> bytes | None:
        if frame.message_type == MessageType.OMNIBUS_COMMAND:
            command = OmnibusCommand.decode(frame)
            if command is not None:
                self._poll(command)
                return self._status().encode(frame.ack)
        elif frame.message_type == MessageType.AUXILIARY:
            if is_soft_reset(frame):
                self._power_off_on(with_escrow=None)
                return None  # a reset device says nothing; the host polls until it answers
            if self.flavour == "apex" and frame.data[:1] == bytes([TELEMETRY_PING]):
                return build_frame(control_byte(MessageType.AUXILIARY, frame.ack), b"")
            if self.flavour == "mei" and aux_subcommand(frame) == AuxCommand.QUERY_CASH_BOX_TOTAL:
                return cash_box_total_reply(self._cashbox, frame.ack)
        self._invalid_event = True
        return self._status().encode(frame.ack)

    # ------------------------------------------------------------------ the note's journey
    def _poll(self, command: OmnibusCommand) -> None:
        self._counts["polls"] += 1
        self._mask = command.enable_mask
        self._escrow_mode = command.escrow_mode
        if self._jammed or self._failure:
            return
        if self._phase is Phase.ESCROWED and not command.escrow_mode:
            # no escrow mode: the device decides alone and stacks every valid note
            self._phase, self._countdown = Phase.STACKING, self.timing.stack_polls
            return
        if self._phase is Phase.ESCROWED:
            if command.stack and self._cassette:
                self._phase, self._countdown = Phase.STACKING, self.timing.stack_polls
            elif command.return_note:
                self._phase, self._countdown = Phase.RETURNING, self.timing.return_polls
            return
        if self._phase is Phase.IDLE:
            return
        self._countdown -= 1
        if self._countdown > 0:
            return
        if self._phase is Phase.ACCEPTING:
            self._validated()
        elif self._phase is Phase.STACKING:
            note = self._note
            self._into_cashbox()
            self._stacked_event = note if note is not None else 0
        elif self._phase is Phase.RETURNING:
            self._counts["returned"] += 1
            self._returned_event = True
            self._idle()

    def _validated(self) -> None:
        if self._cheat:
            self._counts["cheated"] += 1
            self._counts["rejected"] += 1
            self._cheated_event = self._rejected_event = True
            self._idle()
            return
        enabled = self._note is not None and self._mask & (1 << (self._note - 1))
        if self._fake or not enabled:
            self._counts["rejected"] += 1
            self._rejected_event = True
            self._idle()
            return
        if self._escrow_mode:
            self._phase = Phase.ESCROWED
        else:  # the host left the decision to the device: straight to the cash box
            self._phase, self._countdown = Phase.STACKING, self.timing.stack_polls

    def _into_cashbox(self) -> None:
        if self._note is not None:
            self._stacked[self._note] = self._stacked.get(self._note, 0) + 1
        self._cashbox += 1
        self._idle()

    def _idle(self) -> None:
        self._phase, self._countdown = Phase.IDLE, 0
        self._note, self._fake, self._cheat = None, False, False

    def _status(self) -> OmnibusStatus:
        # jammed or failed: no state bit (the condition bits say why); a removed cash box
        # leaves the device idling, the cassette bit clear, as an Apex reports it
        in_service = not (self._jammed or self._failure)
        phase = self._phase if in_service else None
        stacked = self._stacked_event
        if phase in (Phase.ESCROWED, Phase.STACKING, Phase.RETURNING):
            note_value = self._note or 0
        else:
            note_value = stacked or 0
        status = OmnibusStatus(
            idling=phase is Phase.IDLE and not self._full,
            accepting=phase is Phase.ACCEPTING,
            escrowed=phase is Phase.ESCROWED,
            stacking=phase is Phase.STACKING,
            stacked=stacked is not None,
            returning=phase is Phase.RETURNING,
            returned=self._returned_event,
            cheated=self._cheated_event,
            rejected=self._rejected_event,
            jammed=self._jammed,
            stacker_full=self._full,
            cassette_attached=self._cassette,
            power_up=self._power_up_left > 0,
            invalid_command=self._invalid_event,
            failure=self._failure,
            note_value=note_value,
            model=MODEL,
            revision=REVISION,
        )
        self._stacked_event = None
        self._returned_event = self._rejected_event = self._cheated_event = False
        self._invalid_event = False
        self._power_up_left = max(0, self._power_up_left - 1)
        return status

    def _power_off_on(self, with_escrow: int | None) -> None:
        self._counts["power_cycles"] += 1
        if self._phase is Phase.ACCEPTING:
            self._idle()  # not validated yet: back to the customer, nothing to report
        if with_escrow is not None and self._phase is Phase.IDLE:
            self._phase, self._note, self._fake = Phase.ESCROWED, with_escrow, False
        # policy B: a stacked or returned note is still reported; the rest is forgotten
        self._rejected_event = self._cheated_event = self._invalid_event = False
        self._last_ack = self._last_reply = None
        self._mask = 0
        self._power_up_left = max(1, self.timing.power_up_polls)

    # ------------------------------------------------------------------ controls
    def _insert(self, args: list[str]) -> str:
        if len(args) != 1:
            raise ValueError("usage: insert DOLLARS, e.g. insert 20")
        amount = money_arg(args[0])
        index = note_index(amount.cents, self._cents)
        with self._lock:
            self._feed(index, fake=index is None, cheat=False)
        return f"inserted a {amount} note"

    def _counterfeit(self, args: list[str]) -> str:
        with self._lock:
            self._feed(None, fake=True, cheat=False)
        return "inserted a counterfeit note"

    def _cheat_ctl(self, args: list[str]) -> str:
        with self._lock:
            self._feed(5, fake=False, cheat=True)
        return "inserted a note on a string"

    def _feed(self, index: int | None, *, fake: bool, cheat: bool) -> None:
        if self._phase is not Phase.IDLE:
            raise ValueError(f"busy ({self._phase.value}): the note is not drawn in")
        if self._jammed or self._failure or not self._cassette or self._full:
            raise ValueError("out of service: the note is not drawn in")
        if self._power_up_left:
            raise ValueError("powering up: the note is not drawn in")
        self._phase, self._countdown = Phase.ACCEPTING, max(1, self.timing.accept_polls)
        self._deaf_until = time.monotonic() + self.timing.reading_silence
        self._note, self._fake, self._cheat = index, fake, cheat

    def _jam(self, args: list[str]) -> str:
        with self._lock:
            if self._jammed:
                return "already jammed"
            self._jammed = True
            self._counts["jams"] += 1
            where = self._phase.value
        return f"jammed ({where})"

    def _clear(self, args: list[str]) -> str:
        if args not in ([], ["cashbox"], ["out"]):
            raise ValueError("usage: clear [cashbox|out]")
        with self._lock:
            was = self._jammed or self._failure
            self._jammed = self._failure = False
            phase = self._phase
            if args:
                choice = args[0]
            elif phase is Phase.STACKING:
                choice = "cashbox"
            elif phase in (Phase.ACCEPTING, Phase.RETURNING):
                choice = "out"
            else:
                choice = "stay"  # a note in escrow stays there
            if phase is Phase.IDLE or choice == "stay":
                return "cleared" if was else "nothing to clear"
            if choice == "cashbox":
                self._into_cashbox()  # no stacked report: the device can not vouch for it
                return "cleared: the note went into the cash box"
            self._counts["removed_by_technician"] += 1
            self._idle()
            return "cleared: the note was taken out"

    def _remove(self, args: list[str]) -> str:
        with self._lock:
            self._cassette = False
        return "cash box removed"

    def _replace(self, args: list[str]) -> str:
        with self._lock:
            self._cassette, self._full = True, False
        return "cash box replaced"

    def _fill(self, args: list[str]) -> str:
        with self._lock:
            self._full = True
        return "stacker full"

    def _stack_polls(self, args: list[str]) -> str:
        polls = count_arg(args, "stack-polls N")
        with self._lock:
            self.timing = replace(self.timing, stack_polls=polls)
        return f"a note takes {polls} polls to stack"

    def _fail(self, args: list[str]) -> str:
        with self._lock:
            self._failure = True
        return "failure"

    def _power_cycle(self, args: list[str]) -> str:
        note: int | None = None
        if args:
            if args[0] != "with-escrow" or len(args) > 2:
                raise ValueError("usage: power-cycle [with-escrow [DOLLARS]]")
            amount = money_arg(args[1]) if len(args) == 2 else Money(2000)
            note = note_index(amount.cents, self._cents)
            if note is None:
                raise ValueError(f"{amount} is not a note this acceptor takes")
        with self._lock:
            self._power_off_on(note)
            phase = self._phase.value
        return f"power cycled ({phase})"


def _reports_stacked(reply: bytes) -> bool:
    frame = parse_frame(reply)
    status = OmnibusStatus.decode(frame) if frame is not None else None
    return status is not None and status.stacked
