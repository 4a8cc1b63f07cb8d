"""The kiosk's network cable, for the demo: a TCP relay to the hub that can be pulled out.

The kiosk talks to the hub through this relay on 127.0.0.1. :meth:`NetworkLink.cut` does
what pulling the cable does to a kiosk: connections in flight break, and new ones
fail at once (the listening socket is closed, so the operating system refuses them, as a
kiosk with its link down gets "network unreachable"). :meth:`NetworkLink.restore` listens
again on the same port. Bytes are relayed untouched in both directions; the relay knows
nothing of HTTP.
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
        self.port = 0
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._accepter: threading.Thread | None = None
        self._open: set[socket.socket] = set()
        self._closed = False
        self._listen()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def online(self) -> bool:
        return self._listener is not None

    def set_online(self, online: bool) -> None:
        if online:
            self.restore()
        else:
            self.cut()

    def cut(self) -> None:
        """The cable is out: stop listening and break every connection in flight."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        if self._accepter is not None:
            self._accepter.join(5)
        with self._lock:
            open_now, self._open = set(self._open), set()
        for sock in open_now:
            _break(sock)

    def restore(self) -> None:
        """The cable is back: listen again, on the same port."""
        if self._listener is None and not self._closed:
            self._listen(self.port)

    def close(self) -> None:
        self._closed = True
        self.cut()

    # ---------------------------------------------------------------- plumbing

    def _listen(self, port: int = 0) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, port))
        listener.listen(16)
        listener.settimeout(0.2)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accepter = threading.Thread(
            target=self._accept, args=(listener,), name="network-link", daemon=True
        )
        self._accepter.start()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                full = len(self._open) >= 2 * MAX_CONNECTIONS
            if full:
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
