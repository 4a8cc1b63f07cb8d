"""A device's health, and the journal-worthy events that say when it changes.

Every driver reports health the same way, so the engine journals a printer out of paper at
start-up as it journals a jam: entering FAULT is a :class:`~kiosk.ports.DeviceFault` with
the reason; leaving it is a :class:`~kiosk.ports.DeviceRecovered` (decided by the
:class:`~devices.outlet.EventOutlet`, which every driver's faults pass through); entering
DEGRADED is a notice whose kind is the reason (``paper_low``).

The first health after :meth:`HealthReport.opened` is compared with OK, not with "closed":
what the driver finds at open (paper out, nothing on the port) is reported like any fault,
and a device that is fine at open says nothing. Closing is not a fault: :meth:`closed` sets
the health quietly. Events go through the driver's one :class:`~devices.outlet.EventOutlet`,
which keeps them until the engine (or recovery) attaches.
"""

from __future__ import annotations

import logging
import threading

from devices.outlet import EventOutlet
from kiosk.ports import DeviceFault, DeviceHealth, DeviceNotice, Health

log = logging.getLogger(__name__)

CLOSED = DeviceHealth(Health.FAULT, "closed")
DISCONNECTED = DeviceHealth(Health.FAULT, "disconnected")


class HealthReport:
    def __init__(self, outlet: EventOutlet) -> None:
        self.outlet = outlet
        self._lock = threading.Lock()
        self._health = CLOSED
        self._fresh = False  # opened, nothing reported yet

    @property
    def device(self) -> str:
        return self.outlet.device

    def now(self) -> DeviceHealth:
        with self._lock:
            return self._health

    def opened(self, health: DeviceHealth = DISCONNECTED) -> None:
        """The driver started: ``health`` until it knows better; the next :meth:`set` counts
        as the first look at the device and is reported against OK."""
        with self._lock:
            self._health, self._fresh = health, True

    def closed(self) -> None:
        with self._lock:
            self._health, self._fresh = CLOSED, False

    def set(self, new: DeviceHealth) -> bool:
        """Take the health the driver sees now; report a change. True if it changed.

        The outlet sees every health, changed or not: a device closed while faulted that is
        fine at its next open has recovered though nothing changed since that open.
        """
        with self._lock:
            old, self._health = self._health, new
            if self._fresh:
                old, self._fresh = DeviceHealth(), False
        changed = new != old
        if changed:
            log.info(
                "%s: %s %s -> %s %s",
                self.device,
                old.state.value,
                old.reason,
                new.state.value,
                new.reason,
            )
            self.outlet.send(*transition_events(self.device, old, new))
        self.outlet.health_now(new)
        return changed


def transition_events(device: str, old: DeviceHealth, new: DeviceHealth) -> list[object]:
    """What the journal should say about ``device`` going from ``old`` to ``new`` (leaving
    FAULT is said by the outlet, :meth:`~devices.outlet.EventOutlet.health_now`)."""
    if new.state is Health.FAULT:
        return [DeviceFault(device, new.reason)] if new != old else []
    if new.state is Health.DEGRADED and new.reason and new != old:
        return [DeviceNotice(device, new.reason)]
    return []
