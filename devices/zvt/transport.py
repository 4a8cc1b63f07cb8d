"""How APDUs reach the terminal: a serial line with ZVT framing, or TCP on the LAN.

The driver talks to an :class:`ApduTransport` and does not care which:

* :class:`SerialTransport`: 9600 baud, 8 data bits, no parity, 2 stop bits; each APDU in a
  ``DLE STX ... DLE ETX CRC`` frame, acknowledged with ACK/NAK and sent again when it is not
  (:mod:`devices.zvt.link`), over a :class:`~devices.serial_link.SerialLink` that reopens the
  port by itself when a USB adapter comes back.
* :class:`TcpTransport`: ZVT over TCP (port 20007 by convention) has no framing and no
  ACK/NAK: APDUs follow each other on the stream, split by their length fields. TCP_NODELAY
  is set (each APDU is small and answered before the next), keep-alive too, and a lost
  connection is reopened every ``reconnect_interval``.

Both report a loss to the reader once (:class:`~devices.zvt.link.LinkLost`) so a driver
waiting for an answer learns that the answer may never come.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
from typing import Protocol

import serial

from devices.serial_link import LinkDown, PortSettings, SerialLink
from devices.worker import Worker
from devices.zvt import apdu as zvt_apdu
from devices.zvt.link import LOST, LinkEndpoint, LinkLost, LinkTiming, LostMarker

log = logging.getLogger(__name__)

ZVT_SETTINGS = PortSettings(
    baudrate=9600,
    bytesize=serial.EIGHTBITS,
    parity=serial.PARITY_NONE,
    stopbits=serial.STOPBITS_TWO,
)
"""The ZVT serial line: 9600 baud, 8N2."""

DEFAULT_TCP_PORT = 20007


class ApduTransport(Protocol):
    name: str

    def start(self) -> None: ...
    def stop(self) -> None: ...
    @property
    def connected(self) -> bool: ...
    def wait_connected(self, timeout: float) -> bool: ...
    def send(self, raw: bytes, within: float | None = None) -> bool:
        """Deliver one encoded APDU; False when it could not be (no line, no ACK).

        ``within``: no repeat of the frame starts, and no wait for its ACK lasts, past this
        many seconds from now (the serial line's T2 and repeats otherwise decide)."""

    def receive(self, timeout: float) -> bytes | None:
        """The next APDU, None after ``timeout``; raises LinkLost once per loss."""

    def discard_pending(self) -> int: ...
    def counters(self) -> dict[str, int]: ...


class SerialTransport:
    """ZVT's serial transport protocol on ``port`` (a stable path such as /dev/kiosk-card)."""

    def __init__(
        self,
        port: str,
        *,
        settings: PortSettings | None = None,
        timing: LinkTiming | None = None,
        reconnect_interval: float = 0.25,
        name: str = "card_terminal",
    ) -> None:
        self.name = name
        self.endpoint = LinkEndpoint(self._write, timing, name=name)
        self.link = SerialLink(
            port,
            self,
            settings or ZVT_SETTINGS,
            name=name,
            reconnect_interval=reconnect_interval,
        )

    # ------------------------------------------------------------------ ApduTransport
    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self.link.stop()

    @property
    def connected(self) -> bool:
        return self.link.connected

    def wait_connected(self, timeout: float) -> bool:
        return self.link.wait_connected(timeout)

    def send(self, raw: bytes, within: float | None = None) -> bool:
        return self.endpoint.send(raw, lambda: self.link.connected, within)

    def receive(self, timeout: float) -> bytes | None:
        return self.endpoint.receive(timeout)

    def discard_pending(self) -> int:
        return self.endpoint.discard_pending()

    def counters(self) -> dict[str, int]:
        return {**self.endpoint.stats(), "reconnects": self.link.reconnects}

    # ------------------------------------------------------------------ LinkProtocol
    def connection_made(self, link: SerialLink) -> None:
        link.reset_input()
        self.endpoint.reset()

    def data_received(self, data: bytes) -> None:
        self.endpoint.feed(data)

    def connection_lost(self, error: Exception | None) -> None:
        self.endpoint.lost()

    def _write(self, data: bytes) -> None:
        try:
            self.link.write(data)
        except LinkDown as exc:
            raise ConnectionError(str(exc)) from exc


class TcpTransport:
    """ZVT over TCP: raw APDUs on a stream, reconnected when the connection drops."""

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_TCP_PORT,
        *,
        connect_timeout: float = 3.0,
        reconnect_interval: float = 1.0,
        name: str = "card_terminal",
    ) -> None:
        self.host, self.port, self.name = host, port, name
        self.connect_timeout = connect_timeout
        self.reconnect_interval = reconnect_interval
        self._sock: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._connected = threading.Event()
        self._worker: Worker | None = None
        self._connected_once = False
        self._inbox: queue.Queue[bytes | LostMarker] = queue.Queue()
        self.counts: dict[str, int] = {
            "apdus_sent": 0,
            "apdus_received": 0,
            "send_failures": 0,
            "reconnects": 0,
        }

    def start(self) -> None:
        if self._worker is not None:
            return
        self._connected_once = False
        worker = Worker(f"{self.name}-tcp", lambda: self._step(worker))
        self._worker = worker
        worker.start()

    def stop(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.request_stop()
        self._drop()
        if worker is not None:
            worker.join(2.0)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def send(self, raw: bytes, within: float | None = None) -> bool:
        """TCP has no ACK or repeats: the APDU is written at once (``within`` has nothing
        to bound)."""
        with self._send_lock:
            sock = self._sock
            if sock is None or not self._connected.is_set():
                self.counts["send_failures"] += 1
                return False
            try:
                sock.sendall(raw)
            except OSError as exc:
                log.warning("%s: send to %s:%d failed: %s", self.name, self.host, self.port, exc)
                self.counts["send_failures"] += 1
                self._drop()
                return False
            self.counts["apdus_sent"] += 1
            return True

    def receive(self, timeout: float) -> bytes | None:
        try:
            item = self._inbox.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if isinstance(item, LostMarker):
            raise LinkLost(f"{self.name}: connection to {self.host}:{self.port} lost")
        return item

    def discard_pending(self) -> int:
        dropped = 0
        while True:
            try:
                self._inbox.get_nowait()
            except queue.Empty:
                return dropped
            dropped += 1

    def counters(self) -> dict[str, int]:
        return dict(self.counts)

    # ------------------------------------------------------------------ the reader thread
    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), self.connect_timeout)
        except OSError:
            return None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.settimeout(0.1)
        return sock

    def _drop(self) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        if was:
            log.warning("%s: lost %s:%d", self.name, self.host, self.port)
            self._inbox.put(LOST)

    def _step(self, worker: Worker) -> None:
        """Connect, read until the connection drops, then wait a while before the next try."""
        sock = self._connect()
        if sock is not None:
            if self._connected_once:
                self.counts["reconnects"] += 1
            self._connected_once = True
            self._sock = sock
            self._connected.set()
            log.info("%s: connected to %s:%d", self.name, self.host, self.port)
            self._read(worker, sock)
            self._drop()
        worker.sleep(self.reconnect_interval)

    def _read(self, worker: Worker, sock: socket.socket) -> None:
        buffer = bytearray()
        while worker.running and self._sock is sock:
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while (total := zvt_apdu.header_length(buffer)) is not None and len(buffer) >= total:
                self._inbox.put(bytes(buffer[:total]))
                self.counts["apdus_received"] += 1
                del buffer[:total]
