"""A served hub refuses an unsigned body before reading it, cuts off a body that trickles,
and reads only so many bodies at once (raw sockets: an HTTP client would send the body)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contract import signing
from tests.sync.hubproc import RunningHub

PATH = "/v1/kiosks/k1/journal"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[RunningHub, str]]:
    hub = RunningHub(tmp_path)
    try:
        code = hub.create_kiosk("k1")
        hub.start(env={"KIOSK_HUB_BODY_TIMEOUT_S": "1", "KIOSK_HUB_MAX_BODIES": "1"})
        enrolled = httpx.post(
            f"{hub.url}/v1/enroll", json={"code": code, "hardware": {"hostname": "k1"}}, timeout=5
        )
        assert enrolled.status_code == 200, enrolled.text
        yield hub, enrolled.json()["secret"]
    finally:
        hub.stop()


def _open(hub: RunningHub, headers: dict[str, str], length: int) -> socket.socket:
    """A POST whose headers are sent, and none of its body."""
    sock = socket.create_connection(("127.0.0.1", hub.port), timeout=10)
    lines = [f"POST {PATH} HTTP/1.1", "Host: hub", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {length}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def _status(sock: socket.socket) -> tuple[int, bytes]:
    """The status of the answer the hub sends (a time-out here fails the test)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1]), data


def _signed_headers(secret: str) -> dict[str, str]:
    return signing.sign("POST", PATH, b"{}", "k1", secret)


def test_a_request_without_valid_headers_is_refused_before_its_body_is_sent(
    served: tuple[RunningHub, str],
) -> None:
    hub, secret = served
    stale = {"X-Kiosk-Id": "k1", "X-Timestamp": "1", "X-Nonce": "n" * 16, "X-Signature": "0" * 64}
    unknown_kiosk = signing.sign("POST", PATH, b"", "k2", secret)
    for headers in ({}, stale, unknown_kiosk):
        with _open(hub, headers, 4_000_000) as sock:
            status, answer = _status(sock)
        assert status == 401 and b"connection: close" in answer.lower(), headers


def test_a_trickling_body_is_cut_off_and_bodies_read_at_once_are_bounded(
    served: tuple[RunningHub, str],
) -> None:
    hub, secret = served
    with _open(hub, _signed_headers(secret), 1000) as slow:
        slow.sendall(b'{"entries": [')
        # one round trip through the hub's event loop: it has taken up that body by then
        assert httpx.get(f"{hub.url}/v1/health", timeout=5).status_code == 200
        with _open(hub, _signed_headers(secret), 1000) as second:
            status, _ = _status(second)
            assert status == 503
        started = time.monotonic()
        status, answer = _status(slow)
    assert status == 408, answer
    assert time.monotonic() - started < 5
