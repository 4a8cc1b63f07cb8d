"""Where a driver's events go: the engine's queue once attached, a short backlog before.

A driver opened at boot may see a fault or a power-up before the engine (or recovery) has
attached; those events must not be lost, nor grow without bound, and one failing receiver
must not stop a driver's thread.

Every fault a driver reports passes through here, so this is also where a recovery is
decided: the outlet remembers that it sent a fault, and the first usable health the driver
hands to :meth:`EventOutlet.health_now` after it sends one :class:`DeviceRecovered`. Drivers
hand over their health as often as they look at the device (every poll); only the change
from faulted to usable makes an event, so the hub's alert for a fault is always closed, and
nothing is journaled per poll.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from kiosk.ports import AcceptorFault, DeviceFault, DeviceHealth, DeviceRecovered, Emit

log = logging.getLogger(__name__)

BACKLOG = 64
"""Events kept while nothing is attached yet (a fault at boot must not be lost)."""


class EventOutlet:
    def __init__(self, device: str) -> None:
        self.device = device
        self._lock = threading.Lock()
        self._emit: Emit | None = None
        self._backlog: deque[object] = deque(maxlen=BACKLOG)
        self._faulted = False  # a fault went out and no recovery after it yet

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
            if any(isinstance(e, DeviceFault | AcceptorFault) for e in events):
                self._faulted = True
            emit = self._emit
            if emit is None:
                self._backlog.extend(events)
                return
        for event in events:
            self._deliver(emit, event)

    def health_now(self, health: DeviceHealth) -> None:
        """The driver's health as it just looked: usable after a fault is a recovery."""
        with self._lock:
            recovered = self._faulted and health.usable
            if recovered:
                self._faulted = False
        if recovered:
            self.send(DeviceRecovered(self.device))

    def _deliver(self, emit: Emit, event: object) -> None:
        try:
            emit(event)
        except Exception:
            log.exception("%s: emitting %s failed", self.device, type(event).__name__)
