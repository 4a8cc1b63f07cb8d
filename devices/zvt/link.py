"""The ZVT serial transport protocol at one end of the line: frames out and in, ACK and NAK.

Both ends of a ZVT serial line do the same thing, so the driver's serial transport and the
emulator share this class; only ``write`` differs (a :class:`~devices.serial_link.SerialLink`
or a pseudo-terminal). Bytes arrive through :meth:`LinkEndpoint.feed` on a reader thread:

* a good frame is acknowledged at once (``ACK``) and its APDU queued for :meth:`receive`;
* a complete frame with a bad CRC is answered ``NAK`` (the sender repeats it);
* a frame that stops mid-way for longer than T1 (200 ms) is dropped and answered ``NAK``,
  so the sender repeats it at once; a lone DLE is dropped and counted, and the sender,
  getting no ACK, repeats that frame after T2;
* ``ACK``/``NAK`` bytes wake the thread waiting in :meth:`send`.

:meth:`send` writes a frame and waits up to T2 (``ack_timeout``, 5 s) for the answer, and
sends it again on ``NAK`` or silence, twice at most (``resends``). ZVT frames carry no
sequence number, so a frame whose ACK was lost arrives twice; the layers above treat every
message so that a repeat does no harm (see ``docs/protocols/zvt.md``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from devices.zvt.framing import ACK, NAK, BadFrame, Frame, FrameAssembler, Signal, encode_frame
from kiosk.ports import DeviceError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkTiming:
    """The serial transport's timers (PA00P016, serial transport protocol, time-outs)."""

    ack_timeout: float = 5.0
    """T2: how long the sender waits for ACK/NAK before sending the frame again."""
    resends: int = 2
    """Repeats of one frame after the first send (on NAK or no answer): at most two."""
    char_timeout: float = 0.2
    """T1: silence inside a frame after which the receiver throws the partial frame away
    and answers NAK, so the sender repeats it at once rather than after T2."""


class LinkLost(DeviceError, ConnectionError):
    """The line went away (the port vanished, the socket closed) since the last receive."""


class LostMarker:
    """Marker queued with the APDUs so a reader learns of a loss in order."""


LOST = LostMarker()


class LinkEndpoint:
    """One end of the line. Thread-safe: a reader thread feeds, one thread sends."""

    def __init__(
        self,
        write: Callable[[bytes], None],
        timing: LinkTiming | None = None,
        *,
        name: str = "zvt",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.write = write
        self.timing = timing or LinkTiming()
        self.name = name
        self.clock = clock
        self.assembler = FrameAssembler()
        self._asm_lock = threading.Lock()
        self._last_byte = 0.0
        self._signals: deque[Signal] = deque(maxlen=16)
        self._signal_ready = threading.Condition()
        self._inbox: queue.Queue[bytes | LostMarker] = queue.Queue()
        self._send_lock = threading.Lock()
        self.counts: dict[str, int] = {
            "frames_sent": 0,
            "resends": 0,
            "send_failures": 0,
            "acks_sent": 0,
            "naks_sent": 0,
            "char_timeouts": 0,
        }
        self._t1: threading.Timer | None = None
        self.refuse_next = 0
        """Test hook (the emulator's ``nak`` control): NAK this many good frames."""

    # ------------------------------------------------------------------ reader side
    def feed(self, data: bytes) -> None:
        """Bytes from the line; acknowledges frames and queues their APDUs. Never raises."""
        now = self.clock()
        with self._asm_lock:
            stale = self.assembler.in_frame and now - self._last_byte > self.timing.char_timeout
            if stale:
                self.assembler.expire()
            self._last_byte = now
            items = self.assembler.feed(data)
            pending = self.assembler.in_frame
        if stale:
            self._char_timeout_nak()
        self._arm_t1(pending)
        for item in items:
            if isinstance(item, Signal):
                with self._signal_ready:
                    self._signals.append(item)
                    self._signal_ready.notify_all()
            elif isinstance(item, Frame):
                if self.refuse_next > 0:
                    self.refuse_next -= 1
                    self._answer(NAK, "naks_sent")
                    continue
                self._answer(ACK, "acks_sent")
                self._inbox.put(item.apdu)
            elif isinstance(item, BadFrame):
                self._answer(NAK, "naks_sent")

    def _arm_t1(self, pending: bool) -> None:
        """While a frame is open, T1 watches for the silence that ends it unfinished."""
        timer, self._t1 = self._t1, None
        if timer is not None:
            timer.cancel()
        if pending:
            timer = threading.Timer(self.timing.char_timeout, self._t1_expired)
            timer.daemon = True
            self._t1 = timer
            timer.start()

    def _t1_expired(self) -> None:
        with self._asm_lock:
            quiet = self.clock() - self._last_byte >= self.timing.char_timeout
            if not (self.assembler.in_frame and quiet):
                return
            self.assembler.expire()
        self._char_timeout_nak()

    def _char_timeout_nak(self) -> None:
        """The frame stopped mid-way for longer than T1: NAK it, so it is sent again."""
        self.counts["char_timeouts"] += 1
        self._answer(NAK, "naks_sent")

    def lost(self) -> None:
        """The port went away: drop the partial frame, wake the sender and the reader."""
        self._arm_t1(False)
        with self._asm_lock:
            self.assembler.reset()
        with self._signal_ready:
            self._signal_ready.notify_all()
        self._inbox.put(LOST)

    def reset(self) -> None:
        """A fresh connection: nothing partial or stale from before counts."""
        with self._asm_lock:
            self.assembler.reset()
        with self._signal_ready:
            self._signals.clear()

    def _answer(self, byte: int, counter: str) -> None:
        try:
            self.write(bytes([byte]))
            self.counts[counter] += 1
        except (ConnectionError, OSError):
            pass  # the line is gone; the sender will repeat when it is back

    # ------------------------------------------------------------------ sender side
    def send(
        self,
        apdu: bytes,
        connected: Callable[[], bool] = lambda: True,
        within: float | None = None,
    ) -> bool:
        """Send ``apdu`` until the other side ACKs it; False after the last repeat (or no line).

        ``within`` bounds the whole delivery: no repeat starts, and no wait for ACK lasts,
        past that many seconds from now.
        """
        frame = encode_frame(apdu)
        end = None if within is None else self.clock() + within
        with self._send_lock:
            for attempt in range(1 + max(0, self.timing.resends)):
                if not connected() or (end is not None and self.clock() >= end):
                    break
                if attempt:
                    self.counts["resends"] += 1
                with self._signal_ready:
                    self._signals.clear()
                try:
                    self.write(frame)
                except (ConnectionError, OSError) as exc:
                    log.debug("%s: write failed: %s", self.name, exc)
                    break
                self.counts["frames_sent"] += 1
                if self._await_signal(connected, end) is Signal.ACK:
                    return True
            self.counts["send_failures"] += 1
            return False

    def _await_signal(self, connected: Callable[[], bool], end: float | None) -> Signal | None:
        deadline = self.clock() + self.timing.ack_timeout
        if end is not None:
            deadline = min(deadline, end)
        with self._signal_ready:
            while True:
                if self._signals:
                    return self._signals.popleft()
                remaining = deadline - self.clock()
                if remaining <= 0 or not connected():
                    return None
                self._signal_ready.wait(min(remaining, 0.05))

    # ------------------------------------------------------------------ APDUs in
    def receive(self, timeout: float) -> bytes | None:
        """The next APDU, None after ``timeout``; raises :class:`LinkLost` once per loss."""
        try:
            item = self._inbox.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if isinstance(item, LostMarker):
            raise LinkLost(f"{self.name}: the line went away")
        return item

    def discard_pending(self) -> int:
        """Drop queued APDUs and loss markers (a new session with the terminal starts)."""
        dropped = 0
        while True:
            try:
                self._inbox.get_nowait()
            except queue.Empty:
                return dropped
            dropped += 1

    def stats(self) -> dict[str, int]:
        with self._asm_lock:
            s = self.assembler.stats
            framing = {
                "frames_received": s.frames,
                "crc_errors": s.crc_errors,
                "lone_dle": s.lone_dle,
                "truncated_frames": s.truncated,
                "oversized_frames": s.oversized,
                "garbage_bytes": s.garbage_bytes,
                "acks_received": s.acks,
                "naks_received": s.naks,
            }
        return {**framing, **self.counts}
