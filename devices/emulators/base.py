"""What every device emulator offers: a pty, a life cycle, control commands, counters.

``kiosk emulate NAME`` and the tests drive emulators only through this surface, so one
console loop serves them all. Counters are the hardware's own truth (bills stacked per
denomination, receipts printed) that tests compare with the kiosk's journal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from devices.emulators.pty_port import PtyPort


@dataclass(frozen=True)
class Control:
    """One control command: ``handler(args)`` returns a line to show the operator."""

    help: str
    handler: Callable[[list[str]], str]


class Emulator(Protocol):
    name: str
    port: PtyPort

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def controls(self) -> dict[str, Control]: ...
    def counters(self) -> dict[str, Any]: ...
