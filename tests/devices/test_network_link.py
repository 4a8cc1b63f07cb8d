"""The demo's network cable: bytes pass untouched, pulling it breaks and refuses
connections, plugging it back in serves the same port again."""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
from collections.abc import Iterator

import pytest

from devices.emulators.network import NetworkLink


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A server on 127.0.0.1 that sends back what it gets, upper-cased, until the peer
    closes its side."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            try:
                while data := conn.recv(65536):
                    conn.sendall(data.upper())
            except OSError:
                pass

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(2)
    server.close()


def ask(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_bytes_pass_both_ways_untouched(echo_port: int) -> None:
    link = NetworkLink(echo_port)
    try:
        assert ask(link.port, b"hello hub") == b"HELLO HUB"
        big = bytes(range(97, 123)) * 40_000  # about 1 MB, many chunks
        assert ask(link.port, big) == big.upper()
    finally:
        link.close()


def test_a_pulled_cable_resets_new_connections_and_breaks_open_ones(echo_port: int) -> None:
    link = NetworkLink(echo_port)
    try:
        open_one = socket.create_connection(("127.0.0.1", link.port), timeout=5)
        open_one.sendall(b"ping")
        assert open_one.recv(100) == b"PING"
        link.cut()
        assert not link.online
        with pytest.raises(OSError) as broken:
            ask(link.port, b"anyone?")
        # reset, a broken pipe, or "not connected" when the reset came before our shutdown
        assert broken.value.errno in {errno.ECONNRESET, errno.EPIPE, errno.ENOTCONN}
        with contextlib.suppress(OSError):  # a reset is just as broken as an end
            open_one.sendall(b"still there?")
            assert open_one.recv(100) == b""
        open_one.close()
        port = link.port
        link.restore()
        assert link.online and link.port == port
        assert ask(link.port, b"back") == b"BACK"
    finally:
        link.close()


def test_a_hub_that_is_down_behind_the_cable_is_a_broken_connection() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nobody = int(probe.getsockname()[1])
    link = NetworkLink(nobody)
    try:
        # the link accepts, finds nobody behind it and drops the connection: the client sees
        # an end of stream or a reset, on a busy machine already while connecting
        with contextlib.suppress(ConnectionResetError):
            sock = socket.create_connection(("127.0.0.1", link.port), timeout=5)
            with sock:
                assert sock.recv(100) == b""
    finally:
        link.close()


def test_a_closed_link_stays_unplugged_and_gives_its_port_back(echo_port: int) -> None:
    link = NetworkLink(echo_port)
    link.close()
    link.restore()
    assert not link.online
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", link.port), timeout=5)
