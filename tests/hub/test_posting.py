"""Posting to the CIS: each payment exactly once, through every adapter."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from hub import accounts, demo
from hub.cli import main
from hub.posting import LedgerAdapter, PaymentToPost, Poster, PostingError
from hub.posting.csv_file import COLUMNS
from tests.hub.harness import HubHarness, KioskSide, post_from_two_processes
from tests.store.builders import card_payment, cash_payment


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[KioskSide]:
    side = KioskSide(tmp_path / "kiosk.sqlite")
    side.write(cash_payment("s1", "100200302", [2000, 500]))
    side.write(card_payment("s2", "100200419", 12950, 324))
    yield side
    side.close()


def _seed(hub: HubHarness) -> None:
    accounts.import_accounts(hub.ctx.db, demo.demo_csv(), hub.clock(), hub.clock().date())


def _balances(hub: HubHarness) -> dict[str, int]:
    return {a.number: a.balance_cents for a in accounts.snapshot(hub.ctx.db).accounts}


def _statuses(hub: HubHarness) -> dict[str, tuple[str, int]]:
    return {p["payment_id"]: (p["status"], p["attempts"]) for p in hub.admin("/v1/postings")}


# ---------------------------------------------------------------------------- ledger


def test_the_ledger_takes_each_payment_off_once(hub: HubHarness, kiosk: KioskSide) -> None:
    _seed(hub)
    creds = hub.enroll()
    version = accounts.snapshot(hub.ctx.db).version
    assert hub.push(creds, kiosk.wire()).status_code == 200
    assert hub.push(creds, kiosk.wire()).status_code == 200  # the same batch again
    hub.ctx.poster.run(include_waiting=True)
    assert main(["--db", hub.db_url, "post"]) == 0
    assert _balances(hub) == {"100200302": 4317 - 2500, "100200419": 0, "100200526": 2875}
    assert _statuses(hub) == {"P-s1": ("posted", 1), "P-s2": ("posted", 1)}
    changed = hub.signed("GET", f"/v1/accounts/delta?since={version}", creds).json()
    assert {a["number"]: a["balance_cents"] for a in changed["accounts"]} == {
        "100200302": 1817,
        "100200419": 0,
    }


def test_a_payment_to_an_unknown_account_goes_to_suspense_and_posts_later(
    hub: HubHarness, kiosk: KioskSide, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = hub.enroll()
    hub.push(creds, kiosk.wire())
    held = hub.admin("/v1/postings?status=suspense")
    assert {p["payment_id"] for p in held} == {"P-s1", "P-s2"}
    assert "account 100200302 is not in the hub's accounts" in held[0]["last_error"]
    assert hub.admin("/v1/postings?status=posted") == []
    assert hub.ctx.poster.run().posted == [], "the background loop leaves suspense alone"
    assert main(["--db", hub.db_url, "post"]) == 1  # a staff member's run tries them again
    assert "failed P-s1: account 100200302" in capsys.readouterr().out
    _seed(hub)
    assert main(["--db", hub.db_url, "post"]) == 0
    assert "2 posted, 0 failed" in capsys.readouterr().out
    assert _statuses(hub) == {"P-s1": ("posted", 3), "P-s2": ("posted", 3)}


class BillingSystemDown(LedgerAdapter):
    """The ledger behind a billing system that refuses every delivery until it is back."""

    down = True

    def deliver(self, payment: PaymentToPost, reference: str | None) -> None:
        if self.down:
            raise PostingError("billing system unavailable")


def test_failed_postings_wait_for_their_backoff(hub: HubHarness, kiosk: KioskSide) -> None:
    _seed(hub)
    adapter = BillingSystemDown()
    poster = Poster(hub.ctx.db, adapter, hub.clock)
    hub.ctx.poster = poster
    creds = hub.enroll()
    hub.push(creds, kiosk.wire())  # posted on arrival: refused
    assert _statuses(hub) == {"P-s1": ("failed", 1), "P-s2": ("failed", 1)}
    assert poster.due() == []  # failed 0 s ago: not due for 30 s
    adapter.down = False
    hub.clock.advance(seconds=31)
    assert sorted(poster.run().posted) == ["P-s1", "P-s2"]


@pytest.fixture
def quiet_hub(db_url: str, tmp_path: Path) -> Iterator[HubHarness]:
    """A hub that does not post right after a push: the backlog is left to the posters."""
    harness = HubHarness(db_url, tmp_path, on_ingest=False)
    yield harness
    harness.close()


def test_two_posters_at_once_post_each_payment_once(quiet_hub: HubHarness, tmp_path: Path) -> None:
    """Two hub processes (two engines) working the same backlog at the same time."""
    hub = quiet_hub
    _seed(hub)
    creds = hub.enroll()
    side = KioskSide(tmp_path / "backlog.sqlite")
    for n in range(25):
        side.write(cash_payment(f"s{n}", "100200302", [100]))
    assert hub.push(creds, side.wire()).status_code == 200
    reports = post_from_two_processes(hub)
    posted = [pid for report in reports for pid in report.posted]
    assert sorted(posted) == sorted(f"P-s{n}" for n in range(25))
    assert _balances(hub)["100200302"] == 4317 - 25 * 100
    assert {s for s, _ in _statuses(hub).values()} == {"posted"}
    side.close()


def test_a_claim_held_by_a_dead_process_is_taken_over_after_its_lease(
    quiet_hub: HubHarness, kiosk: KioskSide
) -> None:
    hub = quiet_hub
    _seed(hub)
    creds = hub.enroll()
    hub.push(creds, kiosk.wire())
    dead = Poster(hub.ctx.db, hub.ctx.poster.adapter, hub.clock, timedelta(minutes=5))
    assert dead._claim("P-s1") is not None  # claimed, then the process died
    assert hub.ctx.poster.post_one("P-s1") == ("skipped", "")
    hub.clock.advance(minutes=6)
    assert hub.ctx.poster.post_one("P-s1") == ("posted", "")
    assert _balances(hub)["100200302"] == 4317 - 2500


# ------------------------------------------------------------------------------- CSV


@pytest.fixture
def csv_hub(db_url: str, tmp_path: Path) -> Iterator[HubHarness]:
    harness = HubHarness(db_url, tmp_path, adapter="csv", csv_dir=tmp_path / "cis")
    yield harness
    harness.close()


def test_the_csv_file_has_each_payment_once(csv_hub: HubHarness, kiosk: KioskSide) -> None:
    hub = csv_hub
    creds = hub.enroll()
    hub.push(creds, kiosk.wire())
    hub.push(creds, kiosk.wire())
    hub.ctx.poster.run(include_waiting=True)
    path = hub.tmp_path / "cis" / "payments-2025-03-04.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
    assert tuple(rows[0]) == COLUMNS
    assert [(r["payment_id"], r["amount_cents"], r["amount"]) for r in rows] == [
        ("P-s1", "2500", "25.00"),
        ("P-s2", "12950", "129.50"),
    ]
    assert rows[1]["card_last4"] == "4242" and rows[1]["fee_cents"] == "324"
    assert rows[0]["effective_date"] == "2025-03-01" and rows[0]["review"] == "0"
    assert {p["reference"] for p in hub.admin("/v1/postings")} == {"payments-2025-03-04.csv"}
    # a crash after writing but before marking posted: delivering again adds nothing
    payment = next(iter(rows))
    adapter = hub.ctx.poster.adapter
    from hub.posting.poster import _to_post

    with hub.ctx.db.read() as conn:
        from sqlalchemy import select

        from hub.models import Payment

        row = conn.execute(
            select(Payment.__table__).where(Payment.payment_id == payment["payment_id"])
        ).one()
    adapter.deliver(_to_post(row._mapping), "payments-2025-03-04.csv")
    assert len(list(csv.DictReader(path.open(encoding="utf-8", newline="")))) == 2
    assert not [p for p in (hub.tmp_path / "cis").iterdir() if p.name.startswith(".payments-")]


def test_the_csv_adapter_reports_an_unwritable_directory(
    db_url: str, tmp_path: Path, kiosk: KioskSide
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    hub = HubHarness(db_url, tmp_path, adapter="csv", csv_dir=blocker)
    try:
        creds = hub.enroll()
        hub.push(creds, kiosk.wire())
        failed = hub.admin("/v1/postings?status=failed")
        assert len(failed) == 2 and "could not write" in failed[0]["last_error"]
    finally:
        hub.close()


# ------------------------------------------------------------------------------ HTTP


class FakeCis:
    """A CIS endpoint on 127.0.0.1: fails the first ``failures`` tries of each payment."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.tries: dict[str, int] = {}
        self.accepted: list[dict[str, Any]] = []
        self.keys: list[str] = []
        cis = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                pid = body["payment_id"]
                cis.tries[pid] = cis.tries.get(pid, 0) + 1
                if cis.tries[pid] <= cis.failures:
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"database busy")
                    return
                cis.accepted.append(body)
                cis.keys.append(self.headers["Idempotency-Key"])
                self.send_response(201)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/payments"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cis() -> Iterator[FakeCis]:
    server = FakeCis(failures=1)
    yield server
    server.close()


def test_the_http_adapter_retries_after_a_500_and_posts_once(
    db_url: str, tmp_path: Path, kiosk: KioskSide, cis: FakeCis
) -> None:
    hub = HubHarness(db_url, tmp_path, adapter="http", http_url=cis.url, http_backoff_s=0)
    try:
        creds = hub.enroll()
        hub.push(creds, kiosk.wire())
        hub.push(creds, kiosk.wire())
        hub.ctx.poster.run(include_waiting=True)
        assert cis.tries == {"P-s1": 2, "P-s2": 2}
        assert [p["payment_id"] for p in cis.accepted] == ["P-s1", "P-s2"]
        assert cis.keys == ["P-s1", "P-s2"]
        assert cis.accepted[1]["amount_cents"] == 12950 and cis.accepted[1]["card_last4"] == "4242"
        assert cis.accepted[0]["effective_date"] == "2025-03-01"
        assert _statuses(hub) == {"P-s1": ("posted", 1), "P-s2": ("posted", 1)}
    finally:
        hub.close()


def test_an_http_posting_that_keeps_failing_is_retried_by_the_post_command(
    db_url: str, tmp_path: Path, kiosk: KioskSide, cis: FakeCis
) -> None:
    cis.failures = 3
    hub = HubHarness(
        db_url, tmp_path, adapter="http", http_url=cis.url, http_backoff_s=0, http_tries=2
    )
    try:
        creds = hub.enroll()
        hub.push(creds, kiosk.wire())
        failed = hub.admin("/v1/postings?status=failed")
        assert len(failed) == 2 and "HTTP 500: database busy" in failed[0]["last_error"]
        assert cis.accepted == []
        args = ["--db", hub.db_url, "post", "--posting", "http", "--http-url", cis.url]
        assert main(args) == 0  # third try of each succeeds
        assert [p["payment_id"] for p in cis.accepted] == ["P-s1", "P-s2"]
        assert main(args) == 0
        assert len(cis.accepted) == 2
        assert _statuses(hub) == {"P-s1": ("posted", 2), "P-s2": ("posted", 2)}
    finally:
        hub.close()


def test_payments_stored_before_a_conflict_are_posted(hub: HubHarness, kiosk: KioskSide) -> None:
    _seed(hub)
    creds = hub.enroll()
    entries = kiosk.wire()
    last = entries[-1]
    edited = last.model_copy(update={"payload": {**last.payload, "outcome": "cancelled"}})
    response = hub.push(creds, [*entries[:-1], edited])
    assert response.status_code == 409 and response.json()["expected_seq"] == last.seq
    assert _statuses(hub) == {"P-s1": ("posted", 1), "P-s2": ("posted", 1)}
