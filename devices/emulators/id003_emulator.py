"""A JCM ID-003 bill acceptor on a pseudo-terminal: the device side of the protocol, byte for
byte.

It answers what a real acceptor answers (specification ID03-001E; the rules are in
``docs/protocols/id003.md``): one status to each status request, ACK or INVALID COMMAND to
each operation command, the echo of each setting command, the current setting to a setting
status request, its identification to VERSION REQUEST, COMMUNICATION ERROR to a message
whose CRC is wrong and INVALID COMMAND to a code it does not know. Nothing happens between
polls: each status request moves the note one step (accepting, stacking, returning take a
configurable number of polls), the way a real device only reports at the host's pace. VEND
VALID is repeated until the host's ACK, and the ACK itself is not answered.

At power-up it reports POWER UP, or POWER UP WITH BILL IN ACCEPTOR / IN STACKER when the
power went with a note in it, until the host sends RESET; the reset returns a note that was
in the acceptor and stacks one that was in the stacker, then the acceptor stays inhibited
(DISABLE) until the host lifts the inhibit.

Controls (``kiosk emulate bill_acceptor`` with the ID-003 protocol, or
:meth:`Id003Emulator.control` in tests): insert a note, a counterfeit or a cheat attempt;
jam (in the acceptor or the stacker) and clear; pull, replace or fill the cash box; fail;
power-cycle, optionally with a note in the acceptor or the stacker; unplug and replug the
cable; slow, drop or garble replies. Counters are the hardware's truth: the notes in the
cash box and those stacked per denomination, kept in memory.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any

from devices.emulators.base import Control
from devices.emulators.pty_port import EmulatorLoop, PtyPort
from devices.emulators.wire import WireFaults, count_arg, money_arg
from devices.id003.framing import Frame, FrameAssembler, build_frame
from devices.id003.messages import (
    ACK,
    OPERATIONS,
    SETTING_DATA_LENGTH,
    SETTING_REQUEST_OFFSET,
    SETTINGS,
    Command,
    FailureCode,
    RejectReason,
    Status,
    StatusReply,
    enabled,
    escrow_code,
)
from devices.id003.tracker import NOTES
from kiosk.money import Money

VERSION = "i(USA)100-SS ID003-05V280-42 01AUG17 964D"
"""An iVIZION-class US acceptor's identification, in the format JCM firmware answers."""
BOOT_VERSION = "B05 "
POWER_CYCLE_USAGE = "usage: power-cycle [in-acceptor [DOLLARS] | in-stacker [DOLLARS]]"


class Phase(Enum):
    IDLE = "idle"
    ACCEPTING = "accepting"
    ESCROW = "escrow"
    HOLDING = "holding"
    STACKING = "stacking"
    VEND_VALID = "vend_valid"
    STACKED = "stacked"
    RETURNING = "returning"
    REJECTING = "rejecting"
    INITIALIZE = "initialize"


PHASE_STATUS: dict[Phase, Status] = {
    Phase.ACCEPTING: Status.ACCEPTING,
    Phase.ESCROW: Status.ESCROW,
    Phase.HOLDING: Status.HOLDING,
    Phase.STACKING: Status.STACKING,
    Phase.VEND_VALID: Status.VEND_VALID,
    Phase.STACKED: Status.STACKED,
    Phase.RETURNING: Status.RETURNING,
    Phase.REJECTING: Status.REJECTING,
    Phase.INITIALIZE: Status.INITIALIZE,
}
IN_ESCROW = (Phase.ESCROW, Phase.HOLDING)
GOING_BACK = (Phase.ACCEPTING, Phase.ESCROW, Phase.HOLDING, Phase.RETURNING, Phase.REJECTING)


@dataclass
class EmulatorTiming:
    """How many status requests each movement takes (a real note takes about a second)."""

    accept_polls: int = 1
    stack_polls: int = 2
    return_polls: int = 2
    reject_polls: int = 1
    initialize_polls: int = 2
    escrow_timeout: float | None = None
    """Seconds a note may wait in escrow with no command before the acceptor gives it back by
    itself (REJECTING ``79``, then IDLING), as a real one does after about 10 s; each HOLD
    starts the wait again. None: it waits for ever, so a crash test can keep a note in
    escrow while the kiosk is down."""


@dataclass(frozen=True)
class Exchange:
    """One message from the host and what the device did with it (for tests)."""

    host: bytes
    reply: bytes | None
    fate: str  # "sent", "dropped", "garbled", "none"


NOISE = bytes([0x00, 0xFC, 0x55, 0x03, 0x2A, 0x11])


class Id003Emulator:
    """Implements :class:`devices.emulators.base.Emulator` for the ``bill_acceptor`` name."""

    name = "bill_acceptor"

    def __init__(
        self,
        link: Path | None = None,
        *,
        timing: EmulatorTiming | None = None,
        table: dict[int, Money] | None = None,
    ) -> None:
        self.port = PtyPort(link)
        self.timing = timing or EmulatorTiming()
        self.table = dict(table or NOTES)
        self._cents = {code: note.cents for code, note in self.table.items()}
        self._lock = threading.Lock()
        self._loop = EmulatorLoop(self.port, self._from_host, self.name)
        self._assembler = FrameAssembler()
        self._history: deque[Exchange] = deque(maxlen=200)
        # the note and where it is
        self._phase = Phase.IDLE
        self._countdown = 0
        self._note: int | None = None  # escrow code, None for a fake
        self._fake = False
        self._cheat = False
        self._reject: int = RejectReason.DENOMINATION
        self._cheated_event = False
        self._escrow_since = 0.0  # monotonic: since the note reached escrow, or the last HOLD
        self._at_slot: tuple[int | None, bool, bool] | None = None
        # conditions
        self._jam: Status | None = None
        self._failure = False
        self._cassette = True
        self._full = False
        self._power_up: Status | None = Status.POWER_UP
        # settings (6-5), as the acceptor holds them after its own power-up
        self._settings: dict[int, bytes] = {
            code: bytes(SETTING_DATA_LENGTH[code]) for code in SETTINGS
        }
        self._settings[Command.INHIBIT] = b"\x01"
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
            "acks": 0,
            "resets": 0,
            "invalid_commands": 0,
            "crc_errors_from_host": 0,
            "power_cycles": 0,
            "holds": 0,
            "escrow_timeouts": 0,
        }
        self._wire = WireFaults(
            self.port,
            self._lock,
            self._counts,
            noise=NOISE,
            seed=0x1D003,
            marked="vend-valid",
            described="VEND VALID",
            is_marked=_is_vend_valid,
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
            "cheat": Control("cheat: a note on a string (cheated)", self._cheat_ctl),
            "jam": Control(
                "jam [acceptor|stacker]: jam the note path (default: where the note is)",
                self._jam_ctl,
            ),
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
                "power-cycle [in-acceptor [DOLLARS] | in-stacker [DOLLARS]]: power off and "
                "on; the option leaves a note (default 20) in the acceptor or the stacker",
                self._power_cycle,
            ),
            **self._wire.controls(),
        }

    def counters(self) -> dict[str, Any]:
        with self._lock:
            return {
                "cashbox": self._cashbox,
                "stacked": {
                    self.table[code].plain(): count
                    for code, count in sorted(self._stacked.items())
                    if code in self.table
                },
                **self._counts,
                "phase": self._phase.value,
                "jammed": self._jam is not None,
                "cassette_attached": self._cassette,
                "stacker_full": self._full,
                "inhibited": self._settings[Command.INHIBIT] != b"\x00",
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
        code = escrow_code(denomination.cents, self._cents)
        with self._lock:
            return self._stacked.get(code, 0) if code is not None else 0

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
            crc_errors = self._assembler.stats.checksum_errors
            frames = self._assembler.feed(data)
            damaged = self._assembler.stats.checksum_errors > crc_errors
        for frame in frames:
            self._answer(frame)
        if damaged and not frames:
            with self._lock:
                self._counts["crc_errors_from_host"] += 1
            self._emit(b"", build_frame(Status.COMMUNICATION_ERROR))

    def _answer(self, frame: Frame) -> None:
        with self._lock:
            self._counts["messages"] += 1
            reply = self._process(frame)
        self._emit(frame.encode(), reply)

    def _emit(self, host: bytes, reply: bytes | None) -> None:
        with self._lock:
            wire, fate = self._wire.transmit(reply)
            self._history.append(Exchange(host, reply, fate))
            delay = self._wire.delay
        self._wire.send(wire, delay)

    def _process(self, frame: Frame) -> bytes | None:
        code, data = frame.cmd, frame.data
        if code == Command.STATUS_REQUEST and not data:
            self._counts["polls"] += 1
            return self._status().encode()
        if code == ACK and not data:
            self._counts["acks"] += 1
            if self._phase is Phase.VEND_VALID:
                self._phase = Phase.STACKED
            return None  # the acceptor does not answer the host's ACK (6-2-1(5))
        if code in OPERATIONS and not data:
            return self._operation(Command(code))
        if code in SETTINGS and len(data) == SETTING_DATA_LENGTH[code]:
            self._settings[code] = data
            return build_frame(code, data)  # the echo (6-6)
        if code + SETTING_REQUEST_OFFSET in SETTINGS and not data:
            return build_frame(code, self._settings[code + SETTING_REQUEST_OFFSET])
        if code == Command.VERSION_REQUEST and not data:
            return build_frame(code, VERSION.encode("ascii"))
        if code == Command.BOOT_VERSION_REQUEST and not data:
            return build_frame(code, BOOT_VERSION.encode("ascii"))
        return self._invalid()

    def _invalid(self) -> bytes:
        self._counts["invalid_commands"] += 1
        return build_frame(Status.INVALID_COMMAND)

    def _operation(self, code: Command) -> bytes:
        if code == Command.RESET:
            self._reset()
            return build_frame(ACK)
        if self._power_up is not None or self._jam is not None or self._failure:
            return self._invalid()
        if code in (Command.STACK_1, Command.STACK_2) and self._phase in IN_ESCROW:
            if not self._cassette:
                return self._invalid()
            self._phase, self._countdown = Phase.STACKING, max(1, self.timing.stack_polls)
        elif code == Command.RETURN and self._phase in IN_ESCROW:
            self._phase, self._countdown = Phase.RETURNING, max(1, self.timing.return_polls)
        elif code == Command.HOLD and self._phase in IN_ESCROW:
            self._phase = Phase.HOLDING
            self._escrow_since = time.monotonic()
            self._counts["holds"] += 1
        elif code != Command.WAIT:
            return self._invalid()
        return build_frame(ACK)

    def _reset(self) -> None:
        """RESET: a note in the acceptor goes back, one in the stacker into the box; then
        the acceptor initialises and comes up inhibited."""
        self._counts["resets"] += 1
        if self._power_up == Status.POWER_UP_BILL_IN_STACKER or self._phase is Phase.STACKING:
            self._into_cashbox()
        elif self._phase in GOING_BACK:
            self._counts["returned"] += 1
        self._power_up = None
        self._idle()
        self._settings[Command.INHIBIT] = b"\x01"
        self._phase, self._countdown = Phase.INITIALIZE, max(1, self.timing.initialize_polls)

    # ------------------------------------------------------------------ the note's journey
    def _status(self) -> StatusReply:
        if self._power_up is not None:
            return StatusReply(self._power_up)
        if self._failure:
            return StatusReply(Status.FAILURE, FailureCode.TRANSPORT_MOTOR)
        if self._jam is not None:
            return StatusReply(self._jam)
        if not self._cassette:
            return StatusReply(Status.STACKER_OPEN)
        if self._cheated_event:
            self._cheated_event = False
            return StatusReply(Status.CHEATED)
        self._advance()
        if self._phase is Phase.IDLE:
            self._draw_in()
        if self._phase is Phase.IDLE:
            if self._full:
                return StatusReply(Status.STACKER_FULL)
            inhibited = self._settings[Command.INHIBIT] != b"\x00"
            return StatusReply(Status.DISABLED if inhibited else Status.IDLING)
        if self._phase is Phase.ESCROW:
            return StatusReply(Status.ESCROW, self._note)
        if self._phase is Phase.REJECTING:
            return StatusReply(Status.REJECTING, self._reject)
        status = StatusReply(PHASE_STATUS[self._phase])
        if self._phase is Phase.STACKED:
            self._idle()  # reported once, then the acceptor is idle again
        return status

    def _advance(self) -> None:
        """One status request's worth of movement."""
        if self._phase in IN_ESCROW:
            self._escrow_waited()
            return
        if self._phase in (Phase.IDLE, Phase.VEND_VALID):
            return
        if self._phase is Phase.STACKED:
            return
        self._countdown -= 1
        if self._countdown > 0:
            return
        if self._phase is Phase.ACCEPTING:
            self._validated()
        elif self._phase is Phase.STACKING:
            self._into_cashbox()
            self._phase = Phase.VEND_VALID
        elif self._phase is Phase.RETURNING:
            self._counts["returned"] += 1
            self._idle()
        else:  # rejecting, initialize
            self._idle()

    def _escrow_waited(self) -> None:
        """A note left in escrow past ``escrow_timeout`` with no command goes back by itself."""
        limit = self.timing.escrow_timeout
        if limit is None or time.monotonic() - self._escrow_since < limit:
            return
        self._counts["escrow_timeouts"] += 1
        self._counts["rejected"] += 1
        self._reject = RejectReason.INHIBIT
        self._phase, self._countdown = Phase.REJECTING, max(1, self.timing.reject_polls)

    def _validated(self) -> None:
        if self._cheat:
            self._counts["cheated"] += 1
            self._counts["rejected"] += 1
            self._cheated_event = True
            self._idle()
            return
        mask = self._settings[Command.ENABLE_DISABLE][0]
        if self._fake or self._note is None or not enabled(mask, self._note):
            self._counts["rejected"] += 1
            self._reject = RejectReason.DENOMINATION if self._fake else RejectReason.INHIBIT
            self._phase, self._countdown = Phase.REJECTING, max(1, self.timing.reject_polls)
            return
        self._phase, self._escrow_since = Phase.ESCROW, time.monotonic()

    def _into_cashbox(self) -> None:
        if self._note is not None:
            self._stacked[self._note] = self._stacked.get(self._note, 0) + 1
        self._cashbox += 1

    def _idle(self) -> None:
        self._phase, self._countdown = Phase.IDLE, 0
        self._note, self._fake, self._cheat = None, False, False

    def _power_off_on(self, note: int | None, where: str) -> None:
        self._counts["power_cycles"] += 1
        self._cheated_event, self._at_slot = False, None
        self._settings[Command.INHIBIT] = b"\x01"
        if note is not None and self._phase is Phase.IDLE:
            self._note, self._fake = note, False
            self._phase = Phase.STACKING if where == "in-stacker" else Phase.ESCROW
        if self._phase is Phase.STACKING:
            self._power_up = Status.POWER_UP_BILL_IN_STACKER
        elif self._phase in (Phase.ESCROW, Phase.HOLDING, Phase.RETURNING, Phase.REJECTING):
            self._power_up = Status.POWER_UP_BILL_IN_ACCEPTOR
        else:
            if self._phase is Phase.ACCEPTING:
                self._counts["returned"] += 1  # not validated yet: back out, unreported
            self._idle()  # a stacked note (VEND VALID) is in the box already
            self._power_up = Status.POWER_UP

    # ------------------------------------------------------------------ controls
    def _insert(self, args: list[str]) -> str:
        if len(args) != 1:
            raise ValueError("usage: insert DOLLARS, e.g. insert 20")
        amount = money_arg(args[0])
        code = escrow_code(amount.cents, self._cents)
        with self._lock:
            self._feed(code, fake=code is None, cheat=False)
        return f"inserted a {amount} note"

    def _counterfeit(self, args: list[str]) -> str:
        with self._lock:
            self._feed(None, fake=True, cheat=False)
        return "inserted a counterfeit note"

    def _cheat_ctl(self, args: list[str]) -> str:
        with self._lock:
            self._feed(0x63, fake=False, cheat=True)
        return "inserted a note on a string"

    def _feed(self, code: int | None, *, fake: bool, cheat: bool) -> None:
        if self._phase not in (Phase.IDLE, Phase.INITIALIZE):
            raise ValueError(f"busy ({self._phase.value}): the note is not drawn in")
        if self._jam is not None or self._failure or not self._cassette or self._full:
            raise ValueError("out of service: the note is not drawn in")
        if self._at_slot is not None:
            raise ValueError("a note is already held at the slot")
        self._at_slot = (code, fake, cheat)

    def _draw_in(self) -> None:
        """An inhibited (or still initialising) acceptor does not take a note: the resident
        holds it at the slot until the host lifts the inhibit, then it is drawn in."""
        if self._at_slot is None or self._settings[Command.INHIBIT] != b"\x00":
            return
        (self._note, self._fake, self._cheat), self._at_slot = self._at_slot, None
        self._phase, self._countdown = Phase.ACCEPTING, max(1, self.timing.accept_polls)

    def _jam_ctl(self, args: list[str]) -> str:
        if args not in ([], ["acceptor"], ["stacker"]):
            raise ValueError("usage: jam [acceptor|stacker]")
        with self._lock:
            if self._jam is not None:
                return "already jammed"
            in_stacker = args == ["stacker"] or (not args and self._phase is Phase.STACKING)
            self._jam = Status.STACKER_JAM if in_stacker else Status.ACCEPTOR_JAM
            self._counts["jams"] += 1
            where = self._phase.value
        return f"jammed in the {'stacker' if in_stacker else 'acceptor'} ({where})"

    def _clear(self, args: list[str]) -> str:
        if args not in ([], ["cashbox"], ["out"]):
            raise ValueError("usage: clear [cashbox|out]")
        with self._lock:
            was = self._jam is not None or self._failure
            self._jam, self._failure = None, False
            phase = self._phase
            if args:
                choice = args[0]
            elif phase in (Phase.STACKING, Phase.VEND_VALID, Phase.STACKED):
                choice = "cashbox"
            elif phase in (Phase.ACCEPTING, Phase.RETURNING, Phase.REJECTING):
                choice = "out"
            else:
                choice = "stay"  # a note in escrow stays there
            if phase in (Phase.IDLE, Phase.INITIALIZE) or choice == "stay":
                return "cleared" if was else "nothing to clear"
            if choice == "cashbox":
                if phase is not Phase.VEND_VALID and phase is not Phase.STACKED:
                    self._into_cashbox()  # no VEND VALID: the device can not vouch for it
                self._idle()
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
        where = ""
        if args:
            if args[0] not in ("in-acceptor", "in-stacker") or len(args) > 2:
                raise ValueError(
                    "usage: power-cycle [in-acceptor [DOLLARS] | in-stacker [DOLLARS]]"
                )
            where = args[0]
            amount = money_arg(args[1]) if len(args) == 2 else Money(2000)
            note = escrow_code(amount.cents, self._cents)
            if note is None:
                raise ValueError(f"{amount} is not a note this acceptor takes")
        with self._lock:
            self._power_off_on(note, where)
            reported = self._power_up.name.lower() if self._power_up is not None else "?"
        return f"power cycled ({reported})"


def _is_vend_valid(reply: bytes) -> bool:
    return len(reply) > 2 and reply[2] == Status.VEND_VALID
