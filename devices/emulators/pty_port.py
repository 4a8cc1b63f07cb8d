"""The device end of a pseudo-terminal, behind a stable path that can be unplugged.

In the field a udev rule gives each device a stable name (``/dev/kiosk-bill-acceptor``)
however the USB adapters enumerate. An emulator does the same with a symlink to its pty's
slave side, so the driver opens one path for its whole life; ``unplug`` closes the pty and
removes the link (the driver sees the port vanish, as with a pulled USB cable) and ``replug``
makes a new pty behind the same link.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path


class PtyPort:
    def __init__(self, link: Path | None = None) -> None:
        self.link = link
        self._master: int | None = None
        self._slave: int | None = None
        self.slave_name = ""
        self._lock = threading.Lock()

    @property
    def path(self) -> str:
        """What the driver opens: the stable link if there is one, else the pty itself."""
        return str(self.link) if self.link is not None else self.slave_name

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def open(self) -> None:
        master, slave = pty.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        # a host that stops reading must not block the emulator (nor its unplug) forever
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.slave_name = os.ttyname(slave)
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".new")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self.slave_name)
            os.replace(tmp, self.link)

    def close(self) -> None:
        with self._lock:
            for fd in (self._master, self._slave):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._master = self._slave = None
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()

    unplug = close

    def replug(self) -> None:
        if not self.plugged:
            self.open()

    def read(self, timeout: float) -> bytes:
        """Bytes the host sent, or b"" after ``timeout`` (or while unplugged)."""
        master = self._master
        if master is None:
            time.sleep(timeout)  # unplugged: wait as a read would, so loops do not spin
            return b""
        try:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                return b""
            return os.read(master, 4096)
        except (BlockingIOError, OSError, ValueError):
            return b""

    def write(self, data: bytes) -> None:
        with self._lock:
            master = self._master
            if master is None:
                return  # unplugged: the bytes go nowhere, as on a pulled cable
            view = memoryview(data)
            while view:
                try:
                    written = os.write(master, view)
                except BlockingIOError:
                    return  # the host's input buffer is full: like a UART, the rest is lost
                except OSError:
                    return
                view = view[written:]


class EmulatorLoop:
    """Runs ``handle(bytes)`` for everything the host sends, on a thread of its own."""

    def __init__(self, port: PtyPort, handle: Callable[[bytes], None], name: str) -> None:
        self.port = port
        self.handle = handle
        self._running = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{name}-emulator", daemon=True)

    def start(self) -> None:
        if not self.port.plugged:
            self.port.open()
        self._running.set()
        self._thread.start()

    def stop(self) -> None:
        self._running.clear()
        self._thread.join(2.0)
        self.port.close()

    def _run(self) -> None:
        while self._running.is_set():
            data = self.port.read(0.02)
            if data:
                self.handle(data)
