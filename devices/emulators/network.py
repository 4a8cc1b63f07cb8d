"""The kiosk's network cable, for the demo: a TCP relay to the hub that can be pulled out.

The kiosk talks to the hub through this relay on 127.0.0.1. :meth:`NetworkLink.cut` does
what pulling the cable does to a kiosk: connections in flight break, and every new one is
reset before a byte of it reaches the hub, so requests fail at once, as they do on a kiosk
whose link is down ("network unreachable"), not after a time-out. :meth:`NetworkLink.restore`
relays again. The relay keeps its port from start to close (a port given up while the cable
is out could be taken by another program). Bytes are relayed untouched in both directions;
the relay knows nothing of HTTP.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading

log = logging.getLogger(__name__)

CHUNK = 65536
MAX_CONNECTIONS = 32
IO_TIMEOUT_S = 60.0


class NetworkLink:
    def __init__(self, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.upstream = (host, upstream_port)
        self.host = host
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._online = True
        self._closed = threading.Event()
        self._listener = socket.create_server((host, 0), backlog=16)
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._accepter = threading.Thread(target=self._accept, name="network-link", daemon=True)
        self._accepter.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def online(self) -> bool:
        return self._online and not self._closed.is_set()

    def set_online(self, online: bool) -> None:
        if online:
            self.restore()
        else:
            self.cut()

    def cut(self) -> None:
        """The cable is out: break every connection in flight, reset every new one."""
        self._online = False
        with self._lock:
            open_now, self._open = set(self._open), set()
        for sock in open_now:
            _break(sock)

    def restore(self) -> None:
        """The cable is back in: relay again."""
        self._online = True

    def close(self) -> None:
        self.cut()
        self._closed.set()
        self._accepter.join(5)
        self._listener.close()

    # ---------------------------------------------------------------- plumbing

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                full = len(self._open) >= 2 * MAX_CONNECTIONS
            if full or not self.online:
                _reset(client)
                continue
            threading.Thread(
                target=self._connect, args=(client,), name="network-link-conn", daemon=True
            ).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=IO_TIMEOUT_S)
        except OSError as exc:
            log.info("network link: the hub is not there: %s", exc)
            _reset(client)
            return
        for sock in (client, upstream):
            sock.settimeout(IO_TIMEOUT_S)
        with self._lock:
            self._open |= {client, upstream}
        down = threading.Thread(
            target=self._pump, args=(upstream, client), name="network-link-down", daemon=True
        )
        down.start()
        self._pump(client, upstream)
        down.join()
        with self._lock:
            self._open -= {client, upstream}
        for sock in (client, upstream):
            with contextlib.suppress(OSError):
                sock.close()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        """Copy one direction until it ends; a clean end is passed on as a half-close, a
        broken one breaks the other direction too."""
        try:
            while chunk := source.recv(CHUNK):
                sink.sendall(chunk)
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
        except OSError:
            _break(sink)
            _break(source)


def _break(sock: socket.socket) -> None:
    """Break a connection another thread is using: shutting it down wakes that thread's
    ``recv`` (closing it would not), and the linger of 0 makes the close a reset."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _reset(sock: socket.socket) -> None:
    """Close with RST rather than FIN: the peer sees "connection reset"."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()
