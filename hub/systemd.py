"""Telling systemd a service is ready and still alive: ``sd_notify(3)``'s protocol.

A unit with ``Type=notify`` waits for ``READY=1`` before it counts the service as started
(units ordered after it, a balancer's health check in a deployment script); with
``WatchdogSec=`` systemd expects ``WATCHDOG=1`` at least that often and restarts a process
that stops sending it: a hub whose event loop hangs, a kiosk whose engine or screen hangs.

The protocol is one datagram of ``KEY=value`` lines to the Unix socket named by
``$NOTIFY_SOCKET`` (a path, or an abstract name written with a leading ``@``); the watchdog's
period is ``$WATCHDOG_USEC`` microseconds, meant for this process when ``$WATCHDOG_PID`` is
unset or is its pid. Written from the man pages ``sd_notify(3)`` and ``sd_watchdog_enabled(3)``
rather than taken from a package: PyPI's ``sdnotify`` is untyped and unmaintained, and
``systemd-python`` needs libsystemd's headers to build. Outside systemd every call is a
no-op, so the demo and the tests run the same code.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """``READY=1``, ``WATCHDOG=1``, ``STOPPING=1`` and ``STATUS=…`` to systemd, if it listens."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.address = env.get("NOTIFY_SOCKET", "")
        self.watchdog_s = watchdog_period(env)

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def ready(self, status: str = "") -> None:
        self._send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def alive(self) -> None:
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def status(self, text: str) -> None:
        self._send(f"STATUS={text}")

    def _send(self, message: str) -> None:
        if not self.address:
            return
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message.encode("utf-8"), target)
        except OSError as exc:  # systemd gone or restarting: the service goes on
            log.warning("could not notify systemd (%s): %s", self.address, exc)


def watchdog_period(env: Mapping[str, str]) -> float | None:
    """How often systemd wants ``WATCHDOG=1``, in seconds, or None when it does not."""
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None
    return int(usec) / 1_000_000


def ping_interval(period: float) -> float:
    """Half the watchdog's period, as sd_watchdog_enabled(3) advises."""
    return period / 2
