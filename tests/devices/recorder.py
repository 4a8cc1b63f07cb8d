"""What a driver emitted, as the engine's queue would get it, and waiting on a condition.

For driver tests against emulators: waits are on events or conditions with time-outs,
never fixed sleeps.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable

import pytest

WAIT = 3.0


class Events:
    """Every event a driver emitted, in order."""

    def __init__(self) -> None:
        self.queue: queue.Queue[object] = queue.Queue()
        self.seen: list[object] = []

    def __call__(self, event: object) -> None:
        self.queue.put(event)

    def wait_for(self, wanted: object | Callable[[object], bool], timeout: float = WAIT) -> object:
        """The first event equal to ``wanted`` (or matching it); earlier ones are kept."""
        match = wanted if callable(wanted) else (lambda event: event == wanted)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no {wanted!r} within {timeout}s; saw {self.seen!r}")
            try:
                event = self.queue.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(event)
            if match(event):
                return event

    def quiet(self, seconds: float) -> list[object]:
        """Everything emitted in the next ``seconds`` (to check nothing more came)."""
        deadline = time.monotonic() + seconds
        got: list[object] = []
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                got.append(self.queue.get(timeout=remaining))
            except queue.Empty:
                break
        self.seen += got
        return got

    def of(self, kind: type) -> list[object]:
        return [event for event in self.seen if isinstance(event, kind)]


def until(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.01)
