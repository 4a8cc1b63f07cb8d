"""The small parts on their own: backoff, connectivity, the status file, the signing of
the exact path and query as sent."""

from __future__ import annotations

import itertools
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from contract.signing import MemoryNonceStore, new_secret, verify
from sync.backoff import Backoff
from sync.client import HubClient
from sync.connectivity import Connectivity
from sync.status import StatusFile, read_status


def test_backoff_is_full_jitter_under_a_doubling_ceiling_and_a_cap() -> None:
    draws = itertools.chain([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.5], itertools.repeat(1.0))
    backoff = Backoff(0.5, 3.0, rand=lambda: next(draws))
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert backoff.next_delay() == 0.0  # full jitter: anywhere from 0
    backoff.reset()
    assert backoff.next_delay() == 0.25
    for _ in range(2000):  # a long outage never overflows
        backoff.next_delay()
    assert backoff.ceiling() == 3.0


def test_connectivity_window_and_failures() -> None:
    now = [100.0]
    seen = Connectivity(window_s=10, monotonic=lambda: now[0])
    assert not seen.online() and seen.failing_for() is None
    seen.succeeded()
    assert seen.online()
    now[0] += 11
    assert not seen.online()  # too long ago to know
    seen.succeeded()
    seen.failed("refused")
    assert not seen.online() and seen.failing_for() == 0
    now[0] += 3
    assert seen.failing_for() == 3
    seen.succeeded()
    assert seen.online() and seen.failing_for() is None


def test_status_file_round_trip(tmp_path: Path) -> None:
    status = StatusFile(tmp_path)
    status.update(state="running", acked_seq=7, last_error="x")
    assert read_status(tmp_path).acked_seq == 7
    assert StatusFile(tmp_path).current.last_error == "x"  # a restart keeps it
    (tmp_path / "sync-status.json").write_text("garbage")
    assert read_status(tmp_path).state == "never run"


class _Echo(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, dict[str, str]]]] = []

    def do_GET(self) -> None:
        _Echo.seen.append((self.path, dict(self.headers.items())))
        body = b'{"since":3,"version":3,"accounts":[],"removed":[]}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_the_signature_covers_the_path_and_query_exactly_as_sent() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    secret = new_secret()
    try:
        client = HubClient(f"http://127.0.0.1:{server.server_port}/", "k1", secret)
        client.delta(3)
    finally:
        server.shutdown()
        server.server_close()
    path, headers = _Echo.seen[-1]
    assert path == "/v1/accounts/delta?since=3"
    assert (
        verify("GET", path, b"", headers, secret_for=lambda _k: secret, nonces=MemoryNonceStore())
        == "k1"
    )
