"""What every polled serial driver does alike (EBDS and ID-003 bill acceptors).

Such a device speaks only to answer, so its driver owns a serial link (whose reader thread
feeds :class:`~devices.replies.Replies`) and a poll thread (a :class:`~devices.worker.Worker`
running :meth:`PolledDriver._step`). The life cycle, the ready signal, where events go and
the health sent after each of them, the counters of the line, and what a lost or reopened
port means are the same whatever the protocol; the protocol is the subclass: what it sends
each step, and what its tracker makes of the answers and of silence.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from typing import Any

from devices.frames import StreamAssembler
from devices.health import CLOSED
from devices.outlet import EventOutlet
from devices.replies import Replies
from devices.serial_link import PortSettings, SerialLink
from devices.worker import Worker
from kiosk.ports import DeviceHealth, Emit


class PolledDriver(ABC):
    """The shared half of a polled driver; ``_lock`` guards the subclass's state too."""

    def __init__(
        self,
        name: str,
        port: str,
        settings: PortSettings,
        assembler: StreamAssembler[Any],
        *,
        reconnect_interval: float,
    ) -> None:
        self.name = name
        self.link = SerialLink(
            port, self, settings, name=name, reconnect_interval=reconnect_interval
        )
        self._lock = threading.Lock()
        self._outlet = EventOutlet(name)
        self._assembler = assembler
        self._replies = Replies(assembler)
        self._io: dict[str, int] = {}
        self._worker: Worker | None = None
        self._ready = threading.Event()
        self._opened_at = 0.0
        self._next_poll = 0.0  # poll thread only

    # ------------------------------------------------------------------ what the protocol says
    @abstractmethod
    def _step(self, worker: Worker) -> None:
        """One turn of the poll thread: send what is due, or sleep until it is."""

    @abstractmethod
    def _on_lost(self) -> list[object]:
        """The events silence (or a vanished port) means; called under ``_lock``."""

    @abstractmethod
    def _device_health(self) -> DeviceHealth:
        """The health the last answer (or silence) left; called under ``_lock``."""

    def _finish(self) -> None:  # noqa: B027 - a hook: most protocols have nothing to do
        """The poll thread is ending (``close``): release whoever waits on it."""

    def _reconnected(self) -> None:  # noqa: B027 - a hook: most protocols have nothing to do
        """The port opened (again): it may be another device now."""

    # ------------------------------------------------------------------ life cycle
    def open(self) -> None:
        if self._worker is not None:
            return
        self._opened_at = self._next_poll = time.monotonic()
        self.link.start()
        worker = Worker(f"{self.name}-poll", lambda: self._step(worker), finish=self._finish)
        self._worker = worker
        worker.start()

    def close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.stop(2.0)
        self.link.stop()
        self._ready.clear()

    @property
    def _open(self) -> bool:
        return self._worker is not None

    def wait_ready(self, timeout: float) -> bool:
        """True once the device has answered (since ``open``)."""
        return self._ready.wait(timeout)

    def attach(self, emit: Emit) -> None:
        self._outlet.attach(emit)

    def health(self) -> DeviceHealth:
        if not self._open:
            return CLOSED
        with self._lock:
            return self._device_health()

    def _link_counters(self) -> dict[str, int]:
        """The line as a technician reads it: frames, damaged ones, noise, reconnections."""
        with self._replies.lock:
            stats = self._assembler.stats
            counts = {
                "frames": stats.frames,
                "bad_checksums": stats.checksum_errors,
                "length_errors": stats.length_errors,
                "garbage_bytes": stats.garbage_bytes,
            }
        counts["reconnects"] = self.link.reconnects
        return counts

    # ------------------------------------------------------------------ LinkProtocol
    def connection_made(self, link: SerialLink) -> None:
        self._replies.connected(link)
        self._reconnected()

    def data_received(self, data: bytes) -> None:
        self._replies.received(data)

    def connection_lost(self, error: Exception | None) -> None:
        self._replies.lost()
        self._lost()
        self._wake()

    # ------------------------------------------------------------------ for the poll thread
    def _wake(self) -> None:
        worker = self._worker
        if worker is not None:
            worker.wake()

    def _lost(self) -> None:
        with self._lock:
            events = self._on_lost()
        self._send(events)

    def _bump(self, name: str) -> None:
        with self._lock:
            self._io[name] += 1

    def _send(self, events: list[object]) -> None:
        """What the last answer (or silence) meant, then the health it left: the outlet says
        the device recovered when a fault is over (every poll comes through here)."""
        self._outlet.send(*events)
        self._outlet.health_now(self.health())
