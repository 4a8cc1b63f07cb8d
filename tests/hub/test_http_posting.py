"""The HTTP adapter against a billing system on 127.0.0.1 that answers too late.

A time-out does not say whether the billing system took the payment. With a look-up the
hub asks before sending again; without one it sends again under the same idempotency key.
Either way the billing system books the payment once and the hub keeps its reference.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.hub.harness import HubHarness, KioskSide
from tests.store.builders import cash_payment

pytestmark = pytest.mark.postgresql_in_slow_suite

SLOW_S = 0.6  # the billing system's first answer comes after the hub's time-out
TIMEOUT_S = 0.2


class SlowCis:
    """Books each idempotency key once, answers its first POST only after ``SLOW_S``, and
    looks payments up at ``GET /payments/<id>``. ``book_before_stall``: the payment is
    booked before the stall (only the answer is lost) or after it (the request is lost
    too: the time-out came before the billing system got to it)."""

    def __init__(self, book_before_stall: bool = True) -> None:
        self.book_before_stall = book_before_stall
        self.lookup_broken = False
        self.booked: dict[str, str] = {}  # idempotency key -> reference
        self.posts: list[str] = []
        self.lookups: list[str] = []
        self.lock = threading.Lock()
        cis = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                assert key == body["payment_id"]
                with cis.lock:
                    first = key not in cis.posts
                    cis.posts.append(key)
                if first and not cis.book_before_stall:
                    time.sleep(SLOW_S)
                    self._answer(504, {"error": "gave up"})
                    return
                with cis.lock:
                    reference = cis.booked.setdefault(key, f"CIS-{len(cis.booked) + 1:04d}")
                if first:
                    time.sleep(SLOW_S)
                self._answer(201, {"reference": reference, "status": "booked"})

            def do_GET(self) -> None:
                if self.path == "/health":
                    self._answer(200, {})
                    return
                payment_id = self.path.rsplit("/", 1)[-1]
                if cis.lookup_broken:
                    self._answer(503, {"error": "look-up unavailable"})
                    return
                with cis.lock:
                    cis.lookups.append(payment_id)
                    reference = cis.booked.get(payment_id)
                if reference is None:
                    self._answer(404, {"error": "no such payment"})
                else:
                    self._answer(200, {"reference": reference})

            def _answer(self, status: int, body: dict[str, str]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the hub stopped waiting

            def log_message(self, *args: object) -> None:
                pass

        # bound (and listening) here, before anyone is told its port
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 5
        while httpx.get(f"{self.base}/health", timeout=1).status_code != 200:
            assert time.monotonic() < deadline, "the billing system did not come up"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[KioskSide]:
    side = KioskSide(tmp_path / "kiosk.sqlite")
    side.write(cash_payment("s1", "100200302", [2000, 500]))
    yield side
    side.close()


def _hub(db_url: str, tmp_path: Path, cis: SlowCis, lookup: bool) -> HubHarness:
    return HubHarness(
        db_url,
        tmp_path,
        adapter="http",
        http_url=f"{cis.base}/payments",
        http_lookup_url=f"{cis.base}/payments/{{payment_id}}" if lookup else None,
        http_timeout_s=TIMEOUT_S,
        http_backoff_s=0,
        http_tries=3,
    )


@pytest.mark.parametrize("lookup", [True, False], ids=["lookup", "idempotency-key"])
def test_a_payment_whose_answer_timed_out_is_booked_once_with_its_reference(
    db_url: str, tmp_path: Path, kiosk: KioskSide, lookup: bool
) -> None:
    cis = SlowCis(book_before_stall=True)
    hub = _hub(db_url, tmp_path, cis, lookup)
    try:
        hub.push(hub.enroll(), kiosk.wire())
        [posting] = hub.admin("/v1/postings")
        assert (posting["status"], posting["reference"]) == ("posted", "CIS-0001")
        assert cis.booked == {"P-s1": "CIS-0001"}
        if lookup:  # asked, found it, did not send it again
            assert (cis.posts, cis.lookups) == (["P-s1"], ["P-s1"])
        else:  # sent again under the same key; the billing system knew it
            assert (cis.posts, cis.lookups) == (["P-s1", "P-s1"], [])
    finally:
        hub.close()
        cis.close()


def test_a_payment_the_billing_system_never_got_is_sent_again_after_asking(
    db_url: str, tmp_path: Path, kiosk: KioskSide
) -> None:
    cis = SlowCis(book_before_stall=False)
    hub = _hub(db_url, tmp_path, cis, lookup=True)
    try:
        hub.push(hub.enroll(), kiosk.wire())
        [posting] = hub.admin("/v1/postings")
        assert (posting["status"], posting["reference"]) == ("posted", "CIS-0001")
        assert cis.lookups == ["P-s1"] and cis.posts == ["P-s1", "P-s1"]
        assert cis.booked == {"P-s1": "CIS-0001"}
    finally:
        hub.close()
        cis.close()


def test_a_look_up_url_needs_the_payment_id(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from hub.settings import PostingSettings

    with pytest.raises(ValidationError, match=r"with \{payment_id\} in it"):
        PostingSettings(
            adapter="http", http_url="http://cis/p", http_lookup_url="http://cis/lookup"
        )


def test_a_payment_is_not_sent_blind_when_the_look_up_fails(
    db_url: str, tmp_path: Path, kiosk: KioskSide
) -> None:
    cis = SlowCis(book_before_stall=False)
    cis.lookup_broken = True
    hub = _hub(db_url, tmp_path, cis, lookup=True)
    try:
        hub.push(hub.enroll(), kiosk.wire())
        [posting] = hub.admin("/v1/postings")
        assert posting["status"] == "failed"
        assert "gave HTTP 503; not sent again blind" in posting["last_error"]
        assert cis.posts == ["P-s1"] and cis.booked == {}
    finally:
        hub.close()
        cis.close()
