"""A fault-injecting TCP proxy for HTTP/1.1, written for the sync tests.

It sits between the kiosk's client and a real hub on 127.0.0.1 and does to each request
what the current mode says:

=============  =====================================================================
``pass``       forward the request, relay the answer
``refuse``     close the client's connection at once (reset), nothing forwarded
``drop_before``read the request, close without forwarding it (the hub never saw it)
``drop_after`` forward, read the hub's whole answer, close without relaying it: the hub
               committed, the kiosk never heard
``delay``      hold the request ``delay_s`` (past the client's time-out), then forward
               it anyway; the answer, if the client is still there, is relayed
``reset``      forward, then relay only the first part of the answer and reset the
               connection (a truncated response)
``error500``   answer ``500 Internal Server Error`` itself, forwarding nothing
``random``     one of the above per request, drawn from a seeded generator
=============  =====================================================================

:meth:`FaultProxy.pause` closes the listening socket (connections are *refused* by the OS,
like a hub that is down) and :meth:`FaultProxy.resume` listens again on the same port.

Each connection carries one request: the proxy asks the hub to close after answering
(``Connection: close``), which the hub echoes to the client, so no connection is reused
across a mode change. Everything is bounded: 127.0.0.1 only, socket time-outs, a size cap
on requests and answers, a cap on concurrent connections, daemon threads joined on stop.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Sequence

MODES = ("pass", "refuse", "drop_before", "drop_after", "delay", "reset", "error500")
DEFAULT_MIX: dict[str, float] = {
    "pass": 0.55,
    "refuse": 0.05,
    "drop_before": 0.08,
    "drop_after": 0.12,
    "delay": 0.04,
    "reset": 0.08,
    "error500": 0.08,
}
MAX_MESSAGE = 16 * 1024 * 1024
MAX_CONNECTIONS = 64
IO_TIMEOUT_S = 15.0
_BODY_500 = b'{"error":"internal","message":"injected by the test proxy"}'
_ERROR_500 = (
    b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
    + f"content-length: {len(_BODY_500)}\r\nconnection: close\r\n\r\n".encode()
    + _BODY_500
)


class FaultProxy:
    def __init__(
        self,
        upstream_port: int,
        *,
        mode: str = "pass",
        seed: int = 0,
        delay_s: float = 2.0,
        mix: dict[str, float] | None = None,
    ) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.delay_s = delay_s
        self.mix = mix or DEFAULT_MIX
        self._mode = "pass"
        self.set_mode(mode)
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._accepter: threading.Thread | None = None
        self.applied: Counter[str] = Counter()
        self._held: socket.socket | None = None
        self.port = 0
        self._listen_on(_bound(0))

    # ------------------------------------------------------------------ control

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_mode(self, mode: str) -> None:
        if mode not in (*MODES, "random"):
            raise ValueError(f"unknown mode {mode!r}")
        self._mode = mode

    def pause(self) -> None:
        """Stop listening: new connections are refused by the OS. The port stays the
        proxy's: a socket bound to it (not listening) holds it until :meth:`resume` listens
        on that very socket, so no other process can take the port during an outage."""
        if self._listener is None:
            return
        self._held = _bound(self.port)  # bound beside the listener (SO_REUSEPORT) first
        listener, self._listener = self._listener, None
        listener.close()
        if self._accepter is not None:
            self._accepter.join(5)

    def resume(self) -> None:
        if self._listener is None and self._held is not None:
            held, self._held = self._held, None
            self._listen_on(held)

    def stop(self) -> None:
        self._stopping.set()
        self.pause()
        if self._held is not None:
            self._held.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(self.delay_s + 5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- plumbing

    def _listen_on(self, listener: socket.socket) -> None:
        listener.listen(64)
        listener.settimeout(0.2)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accepter = threading.Thread(
            target=self._accept, args=(listener,), name="proxy-accept", daemon=True
        )
        self._accepter.start()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopping.is_set() and self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                _reset(client)
                continue
            thread = threading.Thread(
                target=self._serve, args=(client,), name="proxy-conn", daemon=True
            )
            with self._lock:
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _pick(self) -> str:
        if self._mode != "random":
            return self._mode
        names: Sequence[str] = list(self.mix)
        with self._lock:
            return self._random.choices(names, weights=[self.mix[n] for n in names])[0]

    def _serve(self, client: socket.socket) -> None:
        try:
            client.settimeout(IO_TIMEOUT_S)
            mode = self._pick()
            with self._lock:
                self.applied[mode] += 1
            if mode == "refuse":
                _reset(client)
                return
            request = _read_request(client)
            if request is None:
                return
            if mode == "drop_before":
                return
            if mode == "error500":
                client.sendall(_ERROR_500)
                return
            if mode == "delay" and self._stopping.wait(self.delay_s):
                return
            answer = self._forward(request)
            if answer is None or mode == "drop_after":
                return
            if mode == "reset":
                client.sendall(answer[: max(1, len(answer) * 2 // 3)])
                _reset(client)
                return
            client.sendall(answer)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                client.close()
            self._slots.release()

    def _forward(self, request: bytes) -> bytes | None:
        with socket.create_connection(self.upstream, timeout=IO_TIMEOUT_S) as upstream:
            upstream.sendall(request)
            chunks: list[bytes] = []
            size = 0
            while size <= MAX_MESSAGE:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        return b"".join(chunks) or None


def _read_request(sock: socket.socket) -> bytes | None:
    """One HTTP/1.1 request with a Content-Length body, rewritten to ``Connection: close``."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > 65536:
            return None
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = 0
    kept = [lines[0]]
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value.strip())
        if lowered in (b"connection", b"keep-alive"):
            continue
        kept.append(line)
    if length > MAX_MESSAGE:
        return None
    while len(body) < length:
        chunk = sock.recv(min(65536, length - len(body)))
        if not chunk:
            return None
        body += chunk
    kept.append(b"Connection: close")
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


def _bound(port: int) -> socket.socket:
    """A socket bound to ``port`` of 127.0.0.1 (0: one the system picks), not listening
    yet; SO_REUSEPORT lets the next one be bound to the same port while this one listens."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def _reset(sock: socket.socket) -> None:
    """Close with RST rather than FIN: the peer sees "connection reset"."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()
