"""Brings the engine's snapshots to Kivy's thread, and the resident's touches to the engine.

The engine publishes on its own thread (DESIGN.md rule 3); Kivy may only be touched from
its main loop. The bridge keeps the newest snapshot and schedules one delivery before the
next frame, so a burst of snapshots (a bill stacked, the printer answering) costs one
redraw and the screen never shows an older state after a newer one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from kivy.clock import Clock

from kiosk.engine.snapshot import Snapshot

Observer = Callable[[Snapshot], None]


class EngineLink(Protocol):
    """What the screens may do with the engine: watch it, and tell it things."""

    def subscribe(self, observer: Observer) -> None: ...
    def submit(self, event: object) -> None: ...


class SnapshotBridge:
    def __init__(self, engine: EngineLink) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._latest: Snapshot | None = None
        self._scheduled = False
        self._deliver_to: Observer | None = None
        self.delivered = 0

    def connect(self, deliver_to: Observer) -> None:
        """Start watching the engine; ``deliver_to`` runs on Kivy's thread."""
        self._deliver_to = deliver_to
        self.engine.subscribe(self._from_engine)

    def send(self, event: object) -> None:
        self.engine.submit(event)

    @property
    def latest(self) -> Snapshot | None:
        with self._lock:
            return self._latest

    def _from_engine(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._latest = snapshot
            if self._scheduled:
                return
            self._scheduled = True
        Clock.schedule_once(self._deliver, -1)

    def _deliver(self, _dt: float) -> None:
        with self._lock:
            snapshot, self._scheduled = self._latest, False
        if snapshot is not None and self._deliver_to is not None:
            self.delivered += 1
            self._deliver_to(snapshot)
