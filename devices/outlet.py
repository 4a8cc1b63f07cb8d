"""Where a driver's events go: the engine's queue once attached, a short backlog before.

A driver opened at boot may see a fault or a power-up before the engine (or recovery) has
attached; those events must not be lost, nor grow without bound, and one failing receiver
must not stop a driver's thread.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from kiosk.ports import Emit

log = logging.getLogger(__name__)

BACKLOG = 64
"""Events kept while nothing is attached yet (a fault at boot must not be lost)."""


class EventOutlet:
    def __init__(self, device: str) -> None:
        self.device = device
        self._lock = threading.Lock()
        self._emit: Emit | None = None
        self._backlog: deque[object] = deque(maxlen=BACKLOG)

    def attach(self, emit: Emit) -> None:
        """Send to ``emit`` from now on, first what waited for it."""
        with self._lock:
            self._emit = emit
            waiting = list(self._backlog)
            self._backlog.clear()
        for event in waiting:
            self._deliver(emit, event)

    def send(self, *events: object) -> None:
        with self._lock:
            emit = self._emit
            if emit is None:
                self._backlog.extend(events)
                return
        for event in events:
            self._deliver(emit, event)

    def _deliver(self, emit: Emit, event: object) -> None:
        try:
            emit(event)
        except Exception:
            log.exception("%s: emitting %s failed", self.device, type(event).__name__)
