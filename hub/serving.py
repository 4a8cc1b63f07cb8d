"""uvicorn's server, telling systemd how it is (:mod:`hub.systemd`).

``READY=1`` once it listens (a ``Type=notify`` unit counts it started then, not when the
process began); ``WATCHDOG=1`` from uvicorn's own tick, every 0.1 s on the event loop, at
half the watchdog's period: a loop that hangs stops the pings and systemd restarts the
process; ``STOPPING=1`` when it begins to shut down.
"""

from __future__ import annotations

import socket
import time

import uvicorn

from hub import __version__
from hub.systemd import Notifier, ping_interval


class NotifyingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, notifier: Notifier) -> None:
        super().__init__(config)
        self.notifier = notifier
        self.next_ping = 0.0

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.notifier.ready(f"serving {__version__}")

    async def on_tick(self, counter: int) -> bool:
        period = self.notifier.watchdog_s
        if period is not None and time.monotonic() >= self.next_ping:
            self.notifier.alive()
            self.next_ping = time.monotonic() + ping_interval(period)
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.notifier.stopping()
        await super().shutdown(sockets=sockets)
