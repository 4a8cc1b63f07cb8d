"""A device's serial port: one reader thread, locked writes, and reconnection.

Shaped after pyserial's threaded ``Protocol``/``ReaderThread``: bytes arrive on the reader
thread and go to a :class:`LinkProtocol`, which turns them into frames and frames into events.
Unlike ``ReaderThread`` the link survives the port going away (a USB adapter pulled out): it
reports the loss, keeps trying to reopen the same path (a stable udev symlink in the field,
the emulator's symlink in tests), and reports the connection again when the device is back.
Pseudo-terminals have no modem lines; pyserial tolerates the ioctl errors that causes.
"""

from __future__ import annotations

import contextlib
import logging
import termios
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import serial

from devices.worker import Worker
from kiosk.ports import DeviceError

log = logging.getLogger(__name__)


class LinkDown(DeviceError, ConnectionError):
    """A write to a port that is not connected right now."""


class LinkProtocol(Protocol):
    def connection_made(self, link: SerialLink) -> None: ...
    def data_received(self, data: bytes) -> None: ...
    def connection_lost(self, error: Exception | None) -> None: ...


@dataclass(frozen=True)
class PortSettings:
    baudrate: int = 9600
    bytesize: int = serial.EIGHTBITS
    parity: str = serial.PARITY_NONE
    stopbits: float = serial.STOPBITS_ONE


class SerialLink:
    def __init__(
        self,
        port: str,
        protocol: LinkProtocol,
        settings: PortSettings | None = None,
        *,
        name: str = "device",
        read_timeout: float = 0.02,
        reconnect_interval: float = 0.25,
        on_absent: Callable[[], None] | None = None,
    ) -> None:
        """``on_absent`` is called (on the reader thread) when the port can not be opened at
        the first try after :meth:`start`: a device missing at start-up has never been
        connected, so :meth:`LinkProtocol.connection_lost` would never tell."""
        self.port = port
        self.protocol = protocol
        self.settings = settings or PortSettings()
        self.name = name
        self.read_timeout = read_timeout
        self.reconnect_interval = reconnect_interval
        self.on_absent = on_absent
        self._serial: serial.Serial | None = None
        self._write_lock = threading.Lock()
        self._connected = threading.Event()
        self._worker: Worker | None = None
        self._first = True  # no open attempt yet since start()
        self._opened_once = False
        self.reconnects = 0

    # ------------------------------------------------------------------ life cycle
    def start(self) -> None:
        if self._worker is not None:
            return
        self._first, self._opened_once = True, False
        worker = Worker(f"{self.name}-reader", lambda: self._step(worker))
        self._worker = worker
        worker.start()

    def stop(self, timeout: float = 2.0) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop(timeout)
        self._close(None, report=False)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def write(self, data: bytes) -> None:
        with self._write_lock:
            port = self._serial
            if port is None or not self._connected.is_set():
                raise LinkDown(f"{self.name}: {self.port} is not connected")
            try:
                port.write(data)
                port.flush()
            except (serial.SerialException, OSError, termios.error) as exc:
                # termios.error: tcdrain() on a port whose device just vanished (EIO)
                raise LinkDown(f"{self.name}: write to {self.port} failed: {exc}") from exc

    def reset_input(self) -> None:
        port = self._serial
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError, termios.error):
                port.reset_input_buffer()

    # ------------------------------------------------------------------ the reader thread
    def _open(self) -> bool:
        try:
            port = serial.Serial(
                self.port,
                baudrate=self.settings.baudrate,
                bytesize=self.settings.bytesize,
                parity=self.settings.parity,
                stopbits=self.settings.stopbits,
                timeout=self.read_timeout,
                exclusive=True,
            )
        except (serial.SerialException, OSError, ValueError, termios.error):
            # termios.error: pyserial lets tcsetattr failures through (e.g. a pty refusing
            # 7E1); it is not an OSError, and uncaught it would end the reconnect loop
            return False
        self._serial = port
        self._connected.set()
        log.info("%s: connected on %s", self.name, self.port)
        try:
            self.protocol.connection_made(self)
        except Exception:
            log.exception("%s: protocol failed on connection", self.name)
        return True

    def _close(self, error: Exception | None, report: bool = True) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()  # writes from now on fail at once, as LinkDown
        # A write already under way on another thread finishes (or fails, as LinkDown) first:
        # pyserial closed under a write fails inside select() with a TypeError, which no
        # driver would read as the lost line it is (a card sale would never be in doubt).
        with self._write_lock:
            port, self._serial = self._serial, None
            if port is not None:
                with contextlib.suppress(serial.SerialException, OSError):
                    port.close()
        if report and was_connected:
            log.warning("%s: lost %s (%s)", self.name, self.port, error)
            try:
                self.protocol.connection_lost(error)
            except Exception:
                log.exception("%s: protocol failed on connection loss", self.name)

    def _step(self, worker: Worker) -> None:
        """Open the port if it is not open (then wait a while if that failed), else read once."""
        if self._serial is None:
            opened = self._open()
            first, self._first = self._first, False
            if not opened:
                if first and self.on_absent is not None:
                    self.on_absent()
                worker.sleep(self.reconnect_interval)
                return
            if self._opened_once:
                self.reconnects += 1
            self._opened_once = True
        port = self._serial
        if port is None:
            return
        try:
            data = port.read(port.in_waiting or 1)
        except (serial.SerialException, OSError, TypeError) as exc:
            # TypeError: pyserial reading a port closed under it by stop()
            self._close(exc)
            return
        if data:
            try:
                self.protocol.data_received(data)
            except Exception:
                log.exception("%s: protocol failed on %d bytes; skipped", self.name, len(data))
