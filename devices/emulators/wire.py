"""The cable and the line between host and device, as bad luck (or a test) treats them.

Every serial emulator offers the same faults of the wire, whatever protocol runs over it:
pull the cable and put it back, slow every reply, lose replies, garble them. They live here
once; each emulator adds the one reply worth losing on purpose in its protocol (the EBDS
reply reporting a stacked note, the ID-003 VEND VALID).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from devices.emulators.base import Control
from devices.emulators.pty_port import PtyPort
from kiosk.money import Money, MoneyError


class WireFaults:
    """What happens to replies on their way to the host, and the controls that decide it.

    ``marked`` names the reply a ``drop NAME`` loses (``stacked``, ``vend-valid``),
    ``described`` says it in words and ``is_marked`` recognises it on the wire. Not
    thread-safe on its own: the emulator calls :meth:`transmit` under its lock; the
    controls take ``lock``.
    """

    def __init__(
        self,
        port: PtyPort,
        lock: threading.Lock,
        counts: dict[str, int],
        *,
        noise: bytes,
        seed: int,
        marked: str,
        described: str,
        is_marked: Callable[[bytes], bool],
    ) -> None:
        self.port = port
        self._lock = lock
        self._counts = counts
        counts.setdefault("replies_dropped", 0)
        counts.setdefault("replies_garbled", 0)
        self._noise = noise
        self._random = random.Random(seed)
        self._marked = marked
        self._described = described
        self._is_marked = is_marked
        self._drop = 0
        self._drop_marked = False
        self._garble = 0
        self.delay = 0.0

    def controls(self) -> dict[str, Control]:
        return {
            "unplug": Control("unplug: pull the cable (the port vanishes)", self._unplug),
            "replug": Control("replug: put the cable back (same port path)", self._replug),
            "slow": Control("slow MS: delay every reply by MS milliseconds (0: off)", self._slow),
            "drop": Control(
                f"drop [N|{self._marked}]: lose the next N replies, or the next one "
                f"reporting {self._described}, on the wire",
                self._drop_ctl,
            ),
            "garbage": Control(
                "garbage [N]: send the next N replies as noise and a bad check", self._garbage
            ),
        }

    def transmit(self, reply: bytes | None) -> tuple[bytes, str]:
        """What goes on the wire for ``reply``, and its fate (sent, dropped, garbled, none)."""
        if reply is None:
            return b"", "none"
        if self._drop_marked and self._is_marked(reply):
            self._drop_marked = False
            self._counts["replies_dropped"] += 1
            return b"", "dropped"
        if self._drop:
            self._drop -= 1
            self._counts["replies_dropped"] += 1
            return b"", "dropped"
        if self._garble:
            self._garble -= 1
            self._counts["replies_garbled"] += 1
            corrupted = bytearray(reply)
            corrupted[-1] ^= 0x5A  # the check byte no longer matches
            noise = bytes(self._random.choice(self._noise) for _ in range(5))
            return noise + bytes(corrupted), "garbled"
        return reply, "sent"

    def send(self, wire: bytes, delay: float) -> None:
        """Write ``wire`` now, or ``delay`` seconds late while the device keeps listening."""
        if wire and delay:
            timer = threading.Timer(delay, self.port.write, args=(wire,))
            timer.daemon = True
            timer.start()
        elif wire:
            self.port.write(wire)

    # ------------------------------------------------------------------ controls
    def _unplug(self, args: list[str]) -> str:
        if not self.port.plugged:
            return "already unplugged"
        self.port.unplug()
        return f"unplugged: {self.port.path} is gone"

    def _replug(self, args: list[str]) -> str:
        if self.port.plugged:
            return "already plugged in"
        self.port.replug()
        return f"plugged in again at {self.port.path}"

    def _slow(self, args: list[str]) -> str:
        try:
            millis = int(args[0]) if len(args) == 1 else -1
        except ValueError:
            millis = -1
        if not 0 <= millis <= 10_000:
            raise ValueError("usage: slow MS (0 to 10000)")
        with self._lock:
            self.delay = millis / 1000
        return f"replies delayed by {millis} ms"

    def _drop_ctl(self, args: list[str]) -> str:
        if args == [self._marked]:
            with self._lock:
                self._drop_marked = True
            return f"the next reply reporting {self._described} will be lost"
        count = count_arg(args, f"drop [N|{self._marked}]")
        with self._lock:
            self._drop += count
        return f"the next {count} replies will be lost"

    def _garbage(self, args: list[str]) -> str:
        count = count_arg(args, "garbage [N]")
        with self._lock:
            self._garble += count
        return f"the next {count} replies will be garbled"


def count_arg(args: list[str], usage: str) -> int:
    """The optional count of a control (1 when absent); ValueError with ``usage`` if bad."""
    try:
        count = int(args[0]) if args else 1
    except ValueError:
        count = 0
    if not 1 <= count <= 1000 or len(args) > 1:
        raise ValueError(f"usage: {usage} (N from 1 to 1000)")
    return count


def money_arg(text: str) -> Money:
    """A control's amount (``20``, ``5.00``); ValueError in the operator's words if bad."""
    try:
        return Money.parse(text)
    except MoneyError as exc:
        raise ValueError(str(exc)) from exc
